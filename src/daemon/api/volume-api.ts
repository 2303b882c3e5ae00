import { z } from 'zod';
import type { VolumeDetails, VolumeSummary } from '../../rpc/api.js';
import type { DaemonContext } from '../context.js';
import { parseParams, withoutParams } from './params.js';

const createParams = z.discriminatedUnion('type', [
  z.object({ name: z.string().min(1).optional(), type: z.literal('cached'), sizeBytes: z.number().int().positive() }).strict(),
  z.object({
    name: z.string().min(1).optional(), type: z.literal('stored'), diskPath: z.string().min(1), preserveExistingData: z.boolean().optional(),
  }).strict(),
]);
const volumeParam = z.object({ volume: z.string().min(1) }).strict();
const deleteParams = volumeParam.extend({ force: z.boolean().optional() }).strict();

export function volumeHandlers(ctx: DaemonContext) {
  return {
    'volume.list': withoutParams((): VolumeSummary[] => ctx.catalog.volumeRecords().map(({ chunkSize: _c, lastUploadAt: _l, diskPath: _d, ...summary }) => summary)),
    'volume.create': async (params: unknown): Promise<VolumeDetails> => {
      const request = parseParams(createParams, params);
      const engine = await ctx.engines.volumes();
      const created = request.type === 'cached'
        ? engine.create({ name: request.name, sizeBytes: request.sizeBytes })
        : await engine.createStored({ name: request.name, diskPath: request.diskPath, preserveExistingData: request.preserveExistingData });
      return engine.describe(created.volumeId);
    },
    'volume.describe': async (params: unknown): Promise<VolumeDetails> => {
      const { volume } = parseParams(volumeParam, params);
      return (await ctx.engines.volumes()).describe(volume);
    },
    'volume.delete': async (params: unknown) => {
      const { volume, force } = parseParams(deleteParams, params);
      const engine = await ctx.engines.volumes();
      const { volumeId } = engine.describe(volume);
      await engine.delete(volumeId, force);
      return { deleted: volumeId };
    },
  };
}
