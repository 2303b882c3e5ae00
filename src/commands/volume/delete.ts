import { Args, Flags } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { fields } from '../../cli/view.js';

export default class VolumeDelete extends SgwCommand {
  static override summary = 'Delete a volume and the data only it references.';
  static override examples = ['<%= config.bin %> volume delete db01', '<%= config.bin %> volume delete db01 --force'];
  static override args = { volume: Args.string({ description: 'volume name or ID', required: true }) };
  static override flags = { force: Flags.boolean({ description: 'delete even while clients are connected' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(VolumeDelete);
    const result = await this.call(flags, 'volume.delete', { volume: args.volume, force: flags.force });
    await this.show(flags, result, (r) => [fields(undefined, [['Deleted', r.deleted]])]);
  }
}
