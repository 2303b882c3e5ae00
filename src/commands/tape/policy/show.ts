import { SgwCommand } from '../../../cli/sgw-command.js';
import { tapePolicyView } from '../../../cli/tape-view.js';

export default class TapePolicyShow extends SgwCommand {
  static override summary = 'Show the automatic tape creation policy.';
  static override examples = ['<%= config.bin %> tape policy show'];

  async run(): Promise<void> {
    const { flags } = await this.parse(TapePolicyShow);
    await this.show(flags, await this.call(flags, 'tape.policy.show', {}), tapePolicyView);
  }
}
