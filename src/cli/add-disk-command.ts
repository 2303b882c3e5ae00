import { Args } from '@oclif/core';
import type { DiskRole } from '../rpc/api.js';
import { diskView } from './disk-view.js';
import { sizeFlag } from './flags.js';
import { SgwCommand } from './sgw-command.js';

interface AddDiskSpec {
  role: DiskRole;
  summary: string;
  description: string;
  examples: string[];
}

/** add-cache and add-upload-buffer differ only in the role they give the disk and their texts. */
export function addDiskCommand(spec: AddDiskSpec) {
  return class AddDisk extends SgwCommand {
    static override summary = spec.summary;
    static override description = `${spec.description} Allocation is permanent: disks are added, never removed or shrunk. A file is preallocated to --size; a block device is used whole.`;
    static override examples = spec.examples;
    static override args = {
      path: Args.string({ description: 'block device or file (absolute path)', required: true }),
    };

    static override flags = {
      size: sizeFlag({ description: 'size of the file to preallocate, e.g. 150GiB (not for block devices)' }),
    };

    async run(): Promise<void> {
      const { args, flags } = await this.parse(AddDisk);
      const method = spec.role === 'cache' ? 'disk.addCache' : 'disk.addUploadBuffer';
      const params = flags.size === undefined ? { path: args.path } : { path: args.path, sizeBytes: flags.size };
      const result = await this.call(flags, method, params);
      for (const warning of result.warnings) this.warning(warning);
      await this.show(flags, result, (r) => diskView(r.disk));
    }
  };
}
