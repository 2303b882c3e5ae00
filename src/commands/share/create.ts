import { Args, Flags } from '@oclif/core';
import { shareOptionFlags, shareOptions } from '../../cli/share-flags.js';
import { SgwCommand } from '../../cli/sgw-command.js';
import { shareView } from '../../cli/share-view.js';

export default class ShareCreate extends SgwCommand {
  static override summary = 'Create an NFS file share over a bucket or a prefix in it.';
  static override description = `Each file of the share is one object of the bucket, its path the key after the prefix; objects already there appear as files, and directories implied by their keys appear too. NFS clients mount it as /NAME.`;
  static override examples = [
    '<%= config.bin %> share create photos --bucket gw-photos',
    '<%= config.bin %> share create builds --bucket gw-data --prefix builds/ --client-list 10.0.0.0/8 --squash all --upload-settle 30',
  ];
  static override args = { name: Args.string({ description: 'share name, also its export path /NAME', required: true }) };
  static override flags = {
    bucket: Flags.string({ description: 'bucket that holds the files', required: true }),
    prefix: Flags.string({ description: 'key prefix of the files inside the bucket' }),
    ...shareOptionFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ShareCreate);
    const params = { name: args.name, bucket: flags.bucket, ...(flags.prefix === undefined ? {} : { prefix: flags.prefix }), ...shareOptions(flags) };
    await this.show(flags, await this.call(flags, 'share.create', params), shareView);
  }
}
