import { Args, Flags } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { fields } from '../../cli/view.js';

export default class SnapshotSchedule extends SgwCommand {
  static override summary = "Show or set a volume's snapshot schedule.";
  static override description = `As in AWS, a schedule starts at an hour of the day (--start-at 0-23) and repeats every 1, 2, 4, 8, 12 or 24 hours (--every), in the gateway's timezone; every volume starts with one snapshot a day from the hour it was created. --cron takes a cron expression instead. A run missed while the gateway was down is taken once when it starts again. Without flags the current schedule is shown.`;
  static override examples = [
    '<%= config.bin %> snapshot schedule db01',
    '<%= config.bin %> snapshot schedule db01 --start-at 3 --every 8',
    `<%= config.bin %> snapshot schedule db01 --cron '30 2 * * 1-5'`,
  ];
  static override args = { volume: Args.string({ description: 'volume name or ID', required: true }) };
  static override flags = {
    'start-at': Flags.integer({ description: 'hour of the day of the first snapshot (0-23)', exclusive: ['cron'] }),
    every: Flags.integer({ description: 'hours between snapshots: 1, 2, 4, 8, 12 or 24', exclusive: ['cron'] }),
    cron: Flags.string({ description: 'a cron expression (minute hour day month weekday) instead' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SnapshotSchedule);
    const change = {
      ...(flags['start-at'] === undefined ? {} : { startAt: flags['start-at'] }),
      ...(flags.every === undefined ? {} : { everyHours: flags.every }),
      ...(flags.cron === undefined ? {} : { cron: flags.cron }),
    };
    const info = await this.call(flags, 'snapshot.schedule', { volume: args.volume, ...change });
    await this.show(flags, info, (s) => [fields(`Snapshot schedule of ${s.volume}`, [
      ['Schedule', s.description], ['Timezone', s.timezone], ['Last run', s.lastRunAt], ['Next run', s.nextRunAt],
    ])]);
  }
}
