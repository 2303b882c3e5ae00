import { Args } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { volumeView } from '../../cli/volume-view.js';

export default class VolumeDescribe extends SgwCommand {
  static override summary = 'Show a volume: status, use, dirty data, cache hits and upload backlog.';
  static override examples = ['<%= config.bin %> volume describe db01'];
  static override args = { volume: Args.string({ description: 'volume name or ID', required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(VolumeDescribe);
    await this.show(flags, await this.call(flags, 'volume.describe', { volume: args.volume }), volumeView);
  }
}
