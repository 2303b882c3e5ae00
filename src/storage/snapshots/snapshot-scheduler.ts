import { BugError } from '../../errors.js';
import { missedRun, nextRun, type SnapshotSchedule } from './snapshot-schedule.js';

export interface ScheduledVolume {
  volumeId: string;
  schedule: SnapshotSchedule;
  lastRunAt: Date;
}

export interface SchedulerClock {
  now(): Date;
  setTimeout(fn: () => void, ms: number): { clear(): void };
}

export interface SchedulerOptions {
  /** The gateway's timezone, read at each computation. */
  timezone: () => string;
  /** The current schedules, read again at every wake so that changes apply. */
  volumes: () => ScheduledVolume[];
  /** Takes the snapshot; the scheduler awaits it. */
  run: (volumeId: string, scheduledAt: Date) => Promise<void>;
  /** Persists lastRunAt = the scheduled time; called before run, so that a crash mid-run does not run it again on restart. */
  recordRun: (volumeId: string, at: Date) => void;
  /** Default: the real Date and setTimeout, with timers that do not keep the process alive. */
  clock?: SchedulerClock;
  log?: { warn(obj: object, msg: string): void };
}

/** A single timer never sleeps longer, so that a wall-clock jump or a schedule nobody announced is seen within it. */
const MAX_SLEEP_MS = 60 * 60 * 1000;

const realClock: SchedulerClock = {
  now: () => new Date(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms).unref();
    return { clear: () => clearTimeout(timer) };
  },
};

/**
 * Runs the volumes' snapshot schedules with one timer for the earliest next run. At every wake each volume makes at
 * most one run: the latest one due, so a run missed while the gateway was down (or while the process was stalled)
 * happens exactly once. Runs are made one after the other.
 */
export class SnapshotScheduler {
  readonly #o: SchedulerOptions;
  readonly #clock: SchedulerClock;
  #timer: { clear(): void } | undefined;
  /** The wakes in progress, for stop() to wait on. */
  #waking: Promise<void> | undefined;
  /** Set when reschedule() comes during a wake, which then goes round once more. */
  #again = false;
  #started = false;
  #stopped = false;
  /**
   * Runs due before this instant are not made. It starts before every lastRunAt (so that start() catches up) and
   * moves to the present on reschedule(): a changed schedule applies from then on, without making up for slots it
   * would have had before.
   */
  #since = -Infinity;
  /** The runs this scheduler recorded, in case volumes() reads them back late: a slot is never run twice. */
  readonly #recorded = new Map<string, number>();

  constructor(options: SchedulerOptions) {
    this.#o = options;
    this.#clock = options.clock ?? realClock;
  }

  /** Makes each volume's missed run, if it has one, then sleeps until the next run is due. */
  start(): void {
    if (this.#started) throw new BugError('the snapshot scheduler was started twice');
    this.#started = true;
    this.#wake();
  }

  /** Re-arms for the schedules as they are now; call it after a schedule changes. */
  reschedule(): void {
    if (!this.#started || this.#stopped) return;
    this.#since = this.#clock.now().getTime();
    this.#wake();
  }

  /** Disarms the timer; resolves once a run in progress has finished. No run starts after this is called. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.clear();
    this.#timer = undefined;
    await this.#waking;
  }

  #wake(): void {
    if (this.#stopped) return;
    if (this.#waking) {
      this.#again = true;
      return;
    }
    this.#timer?.clear();
    this.#timer = undefined;
    this.#waking = this.#wakeUntilSettled().finally(() => {
      this.#waking = undefined;
    });
  }

  async #wakeUntilSettled(): Promise<void> {
    let wakeAt: number;
    do {
      this.#again = false;
      wakeAt = await this.#runDue();
    } while (this.#again && !this.#stopped);
    if (this.#stopped) return;
    const sleep = Math.min(Math.max(wakeAt - this.#clock.now().getTime(), 0), MAX_SLEEP_MS);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#wake();
    }, sleep);
  }

  /** Makes the runs due now and returns when the next one is. Never throws: a failure is one volume's, and logged. */
  async #runDue(): Promise<number> {
    const now = this.#clock.now();
    let earliest = now.getTime() + MAX_SLEEP_MS;
    let timezone: string;
    let volumes: ScheduledVolume[];
    try {
      timezone = this.#o.timezone();
      volumes = this.#o.volumes();
    } catch (err) {
      this.#o.log?.warn({ err }, 'cannot read the snapshot schedules; will try again');
      return earliest;
    }
    const since = this.#since;
    for (const { volumeId, schedule, lastRunAt } of volumes) {
      if (this.#stopped) break;
      const from = Math.max(lastRunAt.getTime(), since, this.#recorded.get(volumeId) ?? -Infinity);
      try {
        const due = missedRun(schedule, new Date(from), now, timezone);
        if (due) await this.#runOnce(volumeId, due);
        // From now rather than from the run just made: should the two disagree about a slot, the timer still moves on.
        earliest = Math.min(earliest, nextRun(schedule, new Date(Math.max(from, now.getTime())), timezone).getTime());
      } catch (err) {
        this.#o.log?.warn({ err, volumeId }, 'cannot tell when the next scheduled snapshot is due; skipping the volume');
      }
    }
    return earliest;
  }

  async #runOnce(volumeId: string, scheduledAt: Date): Promise<void> {
    this.#recorded.set(volumeId, scheduledAt.getTime());
    try {
      this.#o.recordRun(volumeId, scheduledAt);
      await this.#o.run(volumeId, scheduledAt);
    } catch (err) {
      this.#o.log?.warn({ err, volumeId, scheduledAt: scheduledAt.toISOString() }, 'scheduled snapshot failed; the schedule goes on');
    }
  }
}
