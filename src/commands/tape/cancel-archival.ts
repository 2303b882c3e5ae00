import { Args } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { tapeView } from '../../cli/tape-view.js';

export default class TapeCancelArchival extends SgwCommand {
  static override summary = 'Stop a tape that is IN TRANSIT TO VTS from archiving: it goes back to a slot, AVAILABLE.';
  static override examples = ['<%= config.bin %> tape cancel-archival ABCD0001'];
  static override args = { barcode: Args.string({ description: 'the tape\'s barcode', required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeCancelArchival);
    await this.show(flags, await this.call(flags, 'tape.cancel-archival', { barcode: args.barcode }), tapeView);
  }
}
