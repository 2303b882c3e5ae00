import { Args } from '@oclif/core';
import { SgwCommand } from '../../../cli/sgw-command.js';
import { table } from '../../../cli/view.js';

export default class VolumeChapList extends SgwCommand {
  static override summary = 'List the initiators with CHAP secrets, of one volume or of all; the secrets stay hidden.';
  static override examples = ['<%= config.bin %> volume chap list', '<%= config.bin %> volume chap list db01'];
  static override args = { volume: Args.string({ description: 'volume name or ID' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(VolumeChapList);
    const entries = await this.call(flags, 'volume.chap.list', args.volume ? { volume: args.volume } : {});
    await this.show(flags, entries, (list) => [table(['VOLUME', 'INITIATOR', 'MUTUAL'], list.map((e) => [e.volume, e.initiatorName, e.mutual ? 'yes' : 'no']), 'No CHAP secrets: targets accept initiators without CHAP.')]);
  }
}
