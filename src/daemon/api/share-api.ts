import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SgwError } from '../../errors.js';
import type { ShareDetails, ShareRefreshResult, ShareRefreshStatus, ShareSummary, ShareSyncResult } from '../../rpc/api.js';
import type { ShareRecord } from '../../storage/catalog/catalog.js';
import { changeableSettings, checkedSettings, DEFAULT_SETTINGS, shareLocation } from '../../storage/files/share-settings.js';
import type { DaemonContext } from '../context.js';
import { parseParams, withoutParams } from './params.js';

/** AWS's limit of file shares per gateway. */
const MAX_SHARES = 50;
// The name is the export path (/<name>), so it keeps to characters every NFS client passes through unchanged.
// A name that looks like a share ID would be ambiguous wherever a share is named by either.
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, 'a share name is 1-255 letters, digits, ".", "_" and "-", starting with a letter or digit')
  .refine((n) => !/^share-[0-9a-f]{8}$/.test(n), 'a share name cannot look like a share ID (share-xxxxxxxx)');
const createParams = changeableSettings.partial().extend({ name, bucket: z.string(), prefix: z.string().optional() }).strict();
const updateParams = changeableSettings.partial().extend({ share: z.string().min(1) }).strict();
const shareParam = z.object({ share: z.string().min(1) }).strict();
const deleteParams = shareParam.extend({ force: z.boolean().optional() }).strict();
const syncParams = shareParam.extend({ wait: z.boolean().optional() }).strict();
const refreshParams = shareParam.extend({
  folders: z.array(z.string().min(1)).max(100).optional(), recursive: z.boolean().optional(), wait: z.boolean().optional(),
}).strict();
const refreshStatusParams = shareParam.extend({ refreshId: z.string().min(1) }).strict();
const restoreParams = shareParam.extend({
  path: z.string().min(1), days: z.number().int().min(1).max(30).optional(), tier: z.enum(['Expedited', 'Standard', 'Bulk']).optional(),
}).strict();

function summary({ settings: _s, ...s }: ShareRecord): ShareSummary {
  return s;
}

function details({ settings, ...s }: ShareRecord): ShareDetails {
  return { ...s, ...settings, exportPath: `/${s.name}` };
}

export function shareHandlers(ctx: DaemonContext) {
  const shareOf = (idOrName: string): ShareRecord => {
    const share = ctx.catalog.share(idOrName);
    if (!share) throw new SgwError('SGW_NOT_FOUND', `there is no share ${idOrName}; sgw share list shows the shares`);
    return share;
  };
  return {
    'share.list': withoutParams((): ShareSummary[] => ctx.catalog.shares().map(summary)),
    'share.create': (params: unknown): ShareDetails => {
      const { name: shareName, bucket, prefix, ...options } = parseParams(createParams, params);
      const settings = checkedSettings({ ...DEFAULT_SETTINGS, ...options, bucket, prefix: prefix ?? '' });
      if (ctx.catalog.shares().length >= MAX_SHARES) {
        throw new SgwError('SGW_LIMIT_EXCEEDED', `a gateway has at most ${MAX_SHARES} file shares; delete one first`);
      }
      const record: ShareRecord = {
        shareId: `share-${randomBytes(4).toString('hex')}`, name: shareName, location: shareLocation(settings),
        status: 'AVAILABLE', createdAt: new Date().toISOString(), settings,
      };
      ctx.catalog.addShare(record);
      ctx.log.info({ shareId: record.shareId, name: shareName, location: record.location }, 'share created');
      return details(record);
    },
    'share.describe': (params: unknown): ShareDetails => {
      const share = shareOf(parseParams(shareParam, params).share);
      const refresh = ctx.shares.refreshStatus(share.shareId);
      return { ...details(share), ...(refresh ? { refresh } : {}) };
    },
    'share.update': (params: unknown): ShareDetails => {
      const { share, ...change } = parseParams(updateParams, params);
      const current = shareOf(share);
      const settings = checkedSettings({ ...current.settings, ...change });
      ctx.catalog.setShareSettings(current.shareId, settings);
      ctx.log.info({ shareId: current.shareId, change }, 'share updated');
      return details({ ...current, settings });
    },
    // As AWS's RefreshCache: asynchronous, its end observed by polling share.refresh.status (or awaited with wait).
    'share.refresh': async (params: unknown): Promise<ShareRefreshResult> => {
      const { share: idOrName, folders, recursive, wait } = parseParams(refreshParams, params);
      const share = shareOf(idOrName);
      const started = await ctx.shares.startRefresh(share.shareId, folders, recursive ?? false);
      return { refreshed: share.shareId, refresh: wait ? await ctx.shares.refreshEnded(share.shareId, started.refreshId) : started };
    },
    'share.refresh.status': (params: unknown): ShareRefreshStatus => {
      const { share: idOrName, refreshId } = parseParams(refreshStatusParams, params);
      const share = shareOf(idOrName);
      const status = ctx.shares.refreshStatus(share.shareId, refreshId);
      if (!status) throw new SgwError('SGW_NOT_FOUND', `share ${share.name} has no refresh ${refreshId} (sgwd keeps the last few since it started)`);
      return status;
    },
    // The restored copy stays readable for `days` (AWS's gateway keeps it for a day unless told otherwise).
    'share.restore': async (params: unknown) => {
      const { share: idOrName, path, days, tier } = parseParams(restoreParams, params);
      const share = shareOf(idOrName);
      const key = await ctx.shares.restore(share.shareId, path, { days: days ?? 1, tier: tier ?? 'Standard' });
      return { shareId: share.shareId, path, key: share.settings.prefix + key, status: 'RESTORING' as const };
    },
    // As AWS's NotifyWhenUploaded: with wait, returns once everything written before the call is in the bucket.
    'share.sync': async (params: unknown): Promise<ShareSyncResult> => {
      const { share: idOrName, wait } = parseParams(syncParams, params);
      const share = shareOf(idOrName);
      if (wait) await ctx.shares.sync(share.shareId);
      const backlog = await ctx.shares.backlog(share.shareId);
      return { shareId: share.shareId, pendingFiles: backlog.files, pendingBytes: backlog.bytes };
    },
    // As AWS's DeleteFileShare: the share goes once its uploads are done, or at once with force (they are dropped).
    'share.delete': async (params: unknown) => {
      const { share: idOrName, force } = parseParams(deleteParams, params);
      const share = shareOf(idOrName);
      await ctx.shares.remove(share.shareId, force ?? false);
      ctx.catalog.deleteShare(share.shareId);
      ctx.log.info({ shareId: share.shareId }, 'share deleted');
      return { deleted: share.shareId };
    },
  };
}
