import { Args } from '@oclif/core';
import { diskView } from '../../cli/disk-view.js';
import { SgwCommand } from '../../cli/sgw-command.js';

export default class DiskDescribe extends SgwCommand {
  static override summary = 'Show one disk.';
  static override args = { disk: Args.string({ description: 'disk ID or path', required: true }) };
  static override examples = ['<%= config.bin %> disk describe disk-3f9a1c2e', '<%= config.bin %> disk describe /dev/sdb'];

  async run(): Promise<void> {
    const { args, flags } = await this.parse(DiskDescribe);
    await this.show(flags, await this.call(flags, 'disk.describe', { disk: args.disk }), diskView);
  }
}
