import { Args } from '@oclif/core';
import { UsageError } from '../../errors.js';
import { shareOptionFlags, shareOptions } from '../../cli/share-flags.js';
import { SgwCommand } from '../../cli/sgw-command.js';
import { shareView } from '../../cli/share-view.js';

export default class ShareUpdate extends SgwCommand {
  static override summary = 'Change the settings of a file share; settings left out keep their values.';
  static override description = 'Where the files are (bucket and prefix) cannot change; create another share for that.';
  static override examples = ['<%= config.bin %> share update photos --read-only', '<%= config.bin %> share update photos --client-list 10.1.0.0/16,10.2.0.5 --squash none'];
  static override args = { share: Args.string({ description: 'share name or ID', required: true }) };
  static override flags = shareOptionFlags;

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ShareUpdate);
    const change = shareOptions(flags);
    if (Object.keys(change).length === 0) throw new UsageError('nothing to change: give at least one setting, e.g. --read-only');
    await this.show(flags, await this.call(flags, 'share.update', { share: args.share, ...change }), shareView);
  }
}
