import { Args, Flags } from '@oclif/core';
import { sizeFlag } from '../../cli/flags.js';
import { SgwCommand } from '../../cli/sgw-command.js';
import { volumeView } from '../../cli/volume-view.js';

const KINDS = ['cached', 'stored', 'from-snapshot'];

export default class VolumeCreate extends SgwCommand {
  static override summary = 'Create an iSCSI volume, cached or stored.';
  static override description = `A cached volume (--cached SIZE, 1 GiB to 32 TiB) keeps its data in the object store and recently used data in the local cache; it costs nothing until written.

A stored volume (--stored --disk PATH, 1 GiB to 16 TiB) keeps all its data on a local disk of its own, a block device or a file, and the object store receives its changes asynchronously. The disk is emptied unless --preserve-existing-data is given; then the volume serves what the disk holds and uploads all of it first (status BOOTSTRAPPING).

A volume can start as a copy of a snapshot (--from-snapshot ID, of this gateway or found in the bucket with sgw snapshot list --from-bucket). A cached one, of the snapshot's size, is usable at once and reads the snapshot's data from the object store as needed. A stored one (--stored --disk PATH --from-snapshot ID; a file at least the snapshot's size) is RESTORING while its disk is filled from the object store in the background, and serves reads and writes meanwhile.

Either way, writes are durable in the upload buffer before they are acknowledged. Without a NAME the generated volume ID is its name.`;
  static override examples = [
    '<%= config.bin %> volume create --cached 500GiB',
    '<%= config.bin %> volume create db01 --cached 2TiB',
    '<%= config.bin %> volume create files --stored --disk /dev/sdd --preserve-existing-data',
    '<%= config.bin %> volume create db01-restored --from-snapshot snap-1a2b3c4d',
    '<%= config.bin %> volume create files-restored --stored --disk /var/lib/sgw-disks/files2 --from-snapshot snap-1a2b3c4d',
  ];
  static override args = { name: Args.string({ description: 'volume name (default: the generated ID)' }) };
  static override flags = {
    cached: sizeFlag({ description: 'size of a cached volume, e.g. 500GiB', exclusive: ['stored', 'from-snapshot'], atLeastOne: KINDS }),
    stored: Flags.boolean({ description: 'a stored volume on the local disk given by --disk', dependsOn: ['disk'], exclusive: ['cached'], atLeastOne: KINDS }),
    'from-snapshot': Flags.string({ description: 'restore this snapshot: a cached volume of its size, or with --stored onto the disk', atLeastOne: KINDS }),
    disk: Flags.string({ description: 'block device or file of a stored volume (absolute path)', dependsOn: ['stored'] }),
    'preserve-existing-data': Flags.boolean({ description: 'serve and upload what the disk of a stored volume already holds', dependsOn: ['stored'], exclusive: ['from-snapshot'] }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(VolumeCreate);
    const name = args.name === undefined ? {} : { name: args.name };
    const fromSnapshot = flags['from-snapshot'];
    const params = flags.stored
      ? { ...name, type: 'stored' as const, diskPath: flags.disk ?? '', preserveExistingData: flags['preserve-existing-data'], ...(fromSnapshot === undefined ? {} : { fromSnapshot }) }
      : { ...name, type: 'cached' as const, ...(flags.cached === undefined ? {} : { sizeBytes: flags.cached }), ...(fromSnapshot === undefined ? {} : { fromSnapshot }) };
    await this.show(flags, await this.call(flags, 'volume.create', params), volumeView);
  }
}
