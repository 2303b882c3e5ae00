import { SgwCommand } from '../../../cli/sgw-command.js';
import { fields } from '../../../cli/view.js';

export default class TapePolicyClear extends SgwCommand {
  static override summary = 'Stop creating tapes automatically; the tapes already made stay.';
  static override examples = ['<%= config.bin %> tape policy clear'];

  async run(): Promise<void> {
    const { flags } = await this.parse(TapePolicyClear);
    await this.show(flags, await this.call(flags, 'tape.policy.clear', {}), () => [fields(undefined, [['Policy', 'cleared']])]);
  }
}
