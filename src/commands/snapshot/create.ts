import { Args, Flags } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { snapshotView } from '../../cli/snapshot-view.js';

export default class SnapshotCreate extends SgwCommand {
  static override summary = 'Take a point-in-time snapshot of a volume while it stays in use.';
  static override description = `The snapshot holds the volume's content at the moment the command runs; writes after it never reach the snapshot. Only chunks the object store does not hold yet are uploaded, then a manifest, so that any gateway on the same bucket can restore it (sgw volume create NAME --from-snapshot ID).

With --from-recovery-point the snapshot holds a cached volume's latest recovery point instead: the last moment the object store held everything written to the volume (shown by sgw volume describe). Nothing needs uploading then but the manifest.

The status is PENDING until the upload is done, then COMPLETED. With --wait the command shows the progress and returns when the snapshot is COMPLETED (exit 1 if it ends in ERROR).`;
  static override examples = ['<%= config.bin %> snapshot create db01', '<%= config.bin %> snapshot create db01 --description "before upgrade" --wait',
    '<%= config.bin %> snapshot create db01 --from-recovery-point',
  ];
  static override args = { volume: Args.string({ description: 'volume name or ID', required: true }) };
  static override flags = {
    description: Flags.string({ description: 'a note kept with the snapshot (up to 255 characters)' }),
    wait: Flags.boolean({ description: 'wait until the snapshot is COMPLETED, showing its progress' }),
    'from-recovery-point': Flags.boolean({ description: "snapshot the cached volume's latest recovery point, not its content now" }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SnapshotCreate);
    let snapshot = await this.call(flags, 'snapshot.create', {
      volume: args.volume, ...(flags.description === undefined ? {} : { description: flags.description }),
      ...(flags['from-recovery-point'] ? { fromRecoveryPoint: true } : {}),
    });
    const { snapshotId, recoveryPointAt } = snapshot;
    if (flags.wait) {
      snapshot = await this.follow(flags, snapshot, (s) => s.status === 'PENDING',
        async () => ({ ...await this.call(flags, 'snapshot.describe', { snapshot: snapshotId }), ...(recoveryPointAt === undefined ? {} : { recoveryPointAt }) }),
        (s) => ({ label: s.snapshotId, done: s.progressPercent, total: 100 }), 'stderr');
    }
    await this.show(flags, snapshot, snapshotView);
    if (flags.wait && snapshot.status !== 'COMPLETED') this.exit(1);
  }
}
