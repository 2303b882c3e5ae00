import { open, type FileHandle } from 'node:fs/promises';
import { BugError, SgwError } from '../errors.js';
import { readAt, writeAt } from './positioned-io.js';

export interface CacheDiskSpec {
  path: string;
  sizeBytes: number;
}

interface OpenDisk {
  path: string;
  handle: FileHandle;
  firstSlot: number;
  slots: number;
}

/**
 * The cache disks cut into slots of one chunk each. A slot never straddles two disks, so every chunk is one
 * positioned read or write on one handle; the tail of a disk smaller than a chunk is left unused.
 */
export class CacheDisks {
  private constructor(
    private readonly disks: OpenDisk[],
    private readonly chunkSize: number,
    readonly slotCount: number,
  ) {}

  static async open(specs: CacheDiskSpec[], chunkSize: number): Promise<CacheDisks> {
    const disks: OpenDisk[] = [];
    let firstSlot = 0;
    try {
      for (const spec of specs) {
        const slots = Math.floor(spec.sizeBytes / chunkSize);
        if (slots === 0) continue;
        const handle = await open(spec.path, 'r+').catch((err: NodeJS.ErrnoException) => {
          throw new SgwError('SGW_DISK_UNSUITABLE', `cannot open cache disk ${spec.path}: ${err.message}`, { cause: err });
        });
        disks.push({ path: spec.path, handle, firstSlot, slots });
        firstSlot += slots;
      }
    } catch (err) {
      await Promise.all(disks.map((d) => d.handle.close().catch(() => undefined)));
      throw err;
    }
    return new CacheDisks(disks, chunkSize, firstSlot);
  }

  async read(slot: number, start: number, length: number): Promise<Buffer> {
    const { disk, position } = this.locate(slot, start);
    const buffer = Buffer.allocUnsafe(length);
    const done = await readAt(disk.handle, buffer, position);
    // Only slots written before are read, so the end of the file here means it was truncated under us.
    if (done < length) throw new SgwError('SGW_DISK_UNSUITABLE', `cache disk ${disk.path} ends at ${position + done} bytes, short of its registered size`);
    return buffer;
  }

  async write(slot: number, start: number, data: Buffer): Promise<void> {
    const { disk, position } = this.locate(slot, start);
    await writeAt(disk.handle, data, position);
  }

  async close(): Promise<void> {
    await Promise.all(this.disks.map((d) => d.handle.close()));
  }

  private locate(slot: number, start: number): { disk: OpenDisk; position: number } {
    for (const disk of this.disks) {
      if (slot < disk.firstSlot + disk.slots) return { disk, position: (slot - disk.firstSlot) * this.chunkSize + start };
    }
    throw new BugError(`slot ${slot} is beyond the cache's ${this.slotCount} slots`);
  }
}
