import { Args, Flags } from '@oclif/core';
import { sizeFlag } from '../../cli/flags.js';
import { SgwCommand } from '../../cli/sgw-command.js';
import { volumeView } from '../../cli/volume-view.js';

export default class VolumeCreate extends SgwCommand {
  static override summary = 'Create an iSCSI volume, cached or stored.';
  static override description = `A cached volume (--cached SIZE, 1 GiB to 32 TiB) keeps its data in the object store and recently used data in the local cache; it costs nothing until written.

A stored volume (--stored --disk PATH, 1 GiB to 16 TiB) keeps all its data on a local disk of its own, a block device or a file, and the object store receives its changes asynchronously. The disk is emptied unless --preserve-existing-data is given; then the volume serves what the disk holds and uploads all of it first (status BOOTSTRAPPING).

Either way, writes are durable in the upload buffer before they are acknowledged. Without a NAME the generated volume ID is its name.`;
  static override examples = [
    '<%= config.bin %> volume create --cached 500GiB',
    '<%= config.bin %> volume create db01 --cached 2TiB',
    '<%= config.bin %> volume create files --stored --disk /dev/sdd --preserve-existing-data',
  ];
  static override args = { name: Args.string({ description: 'volume name (default: the generated ID)' }) };
  static override flags = {
    cached: sizeFlag({ description: 'size of a cached volume, e.g. 500GiB', exactlyOne: ['cached', 'stored'] }),
    stored: Flags.boolean({ description: 'a stored volume on the local disk given by --disk', dependsOn: ['disk'], exactlyOne: ['cached', 'stored'] }),
    disk: Flags.string({ description: 'block device or file of a stored volume (absolute path)', dependsOn: ['stored'] }),
    'preserve-existing-data': Flags.boolean({ description: 'serve and upload what the disk of a stored volume already holds', dependsOn: ['stored'] }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(VolumeCreate);
    const name = args.name === undefined ? {} : { name: args.name };
    const params = flags.cached === undefined
      ? { ...name, type: 'stored' as const, diskPath: flags.disk ?? '', preserveExistingData: flags['preserve-existing-data'] }
      : { ...name, type: 'cached' as const, sizeBytes: flags.cached };
    await this.show(flags, await this.call(flags, 'volume.create', params), volumeView);
  }
}
