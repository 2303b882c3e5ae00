import { open, type FileHandle } from 'node:fs/promises';
import { SgwError } from '../errors.js';
import { regionBytes, SECTOR } from './upload-buffer-layout.js';

export interface UploadBufferDisk {
  path: string;
  sizeBytes: number;
}

/** The superblock lists every disk's size in one 4 KiB copy; far more disks than anyone attaches fit. */
export const MAX_DISKS = 64;

/** The open upload-buffer disks: positioned reads and writes and fdatasync, never a sync fs call. */
export class DiskSet {
  /** fdatasync calls so far, over all disks; group commit keeps this far below the number of appends. */
  syncCount = 0;

  private constructor(readonly disks: readonly UploadBufferDisk[], private readonly handles: FileHandle[]) {}

  static async open(disks: readonly UploadBufferDisk[]): Promise<DiskSet> {
    if (disks.length === 0 || disks.length > MAX_DISKS) {
      throw new SgwError('SGW_DISK_UNSUITABLE', `an upload buffer needs 1 to ${MAX_DISKS} disks, not ${disks.length}`);
    }
    const handles: FileHandle[] = [];
    const seen = new Map<string, string>();
    try {
      for (const [i, disk] of disks.entries()) {
        const handle = await openDisk(disk);
        handles.push(handle);
        const info = await handle.stat();
        checkKindAndSize(disk, i, info);
        // Listing one disk twice (two paths, one file or device) would make the ring overwrite itself.
        const identity = info.isBlockDevice() ? `b${info.rdev}` : `f${info.dev}:${info.ino}`;
        const twin = seen.get(identity);
        if (twin !== undefined) throw new SgwError('SGW_DISK_UNSUITABLE', `${disk.path} and ${twin} are the same disk`);
        seen.set(identity, disk.path);
      }
    } catch (err) {
      await Promise.all(handles.map((h) => h.close().catch(() => undefined)));
      throw err;
    }
    return new DiskSet(disks, handles);
  }

  path(disk: number): string {
    return this.disks[disk]!.path;
  }

  /** Reads `length` bytes at `offset`; bytes past the end of a file read as zeros. */
  async read(disk: number, offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle(disk).read(buf, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf;
  }

  async write(disk: number, offset: number, bufs: Buffer[]): Promise<void> {
    const handle = this.handle(disk);
    const total = bufs.reduce((sum, b) => sum + b.length, 0);
    let done = (await handle.writev(bufs, offset)).bytesWritten;
    if (done === total) return;
    const all = Buffer.concat(bufs);
    while (done < total) {
      const { bytesWritten } = await handle.write(all, done, total - done, offset + done);
      if (bytesWritten === 0) throw new Error(`short write to ${this.path(disk)} at ${offset + done}`);
      done += bytesWritten;
    }
  }

  async sync(disk: number): Promise<void> {
    this.syncCount++;
    await this.handle(disk).datasync();
  }

  async close(): Promise<void> {
    await Promise.all(this.handles.map((h) => h.close()));
  }

  private handle(disk: number): FileHandle {
    return this.handles[disk]!;
  }
}

async function openDisk(disk: UploadBufferDisk): Promise<FileHandle> {
  return open(disk.path, 'r+').catch((err: NodeJS.ErrnoException) => {
    throw new SgwError('SGW_DISK_UNSUITABLE', `cannot open upload buffer disk ${disk.path}: ${err.message}`);
  });
}

function checkKindAndSize(disk: UploadBufferDisk, index: number, info: { size: number; isFile(): boolean; isBlockDevice(): boolean }): void {
  if (!info.isFile() && !info.isBlockDevice()) {
    throw new SgwError('SGW_DISK_UNSUITABLE', `${disk.path} is neither a regular file nor a block device`);
  }
  if (!Number.isSafeInteger(disk.sizeBytes) || regionBytes(disk.sizeBytes, index) < SECTOR) {
    throw new SgwError('SGW_DISK_UNSUITABLE', `${disk.path} is too small for an upload buffer disk (${disk.sizeBytes} bytes)`);
  }
  // A file shorter than its allocation was truncated behind sgw's back; writing past its end would grow it sparse.
  if (info.isFile() && info.size < disk.sizeBytes) {
    throw new SgwError('SGW_DISK_UNSUITABLE', `${disk.path} holds ${info.size} bytes, less than its ${disk.sizeBytes}-byte allocation`);
  }
}
