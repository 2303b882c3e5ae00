import { Args, Flags } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { fields } from '../../cli/view.js';

export default class ShareSync extends SgwCommand {
  static override summary = 'Show what a share has not uploaded yet, or with --wait, wait until it is all in the bucket.';
  static override description = 'With --wait it returns once everything written to the share before the command is in the bucket (AWS NotifyWhenUploaded), uploading files at once instead of after their settle time.';
  static override examples = ['<%= config.bin %> share sync team --wait'];
  static override args = { share: Args.string({ description: 'share name or ID', required: true }) };
  static override flags = { wait: Flags.boolean({ description: 'wait until everything written before is uploaded' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ShareSync);
    const result = await this.call(flags, 'share.sync', { share: args.share, wait: flags.wait });
    await this.show(flags, result, (r) => [fields(undefined, [['Share', r.shareId], ['Files to upload', String(r.pendingFiles)], ['Bytes to upload', String(r.pendingBytes)]])]);
  }
}
