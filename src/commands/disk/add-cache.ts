import { addDiskCommand } from '../../cli/add-disk-command.js';

export default addDiskCommand({
  role: 'cache',
  summary: 'Allocate a block device or file as cache storage.',
  description: 'The cache keeps recently written and read data on local disk.',
  examples: ['<%= config.bin %> disk add-cache /dev/sdb', '<%= config.bin %> disk add-cache /var/lib/sgw-disks/cache0 --size 150GiB'],
});
