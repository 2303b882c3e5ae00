import type { VolumeDetails } from '../rpc/api.js';
import { formatSize } from '../sizes.js';
import { fields, table, type View } from './view.js';

export function volumeView(v: VolumeDetails): View {
  return [fields(`Volume ${v.name}`, [
    ['ID', v.volumeId],
    ['Type', v.type],
    ['Disk', v.diskPath],
    ['Status', v.status],
    ['Size', `${formatSize(v.sizeBytes)} (${v.sizeBytes} bytes)`],
    ['Used', formatSize(v.bytesUsed)],
    ['Dirty', formatSize(v.dirtyBytes)],
    ['Cache hits', v.cacheHitPercent === null ? 'no reads yet' : `${v.cacheHitPercent}%`],
    ['Upload backlog', formatSize(v.uploadBacklogBytes)],
    ['Last upload', v.lastUploadAt ?? 'never'],
    ['Recovery point', v.type === 'cached' ? v.recoveryPointAt ?? 'none yet' : undefined],
    ['Created', v.createdAt],
    ['Target', v.targetName],
  ]), table(['INITIATOR', 'ADDRESS', 'LOGGED IN'], v.initiators.map((i) => [i.initiatorName, i.address, i.loggedInAt]), 'No initiators logged in.')];
}
