import { bandwidthView } from '../../../cli/bandwidth-text.js';
import { SgwCommand } from '../../../cli/sgw-command.js';

export default class BandwidthShow extends SgwCommand {
  static override summary = 'Show the bandwidth limits: those set, and those in force now.';
  static override examples = ['<%= config.bin %> gateway bandwidth show'];

  async run(): Promise<void> {
    const { flags } = await this.parse(BandwidthShow);
    await this.show(flags, await this.call(flags, 'gateway.bandwidth.show', {}), bandwidthView);
  }
}
