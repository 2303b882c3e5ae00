import type { SnapshotScheduleInfo } from '../rpc/api.js';
import type { Catalog, VolumeRecord } from '../storage/catalog/catalog.js';
import { describeSchedule, nextRun, parseSchedule, type SnapshotSchedule } from '../storage/snapshots/snapshot-schedule.js';
import { SnapshotScheduler, type ScheduledVolume } from '../storage/snapshots/snapshot-scheduler.js';
import { SgwError } from '../errors.js';
import type { Logger } from './logger.js';
import type { StorageEngines } from './storage-engines.js';

/**
 * The volumes' snapshot schedules, kept in the catalog and run by a SnapshotScheduler. A volume without a schedule of
 * its own has AWS's default: once a day, from the hour it was created, in the gateway's timezone.
 */
export class ScheduledSnapshots {
  private readonly scheduler: SnapshotScheduler;

  constructor(private readonly catalog: Catalog, engines: StorageEngines, log: Logger) {
    this.scheduler = new SnapshotScheduler({
      timezone: () => this.timezone(),
      volumes: () => this.catalog.volumeRecords().map((v) => this.scheduled(v)),
      recordRun: (volumeId, at) => {
        const volume = this.catalog.volume(volumeId);
        if (volume) this.catalog.setSnapshotSchedule(volumeId, JSON.stringify(this.scheduled(volume).schedule), at.toISOString());
      },
      run: async (volumeId, at) => {
        (await engines.volumes()).createSnapshot(volumeId, `scheduled for ${at.toISOString()}`);
      },
      log,
    });
  }

  start(): void {
    this.scheduler.start();
  }

  stop(): Promise<void> {
    return this.scheduler.stop();
  }

  describe(volume: string): SnapshotScheduleInfo {
    const record = this.volumeRecord(volume);
    const { schedule, lastRunAt } = this.scheduled(record);
    return {
      volume: record.name, volumeId: record.volumeId, schedule, description: describeSchedule(schedule),
      timezone: this.timezone(), lastRunAt: lastRunAt.toISOString(), nextRunAt: nextRun(schedule, new Date(), this.timezone()).toISOString(),
    };
  }

  set(volume: string, input: { startAt?: number; everyHours?: number; cron?: string }): SnapshotScheduleInfo {
    const record = this.volumeRecord(volume);
    const schedule = parseSchedule(input, { createdAt: new Date(record.createdAt), timezone: this.timezone() });
    // From now on: runs the old schedule missed are not made up for under the new one.
    this.catalog.setSnapshotSchedule(record.volumeId, JSON.stringify(schedule), new Date().toISOString());
    this.scheduler.reschedule();
    return this.describe(record.volumeId);
  }

  private scheduled({ volumeId, createdAt }: VolumeRecord): ScheduledVolume {
    const row = this.catalog.snapshotSchedule(volumeId);
    if (row) return { volumeId, schedule: JSON.parse(row.schedule) as SnapshotSchedule, lastRunAt: new Date(row.lastRunAt) };
    const created = new Date(createdAt);
    return { volumeId, schedule: parseSchedule({}, { createdAt: created, timezone: this.timezone() }), lastRunAt: created };
  }

  private volumeRecord(volume: string): VolumeRecord {
    const record = this.catalog.volume(volume);
    if (!record) throw new SgwError('SGW_NOT_FOUND', `there is no volume ${volume}; see sgw volume list`);
    return record;
  }

  private timezone(): string {
    return this.catalog.gateway()?.timezone ?? 'UTC';
  }
}
