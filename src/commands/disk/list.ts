import { diskTable } from '../../cli/disk-view.js';
import { SgwCommand } from '../../cli/sgw-command.js';

export default class DiskList extends SgwCommand {
  static override summary = 'List the cache and upload-buffer disks.';
  static override examples = ['<%= config.bin %> disk list'];

  async run(): Promise<void> {
    const { flags } = await this.parse(DiskList);
    await this.show(flags, await this.call(flags, 'disk.list', {}), diskTable);
  }
}
