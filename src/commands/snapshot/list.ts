import { Flags } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { snapshotTable } from '../../cli/snapshot-view.js';

export default class SnapshotList extends SgwCommand {
  static override summary = 'List the volume snapshots, of this gateway or found in the bucket.';
  static override description = 'With --from-bucket, the completed snapshots whose manifests are in the bucket are listed, whichever gateway took them: any of them can be restored with sgw volume create --from-snapshot ID.';
  static override examples = ['<%= config.bin %> snapshot list', '<%= config.bin %> snapshot list --volume db01', '<%= config.bin %> snapshot list --from-bucket'];
  static override flags = {
    volume: Flags.string({ description: 'only the snapshots of this volume (name or ID)' }),
    'from-bucket': Flags.boolean({ description: 'list the snapshot manifests in the bucket instead of the catalog' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SnapshotList);
    const params = { ...(flags.volume === undefined ? {} : { volume: flags.volume }), ...(flags['from-bucket'] ? { fromBucket: true } : {}) };
    await this.show(flags, await this.call(flags, 'snapshot.list', params), snapshotTable);
  }
}
