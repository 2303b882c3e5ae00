import { Args } from '@oclif/core';
import { SgwCommand } from '../../cli/sgw-command.js';
import { fields } from '../../cli/view.js';

export default class SnapshotDelete extends SgwCommand {
  static override summary = 'Delete a snapshot and the data that only it references.';
  static override examples = ['<%= config.bin %> snapshot delete snap-1a2b3c4d'];
  static override args = { snapshot: Args.string({ description: 'snapshot ID', required: true }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(SnapshotDelete);
    const result = await this.call(flags, 'snapshot.delete', { snapshot: args.snapshot });
    await this.show(flags, result, (r) => [fields(undefined, [['Deleted', r.deleted]])]);
  }
}
