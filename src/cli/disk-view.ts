import type { Disk } from '../rpc/api.js';
import { formatSize } from '../sizes.js';
import { fields, table, type View } from './view.js';

export function diskTable(disks: Disk[]): View {
  return [table(
    ['ID', 'ROLE', 'SIZE', 'KIND', 'PATH'],
    disks.map((d) => [d.diskId, d.role, formatSize(d.sizeBytes), d.kind, d.path]),
    'No disks yet: add one with sgw disk add-cache PATH or sgw disk add-upload-buffer PATH.',
  )];
}

export function diskView(disk: Disk): View {
  return [fields(`Disk ${disk.diskId}`, [
    ['Role', disk.role],
    ['Path', disk.path],
    ['Kind', disk.kind === 'block' ? 'block device' : 'preallocated file'],
    ['Size', `${formatSize(disk.sizeBytes)} (${disk.sizeBytes} bytes)`],
    ['Added', disk.addedAt],
  ])];
}
