import type { BandwidthInterval, BandwidthRates, BandwidthSettings } from '../rpc/api.js';
import { UsageError } from '../errors.js';

export type { BandwidthInterval, BandwidthRates, BandwidthSettings } from '../rpc/api.js';

export type Direction = 'upload' | 'download';

/** AWS Storage Gateway's floors; sgw keeps them so that settings carry over either way. */
const MIN_BITS_PER_SECOND: Record<Direction, number> = { upload: 51_200, download: 102_400 };
const MAX_SCHEDULE_INTERVALS = 20;
const RATE_KEY = { upload: 'uploadBitsPerSecond', download: 'downloadBitsPerSecond' } as const satisfies Record<Direction, keyof BandwidthRates>;

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

/** Throws a UsageError (SGW_INVALID_ARGUMENT) naming the first thing wrong with `s`. */
export function validateBandwidthSettings(s: BandwidthSettings): void {
  formatterFor(s.timezone);
  checkRates(s.rates, 'the');
  const schedule = s.schedule;
  if (schedule.length > MAX_SCHEDULE_INTERVALS) {
    invalid(`a bandwidth schedule holds at most ${MAX_SCHEDULE_INTERVALS} intervals, not ${schedule.length}`);
  }
  schedule.forEach((interval, i) => checkInterval(interval, `bandwidth schedule interval ${i + 1}`));
  for (let i = 0; i < schedule.length; i++) {
    for (let j = i + 1; j < schedule.length; j++) {
      const a = schedule[i]!;
      const b = schedule[j]!;
      const day = a.daysOfWeek.find((d) => b.daysOfWeek.includes(d));
      if (day === undefined) continue;
      if (startMinute(a) <= endMinute(b) && startMinute(b) <= endMinute(a)) {
        invalid(`bandwidth schedule intervals ${i + 1} and ${j + 1} overlap on ${DAY_NAMES[day]}; a moment may fall in one interval only`);
      }
    }
  }
}

/** The limits in force at `when`: those of the interval it falls in, else the settings' own rates. */
export function ratesAt(s: BandwidthSettings | null, when: Date): BandwidthRates {
  if (!s) return {};
  if (s.schedule.length === 0) return s.rates;
  const { day, minute } = wallClock(s.timezone, when);
  return s.schedule.find((i) => i.daysOfWeek.includes(day) && startMinute(i) <= minute && minute <= endMinute(i)) ?? s.rates;
}

/** The limit of one direction in force at `when`, in bytes per second (undefined: unlimited). */
export function bytesPerSecondAt(s: BandwidthSettings | null, direction: Direction, when: Date): number | undefined {
  const bits = ratesAt(s, when)[RATE_KEY[direction]];
  return bits === undefined ? undefined : bits / 8;
}

function checkInterval(interval: BandwidthInterval, what: string): void {
  const days = interval.daysOfWeek;
  if (!Array.isArray(days) || days.length === 0) invalid(`${what} names no day of the week; give days 0 (Sunday) to 6 (Saturday)`);
  for (const d of days) {
    if (!Number.isInteger(d) || d < 0 || d > 6) invalid(`${what}: ${d} is not a day of the week; use 0 (Sunday) to 6 (Saturday)`);
  }
  checkClock(interval.startHourOfDay, 23, `${what}: the start hour`);
  checkClock(interval.startMinuteOfHour, 59, `${what}: the start minute`);
  checkClock(interval.endHourOfDay, 23, `${what}: the end hour`);
  checkClock(interval.endMinuteOfHour, 59, `${what}: the end minute`);
  if (startMinute(interval) > endMinute(interval)) {
    invalid(`${what} ends (${hhmm(endMinute(interval))}) before it starts (${hhmm(startMinute(interval))}); split a span across midnight into two intervals`);
  }
  if (interval.uploadBitsPerSecond === undefined && interval.downloadBitsPerSecond === undefined) invalid(`${what} sets no rate; give an upload or download limit`);
  checkRates(interval, `${what}: the`);
}

function checkClock(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) invalid(`${what} must be a whole number from 0 to ${max}, not ${value}`);
}

function checkRates(rates: BandwidthRates, what: string): void {
  for (const direction of ['upload', 'download'] as const) {
    const rate = rates[RATE_KEY[direction]];
    if (rate === undefined) continue;
    const min = MIN_BITS_PER_SECOND[direction];
    if (!Number.isSafeInteger(rate) || rate < min) {
      invalid(`${what} ${direction} rate limit must be a whole number of at least ${min} bit/s, not ${rate}; leave it out for no limit`);
    }
  }
}

function invalid(message: string): never {
  throw new UsageError(message, 'SGW_INVALID_ARGUMENT');
}

const startMinute = (i: BandwidthInterval): number => i.startHourOfDay * 60 + i.startMinuteOfHour;
const endMinute = (i: BandwidthInterval): number => i.endHourOfDay * 60 + i.endMinuteOfHour;
const hhmm = (minute: number): string => `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
/** Building a DateTimeFormat costs far more than using one, and the limiter asks on every refill. */
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timezone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timezone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    } catch {
      invalid(`"${timezone}" is not a time zone: use an IANA name such as Europe/Berlin or UTC`);
    }
    formatters.set(timezone, formatter);
  }
  return formatter;
}

function wallClock(timezone: string, when: Date): { day: number; minute: number } {
  const parts = formatterFor(timezone).formatToParts(when);
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  return { day: WEEKDAYS[part('weekday')] ?? 0, minute: Number(part('hour')) * 60 + Number(part('minute')) };
}
