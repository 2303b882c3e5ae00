import { bandwidthView } from '../../../cli/bandwidth-text.js';
import { SgwCommand } from '../../../cli/sgw-command.js';

export default class BandwidthClear extends SgwCommand {
  static override summary = 'Remove the bandwidth limits: uploads and downloads go as fast as they can.';
  static override examples = ['<%= config.bin %> gateway bandwidth clear'];

  async run(): Promise<void> {
    const { flags } = await this.parse(BandwidthClear);
    await this.show(flags, await this.call(flags, 'gateway.bandwidth.clear', {}), bandwidthView);
  }
}
