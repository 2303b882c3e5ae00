import { Args } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { shareView } from '../../cli/share-view.js';

export default class ShareDescribe extends SgwCommand {
  static override summary = 'Show a file share: where its files are, who may mount it and its defaults.';
  static override examples = ['<%= config.bin %> share describe photos'];
  static override args = { share: Args.string({ description: 'share name or ID', required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ShareDescribe);
    await this.show(flags, await this.call(flags, 'share.describe', { share: args.share }), shareView);
  }
}
