import { Args, Flags } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { fields } from '../../cli/view.js';

export default class ShareDelete extends SgwCommand {
  static override summary = 'Delete a file share once its uploads are done; the objects in the bucket stay.';
  static override description = 'With --force the share goes at once and files not uploaded yet are lost.';
  static override examples = ['<%= config.bin %> share delete photos'];
  static override args = { share: Args.string({ description: 'share name or ID', required: true }) };
  static override flags = { force: Flags.boolean({ description: 'delete at once, dropping uploads not done yet' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ShareDelete);
    const result = await this.call(flags, 'share.delete', { share: args.share, force: flags.force });
    await this.show(flags, result, (r) => [fields(undefined, [['Deleted', r.deleted]])]);
  }
}
