import { Flags } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { fields } from '../../cli/view.js';
import { SgwError } from '../../errors.js';
import type { DrainStatus } from '../../rpc/api.js';
import { formatSize } from '../../sizes.js';

const STOP_TIMEOUT_MS = 120_000;

export default class GatewayStop extends SgwCommand {
  static override summary = 'Stop sgwd, first uploading everything written (as a planned shutdown should).';
  static override description = 'The drain uploads every dirty volume chunk and share file at once, without waiting for settle times, and shows what is left until nothing is. Then sgwd stops as on SIGTERM: running requests finish, iSCSI and NFS clients are disconnected. With --no-drain it stops at once; nothing acknowledged is lost either way, the rest is uploaded after the next start. Tapes on their way to the archive carry on after the next start.';
  static override examples = ['<%= config.bin %> gateway stop', '<%= config.bin %> gateway stop --no-drain'];
  static override flags = {
    drain: Flags.boolean({ description: 'upload everything before stopping', default: true, allowNo: true }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(GatewayStop);
    let drained: DrainStatus | undefined;
    if (flags.drain) {
      drained = await this.follow(flags, await this.call(flags, 'gateway.drain', {}), (s) => !s.drained, () => this.call(flags, 'gateway.drain.status', {}), drainText);
    }
    const { pid } = await this.call(flags, 'gateway.stop', {});
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (await this.call(flags, 'ping', {}).then(() => true, () => false)) {
      if (Date.now() > deadline) throw new SgwError('SGW_SHUTTING_DOWN', `sgwd (pid ${pid}) is still stopping after ${STOP_TIMEOUT_MS / 1000} s; see its log`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await this.show(flags, { stopped: true, pid, drained: drained?.drained ?? false }, (r) => [fields(undefined, [['Stopped', `sgwd (pid ${r.pid})`], ['Drained', r.drained ? 'yes' : 'no']])]);
  }
}

function drainText(s: DrainStatus): string {
  const q = s.queue;
  return `uploading: ${formatSize(q.volumeBytes)} of volumes, ${q.shareFiles} files (${formatSize(q.shareBytes)}) of shares`;
}
