import { Args } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { snapshotView } from '../../cli/snapshot-view.js';

export default class SnapshotDescribe extends SgwCommand {
  static override summary = 'Show a snapshot: status, progress, size.';
  static override examples = ['<%= config.bin %> snapshot describe snap-1a2b3c4d'];
  static override args = { snapshot: Args.string({ description: 'snapshot ID', required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SnapshotDescribe);
    await this.show(flags, await this.call(flags, 'snapshot.describe', { snapshot: args.snapshot }), snapshotView);
  }
}
