import { listCommand } from '../../cli/list-command.js';
import { formatSize } from '../../sizes.js';

export default listCommand({
  method: 'volume.list',
  summary: 'List the iSCSI volumes.',
  example: '<%= config.bin %> volume list',
  columns: ['NAME', 'ID', 'TYPE', 'SIZE', 'STATUS', 'CREATED'],
  row: (v) => [v.name, v.volumeId, v.type, formatSize(v.sizeBytes), v.status, v.createdAt],
  empty: 'No volumes yet.',
});
