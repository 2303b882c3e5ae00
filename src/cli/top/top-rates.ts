import type { MetricsSnapshot } from '../../rpc/api.js';

/** Bytes per second over the time between two snapshots. */
export interface Throughput {
  read: number;
  write: number;
}

export interface GatewayRates {
  client: Throughput;
  cloud: { up: number; down: number };
  /** By resource kind and id, e.g. `volume:vol-…`; a resource new in the later snapshot counts from zero. */
  resources: Map<string, Throughput>;
}

export const resourceKey = (r: { kind: string; id: string }): string => `${r.kind}:${r.id}`;

/**
 * Rates from the counters of two snapshots. A counter that went down means the daemon restarted in between: its
 * rate is taken from zero, not reported as negative.
 */
export function ratesBetween(before: MetricsSnapshot, after: MetricsSnapshot): GatewayRates {
  const seconds = Math.max((Date.parse(after.at) - Date.parse(before.at)) / 1000, 0.001);
  const rate = (from: number, to: number): number => (to >= from ? to - from : to) / seconds;
  const earlier = new Map(before.resources.map((r) => [resourceKey(r), r.io]));
  const resources = new Map<string, Throughput>();
  for (const r of after.resources) {
    const io = earlier.get(resourceKey(r));
    resources.set(resourceKey(r), { read: rate(io?.readBytes ?? 0, r.io.readBytes), write: rate(io?.writeBytes ?? 0, r.io.writeBytes) });
  }
  return {
    client: { read: rate(before.gateway.io.readBytes, after.gateway.io.readBytes), write: rate(before.gateway.io.writeBytes, after.gateway.io.writeBytes) },
    cloud: { up: rate(before.gateway.cloud.bytesUploaded, after.gateway.cloud.bytesUploaded), down: rate(before.gateway.cloud.bytesDownloaded, after.gateway.cloud.bytesDownloaded) },
    resources,
  };
}

/** The last `size` values of each chart series, oldest first, padded with zeros so a chart starts full width. */
export class RateHistory {
  private readonly series = new Map<string, number[]>();

  constructor(private readonly size: number) {}

  push(name: string, value: number): void {
    const values = this.values(name);
    values.push(value);
    values.splice(0, values.length - this.size);
    this.series.set(name, values);
  }

  values(name: string): number[] {
    return this.series.get(name) ?? new Array<number>(this.size).fill(0);
  }
}
