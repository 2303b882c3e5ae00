import { Args, Flags } from '@oclif/core';
import { SgwCommand } from '../../../cli/sgw-command.js';
import { fields } from '../../../cli/view.js';

export default class VolumeChapDelete extends SgwCommand {
  static override summary = "Remove an initiator's CHAP secret from a volume's target.";
  static override description = 'When the last entry goes, the target accepts initiators without CHAP again.';
  static override examples = ['<%= config.bin %> volume chap delete db01 --initiator iqn.1993-08.org.debian:01:db01'];
  static override args = { volume: Args.string({ description: 'volume name or ID', required: true }) };
  static override flags = { initiator: Flags.string({ description: 'the initiator name (IQN)', required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(VolumeChapDelete);
    const { deleted } = await this.call(flags, 'volume.chap.delete', { volume: args.volume, initiatorName: flags.initiator });
    await this.show(flags, deleted, (e) => [fields(undefined, [['Deleted', `${e.initiatorName} on ${e.volume}`]])]);
  }
}
