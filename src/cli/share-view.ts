import type { ShareDetails, ShareRefreshStatus } from '../rpc/api.js';
import { fields, type View } from './view.js';

export function shareView(s: ShareDetails): View {
  return [fields(`Share ${s.name}`, [
    ['ID', s.shareId],
    ['Export', s.exportPath],
    ['Location', s.location],
    ['Status', s.status],
    ['Clients', s.clientList.join(', ')],
    ['Squash', s.squash],
    ['Access', s.readOnly ? 'read-only' : 'read-write'],
    ['Defaults', `files ${s.fileMode}, directories ${s.dirMode}, owner ${s.ownerId}, group ${s.groupId}`],
    ['Storage class', s.storageClass],
    ['Object ACL', s.objectAcl],
    ['Cache stale timeout', s.cacheStaleTimeoutSeconds === 0 ? 'off (sgw share refresh)' : `${s.cacheStaleTimeoutSeconds} s`],
    ['Upload settle', `${s.uploadSettleSeconds} s`],
    ['Created', s.createdAt],
  ]), ...(s.refresh ? refreshView(s.refresh, 'Latest refresh') : [])];
}

export function refreshView(r: ShareRefreshStatus, title: string): View {
  const folders = r.folders.length === 0 ? 'all, listed again as they are browsed' : `${r.folders.join(', ')}${r.recursive ? ', and everything below' : ''}`;
  const status = r.running ? `running${r.folders.length === 0 ? '' : `, ${r.foldersDone} of ${r.folders.length} folders listed`}`
    : r.error ? `failed: ${r.error.message}` : 'done';
  return [fields(title, [['Refresh', r.refreshId], ['Share', r.shareId], ['Folders', folders], ['Status', status], ['Started', r.startedAt], ['Finished', r.finishedAt]])];
}
