import { Args, Flags } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { fields } from '../../cli/view.js';

export default class ShareRestore extends SgwCommand {
  static override summary = 'Bring back a file whose object is in an archive storage class (Glacier, Deep Archive).';
  static override description = 'Until the restore is done, reading the file answers NFS3ERR_JUKEBOX and clients retry by themselves.';
  static override examples = ['<%= config.bin %> share restore team /2019/ledger.xlsx', '<%= config.bin %> share restore team /old.tar --days 7 --tier Bulk'];
  static override args = {
    share: Args.string({ description: 'share name or ID', required: true }),
    path: Args.string({ description: 'the file\'s path in the share', required: true }),
  };
  static override flags = {
    days: Flags.integer({ description: 'days the restored copy stays readable (1-30)', min: 1, max: 30 }),
    tier: Flags.string({ description: 'retrieval tier', options: ['Expedited', 'Standard', 'Bulk'] }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ShareRestore);
    const tier = flags.tier as 'Expedited' | 'Standard' | 'Bulk' | undefined;
    const result = await this.call(flags, 'share.restore', { share: args.share, path: args.path, ...(flags.days ? { days: flags.days } : {}), ...(tier ? { tier } : {}) });
    await this.show(flags, result, (r) => [fields(undefined, [['Share', r.shareId], ['Path', r.path], ['Key', r.key], ['Status', r.status]])]);
  }
}
