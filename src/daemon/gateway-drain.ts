import type { DrainStatus } from '../rpc/api.js';
import type { DaemonContext } from './context.js';
import { metricsSnapshot } from './metrics/metrics-snapshot.js';

const VOLUME_DRAIN_TIMEOUT_MS = 24 * 3600_000;

/** How often a drain under way hurries what was written since. */
const HURRY_INTERVAL_MS = 1000;

/**
 * Before a planned stop: everything written is uploaded at once instead of after its settle time, again and again
 * until nothing is left (clients may still write meanwhile). Tapes on their way to the archive do not hold a stop
 * up: their logs stay on disk and the archiver picks them up at the next start.
 */
export class GatewayDrain {
  private running: Promise<void> | undefined;
  private volumes: Promise<void> | undefined;
  private readonly shares = new Set<string>();

  constructor(private readonly ctx: DaemonContext) {}

  /** Starts the drain, unless one runs, and says what is still to go. */
  start(): Promise<DrainStatus> {
    this.running ??= this.hurryUntilDrained()
      .catch((err: unknown) => this.ctx.log.warn({ err }, 'the drain stopped'))
      .finally(() => (this.running = undefined));
    return this.status();
  }

  async status(): Promise<DrainStatus> {
    const { uploadQueue } = await metricsSnapshot(this.ctx);
    return { drained: uploadQueue.volumeBytes === 0 && uploadQueue.shareFiles === 0 && uploadQueue.shareBytes === 0, queue: uploadQueue };
  }

  private async hurryUntilDrained(): Promise<void> {
    while (!(await this.status()).drained) {
      this.hurryVolumes();
      for (const share of this.ctx.shares.list()) this.hurryShare(share.shareId);
      await new Promise((resolve) => setTimeout(resolve, HURRY_INTERVAL_MS).unref());
    }
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
