import { Args } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { fields } from '../../cli/view.js';

export default class TapeDeleteArchive extends SgwCommand {
  static override summary = 'Delete an ARCHIVED tape from the archive, for good.';
  static override examples = ['<%= config.bin %> tape delete-archive ABCD0001'];
  static override args = { barcode: Args.string({ description: 'the tape\'s barcode', required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeDeleteArchive);
    await this.show(flags, await this.call(flags, 'tape.delete-archive', { barcode: args.barcode }), (r) => [fields(undefined, [['Deleted', r.deleted]])]);
  }
}
