import { Flags } from '@oclif/core';
import { bandwidthView, parseRate, parseScheduleWindow } from '../../../cli/bandwidth-text.js';
import { SgwCommand } from '../../../cli/sgw-command.js';
import { UsageError } from '../../../errors.js';

const rateFlag = Flags.custom<number>({ helpValue: 'RATE', parse: async (input) => parseRate(input) });

export default class BandwidthSet extends SgwCommand {
  static override summary = 'Limit how fast the gateway uploads to and downloads from the object store.';
  static override description = `The limits hold for every volume, share and tape together. RATE is bits per second as in AWS Storage Gateway (51200, 100Mbit) or bytes per second (10MB/s, 8MiB/s); the upload floor is 51200 bit/s, the download floor 102400 bit/s. Without --schedule the limits hold at all times; with it they hold only in the windows given (in the gateway's time zone) and nothing limits outside them. Each call replaces the limits set before.`;
  static override examples = [
    '<%= config.bin %> gateway bandwidth set --upload 100Mbit',
    '<%= config.bin %> gateway bandwidth set --upload 20MB/s --download 50MB/s --schedule "Mon-Fri 08:00-18:00"',
  ];
  static override flags = {
    upload: rateFlag({ description: 'upload limit' }),
    download: rateFlag({ description: 'download limit' }),
    schedule: Flags.string({ description: 'a window DAYS HH:MM-HH:MM in which the limits hold (repeatable)', multiple: true }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(BandwidthSet);
    if (flags.upload === undefined && flags.download === undefined) throw new UsageError('give --upload RATE, --download RATE or both; sgw gateway bandwidth clear removes the limits');
    const rates = { ...(flags.upload !== undefined ? { uploadBitsPerSecond: flags.upload } : {}), ...(flags.download !== undefined ? { downloadBitsPerSecond: flags.download } : {}) };
    const result = flags.schedule
      ? await this.call(flags, 'gateway.bandwidth.set', { rates: {}, schedule: flags.schedule.map((w) => parseScheduleWindow(w, rates)) })
      : await this.call(flags, 'gateway.bandwidth.set', { rates });
    await this.show(flags, result, bandwidthView);
  }
}
