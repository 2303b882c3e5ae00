import { Args } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { fields } from '../../cli/view.js';

export default class ShareRefresh extends SgwCommand {
  static override summary = 'List the bucket of a share again, so that objects other clients changed show at once.';
  static override description = 'Without it, the share trusts its listings for its cache stale timeout (0: until sgwd restarts or the share changes).';
  static override examples = ['<%= config.bin %> share refresh team'];
  static override args = { share: Args.string({ description: 'share name or ID', required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ShareRefresh);
    const result = await this.call(flags, 'share.refresh', { share: args.share });
    await this.show(flags, result, (r) => [fields(undefined, [['Refreshed', r.refreshed]])]);
  }
}
