import { Args, Flags } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { fields } from '../../cli/view.js';

export default class ShareRefresh extends SgwCommand {
  static override summary = 'List the bucket of a share again, so that objects other clients changed show at once.';
  static override description = 'Without --folder the whole share is listed again as it is browsed; with it, those folders are listed now (and with --recursive everything below them). Without a refresh, the share trusts its listings for its cache stale timeout (0: until sgwd restarts or the share changes). At most two refreshes of a share run at a time.';
  static override examples = ['<%= config.bin %> share refresh team', '<%= config.bin %> share refresh team --folder /reports --folder /inbox --recursive'];
  static override args = { share: Args.string({ description: 'share name or ID', required: true }) };
  static override flags = {
    folder: Flags.string({ description: 'a folder of the share to list again now (repeatable)', multiple: true }),
    recursive: Flags.boolean({ description: 'also every folder below each --folder', dependsOn: ['folder'] }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ShareRefresh);
    const result = await this.call(flags, 'share.refresh', { share: args.share, ...(flags.folder ? { folders: flags.folder } : {}), ...(flags.recursive ? { recursive: true } : {}) });
    await this.show(flags, result, (r) => [fields(undefined, [['Refreshed', r.refreshed]])]);
  }
}
