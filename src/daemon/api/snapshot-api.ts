import { z } from 'zod';
import { SgwError } from '../../errors.js';
import type { SnapshotDetails, SnapshotSummary } from '../../rpc/api.js';
import type { SnapshotRecord } from '../../storage/catalog/catalog.js';
import type { VolumeEngine } from '../../storage/volumes/volume-engine.js';
import type { DaemonContext } from '../context.js';
import { parseParams } from './params.js';

const createParams = z.object({ volume: z.string().min(1), description: z.string().max(255).optional(), fromRecoveryPoint: z.boolean().optional() }).strict();
const snapshotParam = z.object({ snapshot: z.string().min(1) }).strict();
const listParams = z.object({ volume: z.string().min(1).optional(), fromBucket: z.boolean().optional() }).strict();
const scheduleParams = z.object({
  volume: z.string().min(1), startAt: z.number().int().optional(), everyHours: z.number().int().optional(), cron: z.string().optional(),
}).strict();

function summary({ chunkSize: _c, completedAt: _d, error: _e, ...s }: SnapshotRecord): SnapshotSummary {
  return s;
}

export function snapshotHandlers(ctx: DaemonContext) {
  const details = (engine: VolumeEngine, snapshotId: string): SnapshotDetails => {
    const s = ctx.catalog.snapshot(snapshotId);
    if (!s) throw new SgwError('SGW_NOT_FOUND', `there is no snapshot ${snapshotId}; see sgw snapshot list`);
    return { ...s, ...engine.snapshotProgress(snapshotId) };
  };
  return {
    'snapshot.create': async (params: unknown): Promise<SnapshotDetails> => {
      const { volume, description, fromRecoveryPoint } = parseParams(createParams, params);
      const engine = await ctx.engines.volumes();
      if (!fromRecoveryPoint) return details(engine, engine.createSnapshot(volume, description).snapshotId);
      const { snapshot, recoveryPointAt } = engine.createSnapshotFromRecoveryPoint(volume, description);
      return { ...details(engine, snapshot.snapshotId), recoveryPointAt };
    },
    'snapshot.describe': async (params: unknown): Promise<SnapshotDetails> => {
      const { snapshot } = parseParams(snapshotParam, params);
      return details(await ctx.engines.volumes(), snapshot);
    },
    'snapshot.delete': async (params: unknown) => {
      const { snapshot } = parseParams(snapshotParam, params);
      await (await ctx.engines.volumes()).deleteSnapshot(snapshot);
      return { deleted: snapshot };
    },
    'snapshot.schedule': (params: unknown) => {
      const { volume, ...change } = parseParams(scheduleParams, params);
      return Object.keys(change).length === 0 ? ctx.schedules.describe(volume) : ctx.schedules.set(volume, change);
    },
    /** The catalog's snapshots; with fromBucket, those whose manifests are in the bucket (from any gateway). */
    'snapshot.list': async (params: unknown): Promise<SnapshotSummary[]> => {
      const { volume, fromBucket } = parseParams(listParams, params);
      const volumeId = volume === undefined ? undefined : ctx.catalog.volume(volume)?.volumeId;
      if (volume !== undefined && volumeId === undefined && !fromBucket) throw new SgwError('SGW_NOT_FOUND', `there is no volume ${volume}; see sgw volume list`);
      const records = fromBucket ? await (await ctx.engines.volumes()).bucketSnapshots() : ctx.catalog.snapshots(volumeId);
      return records.filter((s) => volume === undefined || s.volumeId === volume || s.volumeName === volume).map(summary);
    },
  };
}
