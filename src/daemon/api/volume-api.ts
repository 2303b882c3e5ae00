import { z } from 'zod';
import { SgwError } from '../../errors.js';
import type { VolumeDetails, VolumeSummary } from '../../rpc/api.js';
import type { VolumeEngine } from '../../storage/volumes/volume-engine.js';
import type { DaemonContext } from '../context.js';
import { parseParams, withoutParams } from './params.js';

const createParams = z.discriminatedUnion('type', [
  z.object({
    name: z.string().min(1).optional(), type: z.literal('cached'), sizeBytes: z.number().int().positive().optional(), fromSnapshot: z.string().min(1).optional(),
  }).strict().refine((r) => r.sizeBytes !== undefined || r.fromSnapshot !== undefined, { message: 'a cached volume needs a size, or a snapshot to restore' }),
  z.object({
    name: z.string().min(1).optional(), type: z.literal('stored'), diskPath: z.string().min(1), preserveExistingData: z.boolean().optional(),
    fromSnapshot: z.string().min(1).optional(),
  }).strict().refine((r) => !(r.preserveExistingData && r.fromSnapshot), { message: 'a volume restored from a snapshot cannot also preserve the data on its disk' }),
]);
const cloneParams = z.object({ source: z.string().min(1), name: z.string().min(1), sizeBytes: z.number().int().positive().optional() }).strict();
const volumeParam = z.object({ volume: z.string().min(1) }).strict();
const deleteParams = volumeParam.extend({ force: z.boolean().optional() }).strict();

export function volumeHandlers(ctx: DaemonContext) {
  const { portal, targets } = ctx.iscsi;
  /** The engine's view of the volume, with its target and the initiators logged in to it. */
  const details = (engine: VolumeEngine, volume: string): VolumeDetails => {
    const described = engine.describe(volume);
    const targetName = targets.nameOf(described.name);
    const initiators = portal.sessions().filter((s) => s.targetName === targetName)
      .map((s) => ({ initiatorName: s.initiatorName, address: s.initiatorAddress, loggedInAt: s.loggedInAt }));
    return { ...described, targetName, initiators };
  };
  return {
    'volume.list': withoutParams((): VolumeSummary[] => ctx.catalog.volumeRecords().map(({ chunkSize: _c, lastUploadAt: _l, diskPath: _d, ...summary }) => summary)),
    'volume.create': async (params: unknown): Promise<VolumeDetails> => {
      const request = parseParams(createParams, params);
      const engine = await ctx.engines.volumes();
      const created = request.fromSnapshot !== undefined
        ? await engine.createFromSnapshot({
          name: request.name, snapshotId: request.fromSnapshot,
          ...(request.type === 'stored' ? { diskPath: request.diskPath } : { sizeBytes: request.sizeBytes }),
        })
        : request.type === 'stored'
          ? await engine.createStored({ name: request.name, diskPath: request.diskPath, preserveExistingData: request.preserveExistingData })
          : engine.create({ name: request.name, sizeBytes: request.sizeBytes! });
      return details(engine, created.volumeId);
    },
    'volume.clone': async (params: unknown): Promise<VolumeDetails> => {
      const request = parseParams(cloneParams, params);
      const engine = await ctx.engines.volumes();
      return details(engine, engine.cloneVolume(request).volumeId);
    },
    'volume.describe': async (params: unknown): Promise<VolumeDetails> => {
      const { volume } = parseParams(volumeParam, params);
      return details(await ctx.engines.volumes(), volume);
    },
    'volume.delete': async (params: unknown) => {
      const { volume, force } = parseParams(deleteParams, params);
      const engine = await ctx.engines.volumes();
      const { volumeId, name, targetName, initiators } = details(engine, volume);
      if (initiators.length > 0 && !force) {
        throw new SgwError('SGW_IN_USE', `volume ${name} is in use by ${initiators.map((i) => i.initiatorName).join(', ')}; log them out or add --force`);
      }
      await engine.delete(volumeId);
      portal.dropTarget(targetName);
      return { deleted: volumeId };
    },
  };
}
