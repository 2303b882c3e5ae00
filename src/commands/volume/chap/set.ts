import { Args, Flags } from '@oclif/core';
import { SgwCommand } from '../../../cli/sgw-command.js';
import { fields } from '../../../cli/view.js';

export default class VolumeChapSet extends SgwCommand {
  static override summary = "Require CHAP on a volume's target: the initiator's secret, and the target's for mutual CHAP.";
  static override description = 'Once a volume has a CHAP entry, only initiators with one may log in, and only with the right secret. Secrets are 12 to 16 characters.';
  static override examples = [
    '<%= config.bin %> volume chap set db01 --initiator iqn.1993-08.org.debian:01:db01 --secret 0123456789ab',
    '<%= config.bin %> volume chap set db01 --initiator iqn.1993-08.org.debian:01:db01 --secret 0123456789ab --target-secret ba9876543210',
  ];
  static override args = { volume: Args.string({ description: 'volume name or ID', required: true }) };
  static override flags = {
    initiator: Flags.string({ description: 'the initiator name (IQN) the secret is for', required: true }),
    secret: Flags.string({ description: 'the secret the initiator proves (12-16 characters)', required: true }),
    'target-secret': Flags.string({ description: 'the secret the target proves to the initiator (mutual CHAP)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(VolumeChapSet);
    const entry = await this.call(flags, 'volume.chap.set', {
      volume: args.volume, initiatorName: flags.initiator, secret: flags.secret, ...(flags['target-secret'] ? { targetSecret: flags['target-secret'] } : {}),
    });
    await this.show(flags, entry, (e) => [fields(undefined, [['Volume', e.volume], ['Initiator', e.initiatorName], ['Mutual', e.mutual ? 'yes' : 'no']])]);
  }
}
