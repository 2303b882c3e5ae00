import { Flags } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { tapeTable } from '../../cli/tape-view.js';

export default class TapeCreate extends SgwCommand {
  static override summary = 'Create virtual tapes in free slots of the library.';
  static override description = 'Barcodes are a 1-4 letter prefix and a sequence (ABCD0001), or one barcode of 7-16 uppercase letters and digits. A tape holds 100 GiB to 2.5 TiB; a library at most 1,500 tapes and 1 PiB. Ejected tapes go to the pool: GLACIER (default), DEEP_ARCHIVE or vault:NAME.';
  static override examples = ['<%= config.bin %> tape create --count 5 --size 200GiB --barcode-prefix ABCD', '<%= config.bin %> tape create --barcode TST00001L5 --size 100GiB --pool DEEP_ARCHIVE'];
  static override flags = {
    size: Flags.string({ description: 'capacity of each tape (100GiB to 2.5TiB)', required: true }),
    count: Flags.integer({ description: 'how many tapes (1-10)', min: 1, max: 10, dependsOn: ['barcode-prefix'] }),
    'barcode-prefix': Flags.string({ description: '1-4 uppercase letters the barcodes start with', exactlyOne: ['barcode-prefix', 'barcode'] }),
    barcode: Flags.string({ description: 'one tape with this barcode', exactlyOne: ['barcode-prefix', 'barcode'] }),
    pool: Flags.string({ description: 'where the tape goes when ejected: GLACIER, DEEP_ARCHIVE or vault:NAME' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TapeCreate);
    const created = await this.call(flags, 'tape.create', {
      size: flags.size, ...(flags.count ? { count: flags.count } : {}), ...(flags['barcode-prefix'] ? { barcodePrefix: flags['barcode-prefix'] } : {}),
      ...(flags.barcode ? { barcode: flags.barcode } : {}), ...(flags.pool ? { pool: flags.pool } : {}),
    });
    await this.show(flags, created, tapeTable);
  }
}
