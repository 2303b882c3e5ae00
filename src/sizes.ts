import { UsageError } from './errors.js';

/**
 * Sizes as people type them: `500GiB`, `2TiB`, `100G`, `1.5TiB`, `4096`. Single-letter units are binary, as in
 * rclone and tgt (`100G` = 100 GiB); `KB`/`MB`/`GB`/`TB`/`PB` are decimal. Bare numbers are bytes.
 */
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 2 ** 10, kib: 2 ** 10, kb: 1e3,
  m: 2 ** 20, mib: 2 ** 20, mb: 1e6,
  g: 2 ** 30, gib: 2 ** 30, gb: 1e9,
  t: 2 ** 40, tib: 2 ** 40, tb: 1e12,
  p: 2 ** 50, pib: 2 ** 50, pb: 1e15,
};

const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i;

export function parseSize(text: string): number {
  const match = SIZE_PATTERN.exec(text);
  if (!match) {
    throw new UsageError(`"${text}" is not a size: write a positive number with an optional unit, e.g. 500GiB, 2TiB, 100G`, 'SGW_INVALID_SIZE');
  }
  const [, amount = '', unitText = ''] = match;
  const unit = UNITS[unitText.toLowerCase()];
  if (unit === undefined) {
    throw new UsageError(`"${unitText}" is not a size unit: use B, KiB, MiB, GiB, TiB or PiB (or K, M, G, T, P)`, 'SGW_INVALID_SIZE');
  }
  const bytes = Math.round(Number(amount) * unit);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`${text} is too large`, 'SGW_INVALID_SIZE');
  if (bytes === 0) throw new UsageError(`a size must be greater than zero, not "${text}"`, 'SGW_INVALID_SIZE');
  return bytes;
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** The shortest exact-enough binary form: `500 GiB`, `1.5 TiB`, `4096 B` stays `4 KiB`. */
export function formatSize(bytes: number): string {
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < BINARY_UNITS.length - 1) {
    value /= 1024;
    i++;
  }
  const shown = Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1);
  return `${shown} ${BINARY_UNITS[i]}`;
}
