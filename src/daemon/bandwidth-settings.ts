import type { BandwidthSettings } from '../rpc/api.js';
import type { Catalog } from '../storage/catalog/catalog.js';

/** The saved limits read in the gateway's time zone (UTC before activation); null when none are set. */
export function savedBandwidth(catalog: Catalog): BandwidthSettings | null {
  const saved = catalog.bandwidth();
  return saved ? { ...saved, timezone: catalog.gateway()?.timezone ?? 'UTC' } : null;
}
