import { addDiskCommand } from '../../cli/add-disk-command.js';

export default addDiskCommand({
  role: 'upload-buffer',
  summary: 'Allocate a block device or file as upload buffer.',
  description: 'The upload buffer holds every acknowledged write until it is safely in the cloud.',
  examples: ['<%= config.bin %> disk add-upload-buffer /dev/sdc', '<%= config.bin %> disk add-upload-buffer /var/lib/sgw-disks/buffer0 --size 150GiB'],
});
