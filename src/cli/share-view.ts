import type { ShareDetails } from '../rpc/api.js';
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
  ])];
}
