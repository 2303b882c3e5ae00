import { listCommand } from '../../cli/list-command.js';

export default listCommand({
  method: 'share.list',
  summary: 'List the NFS file shares.',
  example: '<%= config.bin %> share list',
  columns: ['NAME', 'ID', 'LOCATION', 'STATUS', 'CREATED'],
  row: (s) => [s.name, s.shareId, s.location, s.status, s.createdAt],
  empty: 'No file shares yet.',
});
