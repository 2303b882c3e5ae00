import { Args, Flags } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { tapeView } from '../../cli/tape-view.js';

export default class TapeEject extends SgwCommand {
  static override summary = 'Send a tape to the archive, as a backup application does by moving it to a mailslot.';
  static override description = 'The tape goes IN TRANSIT TO VTS (its last data is uploaded; sgw tape cancel-archival still stops it), then ARCHIVING (into its pool), then ARCHIVED. A RETRIEVED tape simply leaves the library. With --wait the command follows the tape until it is ARCHIVED.';
  static override examples = ['<%= config.bin %> tape eject ABCD0001', '<%= config.bin %> tape eject ABCD0001 --wait'];
  static override args = { barcode: Args.string({ description: 'the tape\'s barcode', required: true }) };
  static override flags = { wait: Flags.boolean({ description: 'wait until the tape is ARCHIVED, showing its progress' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeEject);
    let tape = await this.call(flags, 'tape.eject', { barcode: args.barcode });
    if (flags.wait) {
      tape = await this.follow(flags, tape, (t) => t.status === 'IN TRANSIT TO VTS' || t.status === 'ARCHIVING',
        () => this.call(flags, 'tape.describe', { barcode: args.barcode }), (t) => `${t.barcode}: ${t.status}${t.progress === undefined ? '' : ` ${t.progress}%`}`);
    }
    await this.show(flags, tape, tapeView);
    if (flags.wait && tape.status !== 'ARCHIVED') this.exit(1);
  }
}
