import { SgwCommand } from '../../cli/sgw-command.js';
import { tapeTable } from '../../cli/tape-view.js';

export default class TapeList extends SgwCommand {
  static override summary = 'List the virtual tapes: in the library and archived.';
  static override examples = ['<%= config.bin %> tape list'];

  async run(): Promise<void> {
    const { flags } = await this.parse(TapeList);
    await this.show(flags, await this.call(flags, 'tape.list', {}), tapeTable);
  }
}
