import { z } from 'zod';
import { checkBucketName, normalizePrefix } from '../backends/bucket-location.js';
import { ANY_CLIENT, ClientList } from './client-list.js';

/**
 * A file share's settings, named and bounded as AWS's NFS file shares are, so that a share set up there reads the
 * same here. Modes are octal strings ("0666") as in AWS's NFSFileShareDefaults.
 */
export const SQUASH = ['root', 'none', 'all'] as const;
export const STORAGE_CLASSES = ['STANDARD', 'INTELLIGENT_TIERING', 'STANDARD_IA', 'ONEZONE_IA'] as const;
export const OBJECT_ACLS = [
  'private', 'public-read', 'public-read-write', 'authenticated-read', 'bucket-owner-read', 'bucket-owner-full-control', 'aws-exec-read',
] as const;

const mode = z.string().regex(/^0?[0-7]{3}$/, 'a mode is 3 or 4 octal digits such as 0644');
const id = z.number().int().min(0).max(4294967294);
// AWS: 0 (no automatic refresh) or 5 minutes to 30 days.
const staleTimeout = z.number().int().refine((s) => s === 0 || (s >= 300 && s <= 2_592_000), 'the cache stale timeout is 0 (off) or 300 to 2592000 seconds');

/** What can change after a share is created: everything but where its objects are. */
export const changeableSettings = z.object({
  clientList: z.array(z.string()).min(1).max(100),
  squash: z.enum(SQUASH),
  readOnly: z.boolean(),
  fileMode: mode,
  dirMode: mode,
  ownerId: id,
  groupId: id,
  storageClass: z.enum(STORAGE_CLASSES),
  objectAcl: z.enum(OBJECT_ACLS),
  cacheStaleTimeoutSeconds: staleTimeout,
  uploadSettleSeconds: z.number().int().min(0).max(3600),
}).strict();

export type ChangeableSettings = z.infer<typeof changeableSettings>;
export type ShareSettings = ChangeableSettings & { bucket: string; prefix: string };

export const DEFAULT_SETTINGS: ChangeableSettings = {
  clientList: [ANY_CLIENT], squash: 'root', readOnly: false, fileMode: '0666', dirMode: '0777', ownerId: 65534, groupId: 65534,
  storageClass: 'STANDARD', objectAcl: 'private', cacheStaleTimeoutSeconds: 0, uploadSettleSeconds: 5,
};

/** Checks settings beyond their shape and puts them in the form stored; throws a UsageError that names the problem. */
export function checkedSettings(s: ShareSettings): ShareSettings {
  const fourDigits = (m: string) => m.padStart(4, '0');
  return { ...s, clientList: [...new ClientList(s.clientList).entries], bucket: checkBucketName(s.bucket), prefix: normalizePrefix(s.prefix), fileMode: fourDigits(s.fileMode), dirMode: fourDigits(s.dirMode) };
}

/** Where a share's objects are, as shown to people: bucket/prefix. */
export function shareLocation(s: Pick<ShareSettings, 'bucket' | 'prefix'>): string {
  return `${s.bucket}/${s.prefix}`;
}
