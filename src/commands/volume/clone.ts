import { Args } from '@oclif/core';
import { sizeFlag } from '../../cli/flags.js';
import { SgwCommand } from '../../cli/sgw-command.js';
import { volumeView } from '../../cli/volume-view.js';

export default class VolumeClone extends SgwCommand {
  static override summary = "Create a cached volume from another cached volume's latest recovery point.";
  static override description = `The recovery point is the last moment the object store held everything written to the source volume (sgw volume describe shows it). The clone is usable at once and reads that data from the object store as needed; the source stays in use and is not changed. The clone has the source's size unless --size gives a larger one.`;
  static override examples = ['<%= config.bin %> volume clone db01 db01-test', '<%= config.bin %> volume clone db01 db01-big --size 4TiB'];
  static override args = {
    source: Args.string({ description: 'cached volume to clone (name or ID)', required: true }),
    name: Args.string({ description: 'name of the new volume', required: true }),
  };
  static override flags = { size: sizeFlag({ description: "size of the clone, at least the source's" }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(VolumeClone);
    const params = { source: args.source, name: args.name, ...(flags.size === undefined ? {} : { sizeBytes: flags.size }) };
    await this.show(flags, await this.call(flags, 'volume.clone', params), volumeView);
  }
}
