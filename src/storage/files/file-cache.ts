import { constants } from 'node:fs';
import { mkdir, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** Cache files kept open at most; the least recently used is closed first. */
const MAX_OPEN = 256;

/**
 * A share's local copies of its files: one sparse file per inode, named by the inode number, holding the file's
 * bytes at their own offsets. Which parts are valid is the caller's business (LocalFiles' range maps).
 */
export class FileCache {
  private readonly handles = new Map<number, Promise<FileHandle>>();

  private constructor(readonly dir: string) {}

  static async open(dir: string): Promise<FileCache> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return new FileCache(dir);
  }

  /** The inodes that have a cache file. */
  async inodes(): Promise<number[]> {
    return (await readdir(this.dir)).filter((n) => /^\d+$/.test(n)).map(Number);
  }

  async write(ino: number, offset: number, data: Buffer): Promise<void> {
    const fh = await this.handle(ino);
    let done = 0;
    while (done < data.length) done += (await fh.write(data, done, data.length - done, offset + done)).bytesWritten;
  }

  /** Reads [offset, offset + length); bytes past the cache file's end read as zeros (a sparse tail). */
  async read(ino: number, offset: number, length: number): Promise<Buffer> {
    const fh = await this.handle(ino);
    const buf = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(buf, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf.fill(0, done);
  }

  async truncate(ino: number, size: number): Promise<void> {
    await (await this.handle(ino)).truncate(size);
  }

  /** Makes what was written to the inode's cache file durable (its size included). */
  async sync(ino: number): Promise<void> {
    await (await this.handle(ino)).datasync();
  }

  async remove(ino: number): Promise<void> {
    await this.closeHandle(ino);
    await rm(this.file(ino), { force: true });
  }

  async close(): Promise<void> {
    await Promise.all([...this.handles.keys()].map((ino) => this.closeHandle(ino)));
  }

  /** Closes and deletes every cache file (the share is gone). */
  async destroy(): Promise<void> {
    await this.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  private file(ino: number): string {
    return path.join(this.dir, String(ino));
  }

  private handle(ino: number): Promise<FileHandle> {
    let fh = this.handles.get(ino);
    if (fh) {
      // Map order is insertion order: a hit moves to the end, so the first entry is the least recently used.
      this.handles.delete(ino);
      this.handles.set(ino, fh);
      return fh;
    }
    fh = open(this.file(ino), constants.O_RDWR | constants.O_CREAT, 0o600);
    fh.catch(() => this.handles.delete(ino));
    this.handles.set(ino, fh);
    if (this.handles.size > MAX_OPEN) void this.closeHandle(this.handles.keys().next().value!);
    return fh;
  }

  private async closeHandle(ino: number): Promise<void> {
    const fh = this.handles.get(ino);
    if (!fh) return;
    this.handles.delete(ino);
    await (await fh.catch(() => undefined))?.close();
  }
}
