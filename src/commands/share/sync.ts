import { Args, Flags } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import type { Progress } from '../../cli/progress-model.js';
import { fields } from '../../cli/view.js';
import type { ShareSyncResult } from '../../rpc/api.js';

export default class ShareSync extends SgwCommand {
  static override summary = 'Show what a share has not uploaded yet, or with --wait, wait until it is all in the bucket.';
  static override description = 'With --wait it returns once everything written to the share before the command is in the bucket (AWS NotifyWhenUploaded), uploading files at once instead of after their settle time, and shows the upload\'s progress meanwhile.';
  static override examples = ['<%= config.bin %> share sync team --wait'];
  static override args = { share: Args.string({ description: 'share name or ID', required: true }) };
  static override flags = { wait: Flags.boolean({ description: 'wait until everything written before is uploaded' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ShareSync);
    const backlog = () => this.call(flags, 'share.sync', { share: args.share });
    let result: ShareSyncResult;
    if (flags.wait) {
      // sgwd answers the waiting call once the upload is done; what is left meanwhile is asked for alongside it,
      // and once the wait is over its answer (or failure) is the last state.
      let finished = false;
      const synced = this.call(flags, 'share.sync', { share: args.share, wait: true }).finally(() => (finished = true));
      synced.catch(() => undefined);
      await this.follow(flags, await backlog(), () => !finished, async () => {
        const left = await backlog();
        return finished ? synced : left;
      }, uploadProgress(args.share), 'stderr');
      result = await synced;
    } else {
      result = await backlog();
    }
    await this.show(flags, result, (r) => [fields(undefined, [['Share', r.shareId], ['Files to upload', String(r.pendingFiles)], ['Bytes to upload', String(r.pendingBytes)]])]);
  }
}

/** The most ever left to upload stands for the total, so that files written meanwhile only lengthen the bar. */
function uploadProgress(share: string): (r: ShareSyncResult) => Progress {
  let total = 0;
  return (r) => {
    total = Math.max(total, r.pendingBytes);
    return { label: `uploading ${share}`, done: total - r.pendingBytes, total, unit: 'bytes' };
  };
}
