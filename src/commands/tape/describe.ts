import { Args } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { tapeView } from '../../cli/tape-view.js';

export default class TapeDescribe extends SgwCommand {
  static override summary = 'Show a tape: its status, where it is, how full, where it archives to.';
  static override examples = ['<%= config.bin %> tape describe ABCD0001'];
  static override args = { barcode: Args.string({ description: 'the tape\'s barcode', required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeDescribe);
    await this.show(flags, await this.call(flags, 'tape.describe', { barcode: args.barcode }), tapeView);
  }
}
