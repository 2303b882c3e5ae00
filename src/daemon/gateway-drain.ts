import type { DrainStatus } from '../rpc/api.js';
import type { DaemonContext } from './context.js';
import { metricsSnapshot } from './metrics/metrics-snapshot.js';

const VOLUME_DRAIN_TIMEOUT_MS = 24 * 3600_000;

/**
 * Before a planned stop: everything written is uploaded at once instead of after its settle time, and each call
 * says what is still to go. Tapes on their way to the archive do not hold a stop up: their logs stay on disk and
 * the archiver picks them up at the next start.
 */
export class GatewayDrain {
  private volumes: Promise<void> | undefined;
  private readonly shares = new Set<string>();

  constructor(private readonly ctx: DaemonContext) {}

  async status(): Promise<DrainStatus> {
    const { uploadQueue } = await metricsSnapshot(this.ctx);
    this.hurryVolumes();
    for (const share of this.ctx.shares.list()) this.hurryShare(share.shareId);
    return { drained: uploadQueue.volumeBytes === 0 && uploadQueue.shareFiles === 0 && uploadQueue.shareBytes === 0, queue: uploadQueue };
  }

  private hurryVolumes(): void {
    const engine = this.ctx.engines.openedVolumes;
    if (!engine || this.volumes) return;
    this.volumes = engine.drained(VOLUME_DRAIN_TIMEOUT_MS)
      .catch((err: unknown) => this.ctx.log.warn({ err }, 'volume uploads did not drain'))
      .finally(() => (this.volumes = undefined));
  }

  private hurryShare(shareId: string): void {
    if (this.shares.has(shareId)) return;
    this.shares.add(shareId);
    this.ctx.shares.sync(shareId)
      .catch((err: unknown) => this.ctx.log.warn({ err, shareId }, 'share uploads did not drain'))
      .finally(() => this.shares.delete(shareId));
  }
}
