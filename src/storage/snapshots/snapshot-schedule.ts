import { CronExpressionParser, type CronExpression } from 'cron-parser';
import { BugError, UsageError } from '../../errors.js';

/**
 * When a volume's scheduled snapshots come due. `interval` is AWS Storage Gateway's UpdateSnapshotSchedule: a run at
 * `startAt` o'clock and every `everyHours` after it, wall-clock time in the gateway's timezone; `cron` is any
 * expression cron-parser reads, in that timezone too.
 */
export type SnapshotSchedule =
  | { kind: 'interval'; startAt: number; everyHours: 1 | 2 | 4 | 8 | 12 | 24 }
  | { kind: 'cron'; expression: string };

const EVERY_HOURS = [1, 2, 4, 8, 12, 24] as const;
type EveryHours = (typeof EVERY_HOURS)[number];

/** The schedule that `sgw snapshot schedule` flags ask for; a new volume's default is daily from its creation hour. */
export function parseSchedule(
  input: { startAt?: number; everyHours?: number; cron?: string },
  defaults: { createdAt: Date; timezone: string },
): SnapshotSchedule {
  if (input.cron !== undefined) {
    if (input.startAt !== undefined || input.everyHours !== undefined) {
      invalid('--cron cannot be combined with --start-at or --every: give either a cron expression or an hourly schedule');
    }
    const schedule: SnapshotSchedule = { kind: 'cron', expression: input.cron.trim() };
    try {
      checkFieldCount(schedule.expression);
      // Some expressions only fail once iterated (no date ever matches): better here than in the scheduler later.
      nextRun(schedule, defaults.createdAt, defaults.timezone);
    } catch (err) {
      invalid(`--cron "${input.cron}" is not a cron expression: ${err instanceof Error ? err.message : String(err)}`);
    }
    return schedule;
  }
  const startAt = input.startAt ?? hourIn(defaults.createdAt, defaults.timezone);
  if (!Number.isInteger(startAt) || startAt < 0 || startAt > 23) invalid(`--start-at is an hour from 0 to 23, not ${startAt}`);
  const everyHours = input.everyHours ?? 24;
  if (!isEveryHours(everyHours)) invalid(`--every must be one of ${EVERY_HOURS.join(', ')} hours, not ${everyHours}`);
  return { kind: 'interval', startAt, everyHours };
}

/** The first run strictly after `after`. */
export function nextRun(schedule: SnapshotSchedule, after: Date, timezone: string): Date {
  return runsAfter(schedule, after, timezone).next().toDate();
}

/**
 * The latest run in (lastRunAt, now]: the one run a gateway that was down makes when it starts again, however many
 * it missed. Walks forward with next() because cron-parser's prev() disagrees with next() across daylight saving
 * changes (it sees both 02:00s of a repeated hour and misses a run moved out of a skipped one); the window before
 * `now` doubles until it holds a run or reaches lastRunAt, so a frequent schedule after a long outage stays cheap.
 */
export function missedRun(schedule: SnapshotSchedule, lastRunAt: Date, now: Date, timezone: string): Date | undefined {
  for (let window = 60_000; ; window *= 2) {
    const from = Math.max(lastRunAt.getTime(), now.getTime() - window);
    const runs = runsAfter(schedule, new Date(from), timezone);
    let latest: Date | undefined;
    for (let run = runs.next().toDate(); run <= now; run = runs.next().toDate()) latest = run;
    if (latest !== undefined || from === lastRunAt.getTime()) return latest;
  }
}

/** One line for `sgw snapshot schedule`. */
export function describeSchedule(schedule: SnapshotSchedule): string {
  return schedule.kind === 'interval'
    ? `every ${schedule.everyHours} h from ${String(schedule.startAt).padStart(2, '0')}:00`
    : `cron ${schedule.expression}`;
}

/**
 * Both kinds go through cron-parser so that daylight saving changes are handled one way: an interval schedule is the
 * daily list of its hours. The expression is its own hash seed so that an `H` field picks the same minute every time
 * it is read, across restarts too.
 */
function runsAfter(schedule: SnapshotSchedule, after: Date, timezone: string): CronExpression {
  const expression = schedule.kind === 'cron' ? schedule.expression : `0 ${hoursOf(schedule).join(',')} * * *`;
  return CronExpressionParser.parse(expression, { currentDate: after, tz: timezone, hashSeed: expression });
}

/**
 * cron-parser reads a short expression as its last fields, so "0 3" would be a month and a weekday, and
 * an empty one as every minute: a slip of the keyboard must not become a different schedule.
 */
function checkFieldCount(expression: string): void {
  const fields = expression === '' ? 0 : expression.split(/\s+/).length;
  if (fields === 5 || fields === 6 || (fields === 1 && expression.startsWith('@'))) return;
  throw new Error(`it has ${fields} field${fields === 1 ? '' : 's'}; give 5 (minute hour day-of-month month day-of-week), or 6 with seconds first`);
}

function hoursOf({ startAt, everyHours }: { startAt: number; everyHours: EveryHours }): number[] {
  return Array.from({ length: 24 / everyHours }, (_, i) => (startAt + i * everyHours) % 24).sort((a, b) => a - b);
}

function hourIn(when: Date, timezone: string): number {
  const hour = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hour: 'numeric', hourCycle: 'h23' })
    .formatToParts(when)
    .find((p) => p.type === 'hour');
  if (hour === undefined) throw new BugError(`Intl gave no hour for ${when.toISOString()} in ${timezone}`);
  return Number(hour.value);
}

function isEveryHours(n: number): n is EveryHours {
  return (EVERY_HOURS as readonly number[]).includes(n);
}

function invalid(message: string): never {
  throw new UsageError(message, 'SGW_INVALID_ARGUMENT');
}
