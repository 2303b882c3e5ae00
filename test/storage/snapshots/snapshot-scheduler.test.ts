import t, { type Test } from 'tap';
import { BugError } from '../../../src/errors.js';
import type { SnapshotSchedule } from '../../../src/storage/snapshots/snapshot-schedule.js';
import { SnapshotScheduler, type ScheduledVolume, type SchedulerClock } from '../../../src/storage/snapshots/snapshot-scheduler.js';

const HOUR = 3600_000;

/** Lets every promise chain that is not waiting on a timer run to its end. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A clock that moves only when told, firing its timers at their instants on the way. */
class FakeClock implements SchedulerClock {
  timers: { at: number; fn: () => void }[] = [];
  sleeps: number[] = [];
  #now: number;

  constructor(iso: string) {
    this.#now = Date.parse(iso);
  }

  now(): Date {
    return new Date(this.#now);
  }

  setTimeout(fn: () => void, ms: number): { clear(): void } {
    const timer = { at: this.#now + ms, fn };
    this.timers.push(timer);
    this.sleeps.push(ms);
    return { clear: () => void (this.timers = this.timers.filter((x) => x !== timer)) };
  }

  /** Moves to `iso`, firing each timer due on the way at its own instant, and letting the wake it starts finish. */
  async advanceTo(iso: string): Promise<void> {
    const until = Date.parse(iso);
    for (;;) {
      await settle();
      const due = this.timers.filter((x) => x.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = until;
  }

  /** The wall clock moves with no timer firing: a suspended machine, or a clock set forward. */
  jumpTo(iso: string): void {
    this.#now = Date.parse(iso);
  }
}

const hm = (d: Date) => d.toISOString().replace(/:00\.000Z$/, '');
const interval = (startAt: number, everyHours: 1 | 2 | 4 | 8 | 12 | 24): SnapshotSchedule => ({ kind: 'interval', startAt, everyHours });
const cron = (expression: string): SnapshotSchedule => ({ kind: 'cron', expression });
const volume = (volumeId: string, schedule: SnapshotSchedule, lastRunAt: string): ScheduledVolume => ({ volumeId, schedule, lastRunAt: new Date(lastRunAt) });

interface HarnessOptions {
  timezone?: string;
  run?: (volumeId: string, scheduledAt: Date) => Promise<void>;
  /** While it says so, reading the schedules fails. */
  unreadable?: () => boolean;
}

/**
 * A scheduler over `volumes` (kept as the catalog would: recordRun updates lastRunAt), in UTC unless told, whose
 * records and runs are written to `events` as "record v1 <scheduled>" and "run v1 <scheduled> @<clock>".
 */
function harness(t: Test, volumes: ScheduledVolume[], now: string, o: HarnessOptions = {}) {
  const clock = new FakeClock(now);
  const events: string[] = [];
  const warnings: { obj: object; msg: string }[] = [];
  const scheduler = new SnapshotScheduler({
    timezone: () => o.timezone ?? 'UTC',
    volumes: () => {
      if (o.unreadable?.()) throw new Error('catalog locked');
      return volumes.map((v) => ({ ...v }));
    },
    recordRun: (volumeId, at) => {
      events.push(`record ${volumeId} ${hm(at)}`);
      volumes.find((v) => v.volumeId === volumeId)!.lastRunAt = at;
    },
    run: async (volumeId, scheduledAt) => {
      events.push(`run ${volumeId} ${hm(scheduledAt)} @${hm(clock.now())}`);
      await o.run?.(volumeId, scheduledAt);
    },
    clock,
    log: { warn: (obj, msg) => void warnings.push({ obj, msg }) },
  });
  t.teardown(() => scheduler.stop());
  return { clock, events, warnings, scheduler };
}

const runs = (events: string[]) => events.filter((e) => e.startsWith('run'));

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

t.test('runs at the scheduled instants, each recorded before it is made', async (t) => {
  const { clock, events, scheduler } = harness(t, [volume('v1', interval(3, 8), '2026-01-01T00:00:00Z')], '2026-01-01T00:00:00Z');
  scheduler.start();
  await clock.advanceTo('2026-01-02T04:00:00Z');
  t.same(events, [
    'record v1 2026-01-01T03:00', 'run v1 2026-01-01T03:00 @2026-01-01T03:00',
    'record v1 2026-01-01T11:00', 'run v1 2026-01-01T11:00 @2026-01-01T11:00',
    'record v1 2026-01-01T19:00', 'run v1 2026-01-01T19:00 @2026-01-01T19:00',
    'record v1 2026-01-02T03:00', 'run v1 2026-01-02T03:00 @2026-01-02T03:00',
  ]);
  t.ok(clock.sleeps.every((ms) => ms > 0 && ms <= HOUR), 'no timer sleeps more than an hour');
  t.equal(clock.timers.length, 1, 'one timer armed');
});

t.test('the gateway timezone decides the instants', async (t) => {
  const { clock, events, scheduler } = harness(t, [volume('v1', interval(3, 24), '2026-06-01T00:00:00Z')], '2026-06-01T00:00:00Z', { timezone: 'Europe/Berlin' });
  scheduler.start();
  await clock.advanceTo('2026-06-02T02:00:00Z');
  t.same(runs(events), ['run v1 2026-06-01T01:00 @2026-06-01T01:00', 'run v1 2026-06-02T01:00 @2026-06-02T01:00'], '03:00 CEST');
});

t.test('after a long outage each volume makes its latest missed run, once', async (t) => {
  const volumes = [volume('v1', interval(0, 1), '2026-01-01T03:00:00Z'), volume('v2', interval(3, 24), '2026-01-01T03:00:00Z')];
  const { clock, events, scheduler } = harness(t, volumes, '2026-01-10T12:30:00Z');
  scheduler.start();
  await clock.advanceTo('2026-01-10T13:00:00Z');
  t.same(events, [
    'record v1 2026-01-10T12:00', 'run v1 2026-01-10T12:00 @2026-01-10T12:30',
    'record v2 2026-01-10T03:00', 'run v2 2026-01-10T03:00 @2026-01-10T12:30',
    'record v1 2026-01-10T13:00', 'run v1 2026-01-10T13:00 @2026-01-10T13:00',
  ]);
});

t.test('a run cut short by a crash is not made again on restart', async (t) => {
  const volumes = [volume('v1', interval(3, 24), '2026-01-01T03:00:00Z')];
  const crashed = deferred();
  const first = harness(t, volumes, '2026-01-02T02:00:00Z', { run: () => crashed.promise });
  first.scheduler.start();
  await first.clock.advanceTo('2026-01-02T03:00:00Z');
  t.same(first.events, ['record v1 2026-01-02T03:00', 'run v1 2026-01-02T03:00 @2026-01-02T03:00'], 'the run never ends');
  const second = harness(t, volumes, '2026-01-02T03:10:00Z');
  second.scheduler.start();
  await second.clock.advanceTo('2026-01-03T03:00:00Z');
  t.same(second.events, ['record v1 2026-01-03T03:00', 'run v1 2026-01-03T03:00 @2026-01-03T03:00'], 'the restarted gateway goes on from the next run');
  crashed.resolve();
});

t.test('a stalled process or a clock set forward makes the run it skipped once', async (t) => {
  const { clock, events, scheduler } = harness(t, [volume('v1', interval(0, 1), '2026-01-01T00:00:00Z')], '2026-01-01T00:30:00Z');
  scheduler.start();
  clock.jumpTo('2026-01-01T05:40:00Z');
  await clock.advanceTo('2026-01-01T06:00:00Z');
  t.same(runs(events), ['run v1 2026-01-01T05:00 @2026-01-01T05:40', 'run v1 2026-01-01T06:00 @2026-01-01T06:00']);
});

t.test('reschedule() applies a changed schedule at once, from then on', async (t) => {
  const volumes = [volume('v1', interval(3, 24), '2026-01-01T03:00:00Z')];
  const { clock, events, scheduler } = harness(t, volumes, '2026-01-01T05:00:00Z');
  scheduler.start();
  await clock.advanceTo('2026-01-01T05:10:00Z');
  volumes[0]!.schedule = cron('20 * * * *');
  scheduler.reschedule();
  await settle();
  t.same(events, [], 'the runs the new schedule would have had before it was set are not made up for');
  await clock.advanceTo('2026-01-01T06:20:00Z');
  t.same(runs(events), ['run v1 2026-01-01T05:20 @2026-01-01T05:20', 'run v1 2026-01-01T06:20 @2026-01-01T06:20']);
});

t.test('reschedule() during a run applies once the run ends', async (t) => {
  const running = deferred();
  const volumes = [volume('v1', interval(3, 24), '2026-01-01T00:00:00Z'), volume('v2', interval(12, 24), '2026-01-01T00:00:00Z')];
  const { clock, events, scheduler } = harness(t, volumes, '2026-01-01T02:30:00Z', { run: (id) => (id === 'v1' ? running.promise : Promise.resolve()) });
  scheduler.start();
  await clock.advanceTo('2026-01-01T03:00:00Z');
  volumes[1]!.schedule = cron('30 3 * * *');
  scheduler.reschedule();
  running.resolve();
  await clock.advanceTo('2026-01-01T04:00:00Z');
  t.same(runs(events), ['run v1 2026-01-01T03:00 @2026-01-01T03:00', 'run v2 2026-01-01T03:30 @2026-01-01T03:30']);
});

t.test('the runs of one wake are made one after the other', async (t) => {
  const running = deferred();
  const volumes = [volume('v1', interval(3, 24), '2026-01-01T00:00:00Z'), volume('v2', interval(3, 24), '2026-01-01T00:00:00Z')];
  const { clock, events, scheduler } = harness(t, volumes, '2026-01-01T00:00:00Z', { run: (id) => (id === 'v1' ? running.promise : Promise.resolve()) });
  scheduler.start();
  await clock.advanceTo('2026-01-01T03:00:00Z');
  t.same(events, ['record v1 2026-01-01T03:00', 'run v1 2026-01-01T03:00 @2026-01-01T03:00'], 'v2 waits for v1');
  running.resolve();
  await settle();
  t.same(events.slice(2), ['record v2 2026-01-01T03:00', 'run v2 2026-01-01T03:00 @2026-01-01T03:00']);
});

t.test('a failing run is logged and the schedule goes on', async (t) => {
  let calls = 0;
  const { clock, events, warnings, scheduler } = harness(t, [volume('v1', interval(0, 1), '2026-01-01T00:00:00Z')], '2026-01-01T00:00:00Z', {
    run: async () => {
      if (++calls === 1) throw new Error('the bucket is gone');
    },
  });
  scheduler.start();
  await clock.advanceTo('2026-01-01T03:00:00Z');
  t.equal(runs(events).length, 3, 'runs at 01:00, 02:00 and 03:00');
  t.equal(warnings.length, 1);
  t.match(warnings[0], { obj: { volumeId: 'v1', scheduledAt: '2026-01-01T01:00:00.000Z', err: { message: 'the bucket is gone' } }, msg: /failed/ });
});

t.test('a schedule that cannot be computed is logged and the other volumes go on', async (t) => {
  const volumes = [volume('bad', cron('0 0 30 2 *'), '2026-01-01T00:00:00Z'), volume('v1', interval(1, 24), '2026-01-01T00:00:00Z')];
  const { clock, events, warnings, scheduler } = harness(t, volumes, '2026-01-01T00:00:00Z');
  scheduler.start();
  await clock.advanceTo('2026-01-01T01:00:00Z');
  t.same(runs(events), ['run v1 2026-01-01T01:00 @2026-01-01T01:00']);
  t.ok(warnings.length > 0 && warnings.every((w) => (w.obj as { volumeId?: string }).volumeId === 'bad'));
});

t.test('unreadable schedules are logged and read again later', async (t) => {
  let fail = true;
  const h = harness(t, [volume('v1', interval(0, 1), '2026-01-01T00:00:00Z')], '2026-01-01T00:30:00Z', { unreadable: () => fail });
  h.scheduler.start();
  await settle();
  t.equal(h.warnings.length, 1);
  t.same(h.clock.timers.map((x) => x.at - h.clock.now().getTime()), [HOUR], 'tries again within the hour');
  fail = false;
  await h.clock.advanceTo('2026-01-01T01:30:00Z');
  t.same(runs(h.events), ['run v1 2026-01-01T01:00 @2026-01-01T01:30']);
});

t.test('stop() waits for the run in progress and starts no other', async (t) => {
  const running = deferred();
  const volumes = [volume('v1', interval(3, 24), '2026-01-01T00:00:00Z'), volume('v2', interval(3, 24), '2026-01-01T00:00:00Z')];
  const { clock, events, scheduler } = harness(t, volumes, '2026-01-01T00:00:00Z', { run: (id) => (id === 'v1' ? running.promise : Promise.resolve()) });
  scheduler.start();
  await clock.advanceTo('2026-01-01T03:00:00Z');
  let stopped = false;
  const stopping = scheduler.stop().then(() => void (stopped = true));
  await settle();
  t.notOk(stopped, 'still running');
  running.resolve();
  await stopping;
  t.same(events, ['record v1 2026-01-01T03:00', 'run v1 2026-01-01T03:00 @2026-01-01T03:00'], 'v2 did not start');
  t.same(clock.timers, [], 'no timer left');
  scheduler.reschedule();
  await clock.advanceTo('2026-01-03T00:00:00Z');
  t.equal(events.length, 2, 'nothing runs after stop');
});

t.test('start() is for once; the real clock is the default', async (t) => {
  const scheduler = new SnapshotScheduler({ timezone: () => 'UTC', volumes: () => [], run: async () => {}, recordRun: () => {} });
  scheduler.start();
  t.throws(() => scheduler.start(), BugError);
  await scheduler.stop();
});
