import { Flags } from '@oclif/core';
import { SgwCommand } from '../../../cli/sgw-command.js';
import { tapePolicyView } from '../../../cli/tape-view.js';

export default class TapePolicySet extends SgwCommand {
  static override summary = 'Keep a number of empty tapes AVAILABLE: new ones are created as backups use them up.';
  static override examples = ['<%= config.bin %> tape policy set --minimum-available 5 --size 200GiB --barcode-prefix AUTO'];
  static override flags = {
    'minimum-available': Flags.integer({ description: 'empty AVAILABLE tapes to keep (1-10)', min: 1, max: 10, required: true }),
    size: Flags.string({ description: 'capacity of each new tape (100GiB to 2.5TiB)', required: true }),
    'barcode-prefix': Flags.string({ description: '1-4 uppercase letters', required: true }),
    pool: Flags.string({ description: 'GLACIER (default), DEEP_ARCHIVE or vault:NAME' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TapePolicySet);
    const policy = await this.call(flags, 'tape.policy.set', {
      minimumAvailable: flags['minimum-available'], size: flags.size, barcodePrefix: flags['barcode-prefix'], ...(flags.pool ? { pool: flags.pool } : {}),
    });
    await this.show(flags, policy, tapePolicyView);
  }
}
