import { SgwError, UsageError } from '../../errors.js';
import type { VolumeRecord } from '../catalog/catalog.js';
import { formatSize } from '../../sizes.js';

/** AWS Storage Gateway's limits, so a configuration that works here also works there and back. */
export const VOLUME_LIMITS = {
  maxVolumes: 32,
  cached: { min: 2 ** 30, max: 32 * 2 ** 40, gatewayTotal: 2 ** 50 },
  stored: { min: 2 ** 30, max: 16 * 2 ** 40, gatewayTotal: 512 * 2 ** 40 },
} as const;

// The name becomes the last part of the volume's iSCSI target name.
const VOLUME_NAME = /^[a-z0-9][a-z0-9.-]{0,62}$/;

export function checkNewVolume(v: { name: string; sizeBytes: number; type: 'cached' | 'stored' }, existing: VolumeRecord[]): void {
  if (!VOLUME_NAME.test(v.name)) {
    throw new UsageError(`"${v.name}" is not a volume name: use 1-63 lowercase letters, digits, '.' and '-', starting with a letter or digit`, 'SGW_INVALID_ARGUMENT');
  }
  const limits = VOLUME_LIMITS[v.type];
  if (v.sizeBytes < limits.min || v.sizeBytes > limits.max) {
    throw new UsageError(`a ${v.type} volume holds ${formatSize(limits.min)} to ${formatSize(limits.max)}, not ${formatSize(v.sizeBytes)}`, 'SGW_INVALID_SIZE');
  }
  if (v.sizeBytes % 512 !== 0) {
    throw new UsageError(`a volume size must be a whole number of 512-byte sectors, not ${v.sizeBytes} bytes`, 'SGW_INVALID_SIZE');
  }
  if (existing.some((e) => e.name === v.name)) {
    throw new SgwError('SGW_ALREADY_EXISTS', `a volume named ${v.name} already exists; pick another name`);
  }
  if (existing.length >= VOLUME_LIMITS.maxVolumes) {
    throw new SgwError('SGW_LIMIT_EXCEEDED', `a gateway holds at most ${VOLUME_LIMITS.maxVolumes} volumes; delete one first`);
  }
  const total = existing.filter((e) => e.type === v.type).reduce((sum, e) => sum + e.sizeBytes, v.sizeBytes);
  if (total > limits.gatewayTotal) {
    throw new SgwError('SGW_LIMIT_EXCEEDED', `${v.type} volumes may total ${formatSize(limits.gatewayTotal)} per gateway; this one would make ${formatSize(total)}`);
  }
}
