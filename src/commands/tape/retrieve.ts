import { Args, Flags } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import type { Progress } from '../../cli/progress-model.js';
import { tapeView } from '../../cli/tape-view.js';
import type { TapeDetails } from '../../rpc/api.js';

export default class TapeRetrieve extends SgwCommand {
  static override summary = 'Bring an ARCHIVED tape back into the library, read-only.';
  static override description = 'The tape is RETRIEVING (with an estimated time) until its pool has made it readable (hours for Glacier), then RETRIEVED in a free slot: backup software can read it and writes are refused. With --wait the command follows it until it is RETRIEVED.';
  static override examples = ['<%= config.bin %> tape retrieve ABCD0001', '<%= config.bin %> tape retrieve ABCD0001 --wait'];
  static override args = { barcode: Args.string({ description: 'the tape\'s barcode', required: true }) };
  static override flags = { wait: Flags.boolean({ description: 'wait until the tape is RETRIEVED, showing its progress' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TapeRetrieve);
    let tape = await this.call(flags, 'tape.retrieve', { barcode: args.barcode });
    if (flags.wait) {
      tape = await this.follow(flags, tape, (t) => t.status === 'RETRIEVING',
        () => this.call(flags, 'tape.describe', { barcode: args.barcode }), retrievalProgress);
    }
    await this.show(flags, tape, tapeView);
    if (flags.wait && tape.status !== 'RETRIEVED') this.exit(1);
  }
}

function retrievalProgress(t: TapeDetails): Progress {
  if (t.status === 'RETRIEVING') return { label: `${t.barcode} RETRIEVING, expected by ${t.retrievalEta ?? '-'}`, done: t.progress ?? 0, total: 100 };
  return { label: `${t.barcode} ${t.status}`, done: t.status === 'RETRIEVED' ? 100 : 0, total: 100 };
}
