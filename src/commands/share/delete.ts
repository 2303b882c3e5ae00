import { Args } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { fields } from '../../cli/view.js';

export default class ShareDelete extends SgwCommand {
  static override summary = 'Delete a file share; the objects in the bucket stay.';
  static override examples = ['<%= config.bin %> share delete photos'];
  static override args = { share: Args.string({ description: 'share name or ID', required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ShareDelete);
    const result = await this.call(flags, 'share.delete', { share: args.share });
    await this.show(flags, result, (r) => [fields(undefined, [['Deleted', r.deleted]])]);
  }
}
