import { UsageError } from '../errors.js';
import type { BandwidthInterval, BandwidthRates, BandwidthShow } from '../rpc/api.js';
import { fields, table, type View } from './view.js';

const BIT_UNITS: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9 };
const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/**
 * A rate in bits per second, as AWS counts them: a plain number is bit/s, `100Mbit` (or `100Mbit/s`) is decimal
 * bits, `10MB/s` or `8MiB/s` are bytes.
 */
export function parseRate(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)(?:\/s|ps)?$/i.exec(text.trim());
  const unit = match?.[2]?.toLowerCase() ?? '';
  const scale = unit === '' ? 1 : BIT_UNITS[unit] ?? (BYTE_UNITS[unit] === undefined ? undefined : BYTE_UNITS[unit] * 8);
  if (!match || scale === undefined) {
    throw new UsageError(`"${text}" is not a rate: give bits per second (51200, 100Mbit) or bytes per second (10MB/s, 8MiB/s)`, 'SGW_INVALID_ARGUMENT');
  }
  return Math.round(Number(match[1]) * scale);
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

/**
 * `Mon-Fri 08:00-18:00`, `Sat,Sun 00:00-24:00`, `daily 22:00-06:00` is refused (split at midnight). The end is
 * exclusive, as people write it; AWS's end minute is inclusive, so 18:00 is stored as 17:59.
 */
export function parseScheduleWindow(text: string, rates: BandwidthRates): BandwidthInterval {
  const match = /^\s*(\S+)\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$/.exec(text);
  if (!match) throw new UsageError(`schedule "${text}" is not DAYS HH:MM-HH:MM, e.g. "Mon-Fri 08:00-18:00"`, 'SGW_INVALID_ARGUMENT');
  const start = Number(match[2]) * 60 + Number(match[3]);
  const end = Number(match[4]) * 60 + Number(match[5]);
  if (Number(match[3]) > 59 || Number(match[5]) > 59 || start >= 24 * 60 || end > 24 * 60) {
    throw new UsageError(`schedule "${text}": times run from 00:00 to 24:00`, 'SGW_INVALID_ARGUMENT');
  }
  if (end <= start) throw new UsageError(`schedule "${text}" ends before it starts; split a window across midnight into two --schedule options`, 'SGW_INVALID_ARGUMENT');
  const last = end - 1;
  return {
    daysOfWeek: parseDays(match[1]!, text),
    startHourOfDay: Math.floor(start / 60), startMinuteOfHour: start % 60,
    endHourOfDay: Math.floor(last / 60), endMinuteOfHour: last % 60,
    ...rates,
  };
}

function parseDays(spec: string, text: string): number[] {
  const lower = spec.toLowerCase();
  if (lower === 'daily' || lower === '*') return [0, 1, 2, 3, 4, 5, 6];
  const days = new Set<number>();
  for (const part of lower.split(',')) {
    const [from, to] = part.split('-').map((d) => DAYS.indexOf(d.slice(0, 3)));
    if (from === undefined || from < 0 || (to !== undefined && to < 0) || part.split('-').length > 2) {
      throw new UsageError(`schedule "${text}": "${part}" is not a day or range of days (Mon, Mon-Fri, Sat,Sun, daily)`, 'SGW_INVALID_ARGUMENT');
    }
    // Fri-Mon wraps over the weekend.
    for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === (to ?? from)) break;
    }
  }
  return [...days].sort((a, b) => a - b);
}

export function formatRate(bitsPerSecond: number | undefined): string {
  if (bitsPerSecond === undefined) return 'unlimited';
  const [value, unit] = bitsPerSecond >= 1e9 ? [bitsPerSecond / 1e9, 'Gbit/s'] : bitsPerSecond >= 1e6 ? [bitsPerSecond / 1e6, 'Mbit/s'] : [bitsPerSecond / 1e3, 'kbit/s'];
  return `${Number(value.toFixed(2))} ${unit} (${formatBytes(bitsPerSecond / 8)}/s)`;
}

function formatBytes(bytes: number): string {
  const [value, unit] = bytes >= 1024 ** 2 ? [bytes / 1024 ** 2, 'MiB'] : [bytes / 1024, 'KiB'];
  return `${Number(value.toFixed(2))} ${unit}`;
}

const pad = (n: number): string => String(n).padStart(2, '0');

function windowText(i: BandwidthInterval): string {
  const end = i.endHourOfDay * 60 + i.endMinuteOfHour + 1;
  const days = i.daysOfWeek.map((d) => DAYS[d]![0]!.toUpperCase() + DAYS[d]!.slice(1)).join(',');
  return `${days} ${pad(i.startHourOfDay)}:${pad(i.startMinuteOfHour)}-${pad(Math.floor(end / 60))}:${pad(end % 60)}`;
}

export function bandwidthView(b: BandwidthShow): View {
  const s = b.settings;
  const view: View = [fields('In force now', [['Upload', formatRate(b.now.uploadBitsPerSecond)], ['Download', formatRate(b.now.downloadBitsPerSecond)]])];
  if (!s) return [...view, fields(undefined, [['Limits', 'none set']])];
  if (s.schedule.length === 0) return [...view, fields('At all times', [['Upload', formatRate(s.rates.uploadBitsPerSecond)], ['Download', formatRate(s.rates.downloadBitsPerSecond)]])];
  return [
    ...view,
    table(['Window', 'Upload', 'Download'], s.schedule.map((i) => [windowText(i), formatRate(i.uploadBitsPerSecond), formatRate(i.downloadBitsPerSecond)]), 'no windows'),
    fields(undefined, [['Outside the windows', `upload ${formatRate(s.rates.uploadBitsPerSecond)}, download ${formatRate(s.rates.downloadBitsPerSecond)}`], ['Time zone', s.timezone]]),
  ];
}
