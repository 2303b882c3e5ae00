import { z } from 'zod';
import { SgwError } from '../../errors.js';
import type { TapeDetails, TapePolicySettings, TapeSummary } from '../../rpc/api.js';
import { parseSize } from '../../sizes.js';
import { DEFAULT_POOL } from '../../storage/tapes/tape-pools.js';
import type { DaemonContext } from '../context.js';
import { parseParams, withoutParams } from './params.js';

const size = z.union([z.number().int().positive(), z.string().min(1)]);
const createParams = z.object({
  size, count: z.number().int().min(1).max(10).optional(), barcodePrefix: z.string().optional(), barcode: z.string().optional(), pool: z.string().optional(),
}).strict().refine((p) => (p.barcode === undefined) !== (p.barcodePrefix === undefined), 'give either a barcode prefix (with a count) or one barcode')
  .refine((p) => p.barcode === undefined || p.count === undefined, 'a count goes with a barcode prefix, not with one barcode');
const barcodeParam = z.object({ barcode: z.string().min(1) }).strict();
const policyParams = z.object({ minimumAvailable: z.number().int().min(1).max(10), size, barcodePrefix: z.string(), pool: z.string().optional() }).strict();

function bytes(value: number | string): number {
  return typeof value === 'number' ? value : parseSize(value);
}

export function tapeHandlers(ctx: DaemonContext) {
  const library = () => ctx.tapes.open();
  return {
    'tape.list': withoutParams(async (): Promise<TapeSummary[]> => (ctx.catalog.tapes().length === 0 ? [] : (await library()).list())),
    'tape.create': async (params: unknown): Promise<TapeSummary[]> => {
      const p = parseParams(createParams, params);
      const created = (await library()).createTapes({
        sizeBytes: bytes(p.size), pool: p.pool ?? DEFAULT_POOL, ...(p.count ? { count: p.count } : {}),
        ...(p.barcodePrefix !== undefined ? { prefix: p.barcodePrefix } : {}), ...(p.barcode !== undefined ? { barcode: p.barcode } : {}),
      });
      return created.map(({ element: _e, sourceElement: _s, ...t }) => t);
    },
    'tape.describe': async (params: unknown): Promise<TapeDetails> => (await library()).describe(parseParams(barcodeParam, params).barcode),
    'tape.delete': async (params: unknown) => {
      const { barcode } = parseParams(barcodeParam, params);
      await (await library()).delete(barcode);
      return { deleted: barcode };
    },
    // As the backup application's move to a mailslot: the tape leaves for its pool's archive.
    'tape.eject': async (params: unknown): Promise<TapeDetails> => {
      const { barcode } = parseParams(barcodeParam, params);
      const lib = await library();
      await lib.eject(barcode);
      return lib.describe(barcode);
    },
    'tape.cancel-archival': async (params: unknown): Promise<TapeDetails> => {
      const { barcode } = parseParams(barcodeParam, params);
      const lib = await library();
      lib.cancelArchival(barcode);
      return lib.describe(barcode);
    },
    'tape.retrieve': async (params: unknown): Promise<TapeDetails> => {
      const { barcode } = parseParams(barcodeParam, params);
      const lib = await library();
      lib.retrieve(barcode);
      return lib.describe(barcode);
    },
    'tape.delete-archive': async (params: unknown) => {
      const { barcode } = parseParams(barcodeParam, params);
      await (await library()).deleteArchive(barcode);
      return { deleted: barcode };
    },
    'tape.policy.show': withoutParams((): TapePolicySettings | null => ctx.catalog.tapePolicy() ?? null),
    // AWS's automatic tape creation: keeps this many empty tapes AVAILABLE in the library.
    'tape.policy.set': async (params: unknown): Promise<TapePolicySettings> => {
      const p = parseParams(policyParams, params);
      const policy = { minimumAvailable: p.minimumAvailable, sizeBytes: bytes(p.size), barcodePrefix: p.barcodePrefix, pool: p.pool ?? DEFAULT_POOL };
      const lib = await library();
      // Checked as a creation would be, so that a bad policy fails here and not in the background.
      lib.checkPolicy(policy);
      ctx.catalog.setTapePolicy(policy);
      lib.archiver.wake();
      return policy;
    },
    'tape.policy.clear': withoutParams(() => {
      if (!ctx.catalog.tapePolicy()) throw new SgwError('SGW_NOT_FOUND', 'there is no tape creation policy');
      ctx.catalog.setTapePolicy(undefined);
      return { cleared: true as const };
    }),
  };
}
