import { listCommand } from '../../cli/list-command.js';

export default listCommand({
  method: 'snapshot.list',
  summary: 'List the volume snapshots.',
  example: '<%= config.bin %> snapshot list',
  columns: ['ID', 'VOLUME', 'STATUS', 'CREATED', 'DESCRIPTION'],
  row: (s) => [s.snapshotId, s.volumeId, s.status, s.createdAt, s.description],
  empty: 'No snapshots yet.',
});
