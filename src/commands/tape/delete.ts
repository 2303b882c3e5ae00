import { Args } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { fields } from '../../cli/view.js';

export default class TapeDelete extends SgwCommand {
  static override summary = 'Delete a tape in the library (AVAILABLE or RETRIEVED, not in a drive) and its data.';
  static override examples = ['<%= config.bin %> tape delete ABCD0001'];
  static override args = { barcode: Args.string({ description: 'the tape\'s barcode', required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeDelete);
    await this.show(flags, await this.call(flags, 'tape.delete', { barcode: args.barcode }), (r) => [fields(undefined, [['Deleted', r.deleted]])]);
  }
}
