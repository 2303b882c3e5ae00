import { gatewayInfoView } from '../../cli/gateway-view.js';
import { SgwCommand } from '../../cli/sgw-command.js';

export default class GatewayInfo extends SgwCommand {
  static override summary = 'Show the gateway: its settings, its backend and the daemon serving it.';
  static override examples = ['<%= config.bin %> gateway info', '<%= config.bin %> gateway info --json'];

  async run(): Promise<void> {
    const { flags } = await this.parse(GatewayInfo);
    await this.show(flags, await this.call(flags, 'gateway.info', {}), gatewayInfoView);
  }
}
