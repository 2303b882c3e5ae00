import { unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { SgwError } from '../../errors.js';
import type { AddDiskResult, Disk, DiskRole } from '../../rpc/api.js';
import { formatSize } from '../../sizes.js';
import { allocateDisk } from '../../storage/disk-allocation.js';
import type { DaemonContext } from '../context.js';
import { parseParams, withoutParams } from './params.js';

const addDiskParams = z.object({
  path: z.string().min(1),
  sizeBytes: z.number().int().positive().optional(),
}).strict();

const describeParams = z.object({ disk: z.string().min(1) }).strict();

export function diskHandlers(ctx: DaemonContext) {
  return {
    'disk.list': withoutParams((): Disk[] => ctx.catalog.disks()),
    'disk.describe': (params: unknown): Disk => {
      const { disk } = parseParams(describeParams, params);
      const found = ctx.catalog.disks().find((d) => d.diskId === disk || d.path === disk);
      if (!found) throw new SgwError('SGW_NOT_FOUND', `no disk ${disk}; sgw disk list shows the gateway's disks`);
      return found;
    },
    'disk.addCache': (params: unknown) => addDisk(ctx, 'cache', parseParams(addDiskParams, params)),
    'disk.addUploadBuffer': (params: unknown) => addDisk(ctx, 'upload-buffer', parseParams(addDiskParams, params)),
  };
}

async function addDisk(ctx: DaemonContext, role: DiskRole, req: z.infer<typeof addDiskParams>): Promise<AddDiskResult> {
  if (!ctx.catalog.gateway()) {
    throw new SgwError('SGW_NOT_ACTIVATED', 'the gateway is not activated yet; run sgw activate first');
  }
  if (ctx.engines.volumesOpen) {
    throw new SgwError('SGW_IN_USE', 'the volumes run on the current disks, which cannot change under them; delete the volumes before adding disks');
  }
  if (ctx.catalog.disks().some((d) => d.path === req.path)) {
    throw new SgwError('SGW_ALREADY_EXISTS', `${req.path} is already allocated; a disk is added once and never removed`);
  }
  const allocated = await allocateDisk(req.path, req.sizeBytes);
  const disk: Disk = {
    diskId: `disk-${randomBytes(4).toString('hex')}`,
    path: allocated.path,
    kind: allocated.kind,
    role,
    sizeBytes: allocated.sizeBytes,
    addedAt: new Date().toISOString(),
  };
  try {
    ctx.catalog.addDisk(disk);
  } catch (err) {
    if (allocated.created) await unlink(allocated.path).catch(() => undefined);
    throw err;
  }
  ctx.log.info({ disk }, 'disk allocated');
  return { disk, warnings: capacityWarnings(ctx.catalog.disks()) };
}

/** AWS's advice holds here too: a cache smaller than the upload buffer makes every upload a cache miss later. */
function capacityWarnings(disks: Disk[]): string[] {
  const total = (role: DiskRole) => disks.filter((d) => d.role === role).reduce((sum, d) => sum + d.sizeBytes, 0);
  const cache = total('cache');
  const buffer = total('upload-buffer');
  if (cache > 0 && buffer > 0 && cache < buffer) {
    return [`the cache (${formatSize(cache)}) is smaller than the upload buffer (${formatSize(buffer)}); add cache so recently written data can still be read locally`];
  }
  return [];
}
