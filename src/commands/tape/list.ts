import { listCommand } from '../../cli/list-command.js';
import { formatSize } from '../../sizes.js';

export default listCommand({
  method: 'tape.list',
  summary: 'List the virtual tapes.',
  example: '<%= config.bin %> tape list',
  columns: ['BARCODE', 'SIZE', 'STATUS', 'CREATED'],
  row: (t) => [t.barcode, formatSize(t.sizeBytes), t.status, t.createdAt],
  empty: 'No virtual tapes yet.',
});
