import { open, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { SgwError, UsageError } from '../../errors.js';
import { blockDeviceSize } from '../disk-allocation.js';
import { readAt, writeAt } from '../positioned-io.js';

/**
 * The local disk of a stored volume, which holds the volume's whole current content. Writes reach it only after
 * their upload-buffer record is durable, so it is synced lazily: before the upload buffer lets those records go.
 */
export class StoredDisk {
  private unsynced = false;

  private constructor(private readonly handle: FileHandle, readonly sizeBytes: number, private readonly chunkSize: number) {}

  static async open(diskPath: string, chunkSize: number): Promise<StoredDisk> {
    const info = await stat(diskPath);
    const size = info.isBlockDevice() ? await blockDeviceSize(diskPath) : info.size;
    return new StoredDisk(await open(diskPath, 'r+'), size, chunkSize);
  }

  /**
   * Checks a disk for a new stored volume, without changing it, and returns its size. A block device keeps
   * whatever it holds, so it must be preserved or wiped first; a restore writes only the snapshot's chunks, so it
   * needs a file, which `empty` makes read as zeros.
   */
  static async inspect(diskPath: string, use: 'empty' | 'preserve' | 'restore'): Promise<number> {
    if (!path.isAbsolute(diskPath)) throw new UsageError(`"${diskPath}" is not an absolute path`, 'SGW_INVALID_ARGUMENT');
    const info = await stat(diskPath).catch(() => {
      throw new SgwError('SGW_PATH_NOT_FOUND', `${diskPath} does not exist; give a block device or a file of the volume's size`);
    });
    if (info.isBlockDevice()) {
      if (use === 'restore') throw new SgwError('SGW_DISK_UNSUITABLE', `${diskPath} is a block device; restore a snapshot onto a file, or into a cached volume`);
      if (use === 'empty') {
        throw new SgwError('SGW_DISK_UNSUITABLE', `${diskPath} is a block device and keeps its data; add --preserve-existing-data to serve it, or wipe it first`);
      }
      return blockDeviceSize(diskPath);
    }
    if (!info.isFile()) throw new SgwError('SGW_DISK_UNSUITABLE', `${diskPath} is neither a regular file nor a block device`);
    return info.size;
  }

  /** Empties a file that is not preserved: it keeps its size and reads as zeros, without writing them. */
  static async empty(diskPath: string): Promise<void> {
    const handle = await open(diskPath, 'r+');
    try {
      const { size } = await handle.stat();
      await handle.truncate(0);
      await handle.truncate(size);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const out = Buffer.alloc(length);
    await readAt(this.handle, out, offset);
    return out;
  }

  /** One whole chunk; the part past the end of the disk reads as zeros, as in a cached volume. */
  async readChunk(index: number): Promise<Buffer> {
    const out = Buffer.alloc(this.chunkSize);
    const start = index * this.chunkSize;
    await readAt(this.handle, out.subarray(0, Math.max(0, Math.min(this.chunkSize, this.sizeBytes - start))), start);
    return out;
  }

  async write(offset: number, data: Buffer): Promise<void> {
    await writeAt(this.handle, data, offset);
    // Only once the write is done: a sync that began while it was in flight need not cover it.
    this.unsynced = true;
  }

  /** Makes every write completed so far durable. */
  async sync(): Promise<void> {
    if (!this.unsynced) return;
    this.unsynced = false;
    await this.handle.datasync();
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
