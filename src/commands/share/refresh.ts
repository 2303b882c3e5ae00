import { Args, Flags } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import type { Progress } from '../../cli/progress-model.js';
import { refreshView } from '../../cli/share-view.js';
import { errorFromWire } from '../../errors.js';
import type { ShareRefreshStatus } from '../../rpc/api.js';

export default class ShareRefresh extends SgwCommand {
  static override summary = 'List the bucket of a share again, so that objects other clients changed show at once.';
  static override description = `Without --folder the whole share is listed again as it is browsed; with it, those folders are listed now (and with --recursive everything below them). Without a refresh, the share trusts its listings for its cache stale timeout (0: until sgwd restarts or the share changes).

As AWS's RefreshCache, the refresh runs in the background: the command says it started, and sgw share describe shows how the latest one ended. With --wait the command shows its progress and returns when it is done (exit 1 if it failed). Asking again for a refresh still running joins it; at most two different refreshes of a share run at a time.`;
  static override examples = ['<%= config.bin %> share refresh team', '<%= config.bin %> share refresh team --folder /reports --folder /inbox --recursive --wait'];
  static override args = { share: Args.string({ description: 'share name or ID', required: true }) };
  static override flags = {
    folder: Flags.string({ description: 'a folder of the share to list again now (repeatable)', multiple: true }),
    recursive: Flags.boolean({ description: 'also every folder below each --folder', dependsOn: ['folder'] }),
    wait: Flags.boolean({ description: 'wait until the refresh is done, showing its progress' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ShareRefresh);
    const result = await this.call(flags, 'share.refresh', { share: args.share, ...(flags.folder ? { folders: flags.folder } : {}), ...(flags.recursive ? { recursive: true } : {}) });
    if (flags.wait) {
      const { shareId, refreshId } = result.refresh;
      result.refresh = await this.follow(flags, result.refresh, (r) => r.running,
        () => this.call(flags, 'share.refresh.status', { share: shareId, refreshId }), (r) => refreshProgress(args.share, r), 'stderr');
      if (result.refresh.error) throw errorFromWire(result.refresh.error);
    }
    await this.show(flags, result, (r) => refreshView(r.refresh, r.refresh.running ? 'Refresh started' : 'Refresh'));
  }
}

function refreshProgress(share: string, r: ShareRefreshStatus): Progress {
  const label = `refreshing ${share}`;
  return r.folders.length === 0 ? { label } : { label, done: r.foldersDone, total: r.folders.length, unit: 'items' };
}
