import { UsageError } from '../errors.js';
import { formatSize } from '../sizes.js';

/** AWS Storage Gateway refuses upload limits below 50 KiB/s; sgw keeps the same floor so settings carry over. */
const MIN_UPLOAD_BYTES_PER_SECOND = 51_200;
const MAX_SCHEDULE_INTERVALS = 20;

/** One entry of a weekly schedule; the end minute is inclusive, so 23:59 runs to midnight. No rate means unlimited. */
export interface BandwidthInterval {
  /** 0 = Sunday .. 6 = Saturday. */
  daysOfWeek: number[];
  startHourOfDay: number;
  startMinuteOfHour: number;
  endHourOfDay: number;
  endMinuteOfHour: number;
  uploadBytesPerSecond?: number;
}

/** The rate outside every interval is `uploadBytesPerSecond`; undefined means unlimited. */
export interface BandwidthSettings {
  uploadBytesPerSecond?: number;
  schedule?: BandwidthInterval[];
  /** IANA name; the schedule is wall-clock time there, daylight saving included. */
  timezone: string;
}

const DAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

/** Throws a UsageError (SGW_INVALID_ARGUMENT) naming the first thing wrong with `s`. */
export function validateBandwidthSettings(s: BandwidthSettings): void {
  formatterFor(s.timezone);
  checkRate(s.uploadBytesPerSecond, 'the upload rate limit');
  const schedule = s.schedule ?? [];
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

/** The upload limit in force at `when` (undefined: unlimited). */
export function rateAt(s: BandwidthSettings, when: Date): number | undefined {
  const { day, minute } = wallClock(s.timezone, when);
  const interval = s.schedule?.find((i) => i.daysOfWeek.includes(day) && startMinute(i) <= minute && minute <= endMinute(i));
  return interval ? interval.uploadBytesPerSecond : s.uploadBytesPerSecond;
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
  checkRate(interval.uploadBytesPerSecond, `${what}: the upload rate limit`);
}

function checkClock(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) invalid(`${what} must be a whole number from 0 to ${max}, not ${value}`);
}

function checkRate(rate: number | undefined, what: string): void {
  if (rate === undefined) return;
  if (!Number.isSafeInteger(rate) || rate < MIN_UPLOAD_BYTES_PER_SECOND) {
    invalid(`${what} must be a whole number of at least ${MIN_UPLOAD_BYTES_PER_SECOND} bytes/s (${formatSize(MIN_UPLOAD_BYTES_PER_SECOND)}/s), not ${rate}; leave it out for no limit`);
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
