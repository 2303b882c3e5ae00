import { Flags } from '@oclif/core';
import type { ShareOptions } from '../rpc/api.js';

// The choices repeat the daemon's lists on purpose: importing them would load zod and the storage layer into
// every CLI start, and the daemon checks every value again anyway.
const STORAGE_CLASSES = ['STANDARD', 'INTELLIGENT_TIERING', 'STANDARD_IA', 'ONEZONE_IA'];
const OBJECT_ACLS = ['private', 'public-read', 'public-read-write', 'authenticated-read', 'bucket-owner-read', 'bucket-owner-full-control', 'aws-exec-read'];

/** The settings flags of share create and share update, one definition for both. */
export const shareOptionFlags = {
  'client-list': Flags.string({ description: 'addresses or CIDR blocks allowed to mount, comma-separated (default 0.0.0.0/0)' }),
  squash: Flags.string({ description: 'map root (default), nobody or all users to the share owner', options: ['root', 'none', 'all'] }),
  'read-only': Flags.boolean({ description: 'clients may read but not change anything', allowNo: true }),
  'file-mode': Flags.string({ description: 'mode of files without metadata of their own (default 0666)' }),
  'dir-mode': Flags.string({ description: 'mode of directories without metadata of their own (default 0777)' }),
  owner: Flags.integer({ description: 'owner (uid) of objects without metadata of their own (default 65534)' }),
  group: Flags.integer({ description: 'group (gid) of objects without metadata of their own (default 65534)' }),
  'storage-class': Flags.string({ description: 'storage class of new objects (default STANDARD)', options: STORAGE_CLASSES }),
  'object-acl': Flags.string({ description: 'canned ACL of new objects (default private)', options: OBJECT_ACLS }),
  'cache-stale-timeout': Flags.integer({ description: 'seconds a directory listing is trusted before the bucket is listed again: 0 (only on refresh, the default) or 300-2592000' }),
  'upload-settle': Flags.integer({ description: 'seconds a file stays unwritten before it is uploaded (default 5)' }),
};

type OptionFlags = { [K in keyof typeof shareOptionFlags]?: unknown };

/** The options given on the command line, and only those: what is left out keeps its default or current value. */
export function shareOptions(flags: OptionFlags): Partial<ShareOptions> {
  const given = {
    clientList: typeof flags['client-list'] === 'string' ? flags['client-list'].split(',').map((c) => c.trim()).filter((c) => c !== '') : undefined,
    squash: flags.squash, readOnly: flags['read-only'], fileMode: flags['file-mode'], dirMode: flags['dir-mode'],
    ownerId: flags.owner, groupId: flags.group, storageClass: flags['storage-class'], objectAcl: flags['object-acl'],
    cacheStaleTimeoutSeconds: flags['cache-stale-timeout'], uploadSettleSeconds: flags['upload-settle'],
  };
  return Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<ShareOptions>;
}
