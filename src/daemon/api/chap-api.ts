import { z } from 'zod';
import { SgwError, UsageError } from '../../errors.js';
import type { ChapEntry } from '../../rpc/api.js';
import type { ChapCredential, VolumeRecord } from '../../storage/catalog/catalog.js';
import type { DaemonContext } from '../context.js';
import { parseParams } from './params.js';

// AWS's rules, so the secrets of a gateway there work here too: 12-16 printable characters.
const secret = z.string().regex(/^[\x21-\x7e]{12,16}$/, 'a CHAP secret is 12 to 16 printable characters without spaces');
const initiatorName = z.string().regex(/^[0-9a-z:.-]{1,255}$/, 'an initiator name is an IQN such as iqn.1993-08.org.debian:01:abc (lowercase)');

const setParams = z.object({ volume: z.string().min(1), initiatorName, secret, targetSecret: secret.optional() }).strict();
const listParams = z.object({ volume: z.string().min(1).optional() }).strict();
const deleteParams = z.object({ volume: z.string().min(1), initiatorName }).strict();

export function chapHandlers(ctx: DaemonContext) {
  const volumeOf = (idOrName: string): VolumeRecord => {
    const volume = ctx.catalog.volume(idOrName);
    if (!volume) throw new SgwError('SGW_NOT_FOUND', `no volume ${idOrName}; sgw volume list shows the volumes`);
    return volume;
  };
  const entry = (volume: VolumeRecord, c: ChapCredential): ChapEntry => ({ volume: volume.name, initiatorName: c.initiatorName, mutual: c.targetSecret !== null });
  return {
    'volume.chap.set': (params: unknown): ChapEntry => {
      const request = parseParams(setParams, params);
      if (request.targetSecret === request.secret) {
        throw new UsageError('the target secret must differ from the initiator secret', 'SGW_INVALID_ARGUMENT');
      }
      const volume = volumeOf(request.volume);
      const credential = { volumeId: volume.volumeId, initiatorName: request.initiatorName, initiatorSecret: request.secret, targetSecret: request.targetSecret ?? null };
      ctx.catalog.setChapCredential(credential);
      ctx.log.info({ volumeId: volume.volumeId, initiator: request.initiatorName, mutual: credential.targetSecret !== null }, 'CHAP secret set');
      return entry(volume, credential);
    },
    'volume.chap.list': (params: unknown): ChapEntry[] => {
      const request = parseParams(listParams, params);
      const volumes = request.volume ? [volumeOf(request.volume)] : ctx.catalog.volumeRecords();
      return volumes.flatMap((v) => ctx.catalog.chapCredentials(v.volumeId).map((c) => entry(v, c)));
    },
    'volume.chap.delete': (params: unknown): { deleted: ChapEntry } => {
      const request = parseParams(deleteParams, params);
      const volume = volumeOf(request.volume);
      const existing = ctx.catalog.chapCredentials(volume.volumeId).find((c) => c.initiatorName === request.initiatorName);
      if (!existing || !ctx.catalog.deleteChapCredential(volume.volumeId, request.initiatorName)) {
        throw new SgwError('SGW_NOT_FOUND', `volume ${volume.name} has no CHAP secret for ${request.initiatorName}; sgw volume chap list shows them`);
      }
      return { deleted: entry(volume, existing) };
    },
  };
}
