import { Args } from '@oclif/core';
import { sizeFlag } from '../../cli/flags.js';
import { SgwCommand } from '../../cli/sgw-command.js';
import { volumeView } from '../../cli/volume-view.js';

export default class VolumeCreate extends SgwCommand {
  static override summary = 'Create an iSCSI volume.';
  static override description = `A cached volume keeps its data in the object store and recently used data in the local cache; writes are durable in the upload buffer before they are acknowledged and reach the store asynchronously. It holds 1 GiB to 32 TiB and costs nothing until written. Without a NAME the generated volume ID is its name.`;
  static override examples = ['<%= config.bin %> volume create --cached 500GiB', '<%= config.bin %> volume create db01 --cached 2TiB'];
  static override args = { name: Args.string({ description: 'volume name (default: the generated ID)' }) };
  static override flags = {
    cached: sizeFlag({ description: 'size of a cached volume, e.g. 500GiB', required: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(VolumeCreate);
    const params = { type: 'cached' as const, sizeBytes: flags.cached, ...(args.name === undefined ? {} : { name: args.name }) };
    await this.show(flags, await this.call(flags, 'volume.create', params), volumeView);
  }
}
