import type { Catalog } from '../catalog/catalog.js';
import { KeyLocks } from '../chunk-cache-locks.js';
import { ByteRanges, type Range } from './byte-ranges.js';
import type { FileAttributes } from './file-attributes.js';
import type { FileCache } from './file-cache.js';

/**
 * What the gateway holds of one file beyond the bucket. Invariant: every byte of [0, size) is either in `cached`
 * or below `baseSize`, where the object in the bucket still has it.
 */
export interface LocalFile {
  attrs: FileAttributes;
  cached: ByteRanges;
  baseSize: number;
  /** An object stands for the file in the bucket (a file created here has none until its first upload). */
  stored: boolean;
  /** Counts changes; `uploaded` is the one the bucket has, `dataGeneration` the last one that changed bytes. */
  generation: number;
  dataGeneration: number;
  uploaded: number;
  /** When it last changed (ms): it uploads once it has been quiet for the share's settle time. */
  changedAt: number;
  lastUsed: number;
  /** The client's verifier of an exclusive CREATE, so that a retransmitted one succeeds. */
  verifier?: string;
  /** Where the last read from the bucket ended: the next read starting there is sequential. */
  readEnd?: number;
}

interface SavedState {
  attrs: Omit<FileAttributes, 'mtimeNs' | 'atimeNs'> & { mtimeNs: string; atimeNs: string };
  cached: Range[];
  baseSize: number;
  stored: boolean;
  generation: number;
  dataGeneration: number;
  uploaded: number;
  verifier?: string;
}

/** Fetches [start, end) of the file's object in the bucket. */
export type FetchRange = (ino: number, start: number, end: number) => Promise<Buffer>;

/** A read that reaches the bucket sequentially fetches this much beyond what was asked. */
const READ_AHEAD = 8 * 1024 * 1024;
/** Ranged GETs of an upload's fill are at most this big. */
const FILL_PIECE = 8 * 1024 * 1024;
/** A clean file used this recently is not evicted: a read may still be on its cache file. */
const EVICTION_GRACE_MS = 30_000;

/**
 * The files of a share that have local bytes or changes: their cache files, range maps and generations. A file's
 * state is saved in the catalog only after its cache file is synced, so that what the catalog says is cached is
 * on disk (NFS COMMIT, FILE_SYNC writes and SETATTR save it; unstable writes are only in memory until then, as
 * the protocol allows: the write verifier changes with every start, and clients send them again).
 */
export class LocalFiles {
  private readonly files = new Map<number, LocalFile>();
  /** `io:N`: changes of a file's bytes and range map; `op:N`: an upload against a rename or remove. */
  readonly locks = new KeyLocks(() => {});

  private constructor(private readonly o: { shareId: string; catalog: Catalog; cache: FileCache; fetch: FetchRange; cacheBytes: number }) {}

  /** Loads the saved states; cache files without one (clean copies of a previous run) are deleted. */
  static async open(o: { shareId: string; catalog: Catalog; cache: FileCache; fetch: FetchRange; cacheBytes: number }): Promise<LocalFiles> {
    const files = new LocalFiles(o);
    const now = Date.now();
    for (const { ino, state } of o.catalog.shareFiles(o.shareId)) files.files.set(ino, loaded(JSON.parse(state) as SavedState, now));
    for (const ino of await o.cache.inodes()) if (!files.files.has(ino)) await o.cache.remove(ino);
    return files;
  }

  get(ino: number): LocalFile | undefined {
    return this.files.get(ino);
  }

  /** Inodes with changes the bucket does not have. */
  dirty(): number[] {
    return [...this.files].filter(([, f]) => f.generation > f.uploaded).map(([ino]) => ino);
  }

  /** A new, empty file that only the gateway has; saved before this returns. */
  async create(ino: number, attrs: FileAttributes, verifier?: string): Promise<LocalFile> {
    const now = Date.now();
    const file: LocalFile = {
      attrs: { ...attrs, size: 0 }, cached: new ByteRanges(), baseSize: 0, stored: false,
      generation: 1, dataGeneration: 1, uploaded: 0, changedAt: now, lastUsed: now, ...(verifier ? { verifier } : {}),
    };
    this.files.set(ino, file);
    await this.o.cache.truncate(ino, 0);
    await this.save(ino);
    return file;
  }

  /** The local state of a file the bucket has, with nothing cached yet. */
  adopt(ino: number, attrs: FileAttributes): LocalFile {
    let file = this.files.get(ino);
    if (!file) {
      const now = Date.now();
      file = { attrs, cached: new ByteRanges(), baseSize: attrs.size, stored: true, generation: 0, dataGeneration: 0, uploaded: 0, changedAt: now, lastUsed: now };
      this.files.set(ino, file);
    }
    return file;
  }

  async write(ino: number, offset: number, data: Buffer): Promise<FileAttributes> {
    return this.locks.exclusive(`io:${ino}`, async () => {
      const file = this.must(ino);
      await this.o.cache.write(ino, offset, data);
      const end = offset + data.length;
      // Bytes between the old end and a write beyond it are a hole: zeros, which the sparse cache file reads as.
      file.cached.add(Math.min(file.attrs.size, offset), end);
      file.attrs = { ...file.attrs, size: Math.max(file.attrs.size, end), mtimeNs: nowNs() };
      this.changed(file, true);
      return file.attrs;
    });
  }

  /** [offset, offset + length) of the file, clipped to its size: cached bytes from the cache file, the rest fetched. */
  async read(ino: number, offset: number, length: number): Promise<Buffer> {
    const file = this.must(ino);
    file.lastUsed = Date.now();
    const end = Math.min(offset + length, file.attrs.size);
    if (end <= offset) return Buffer.alloc(0);
    const gaps = file.cached.missing(offset, end);
    if (gaps.length > 0) {
      // Clients read ahead themselves, several reads at once and out of order: near the last one counts.
      const sequential = file.readEnd !== undefined && Math.abs(offset - file.readEnd) <= READ_AHEAD;
      const until = Math.min(file.baseSize, sequential ? end + READ_AHEAD : end);
      await this.fetchInto(ino, file.cached.missing(offset, until));
      file.readEnd = end;
    }
    return this.o.cache.read(ino, offset, end - offset);
  }

  /** Fetches whatever of [start, end) is not cached, so that the cache file holds all of it. */
  async fill(ino: number, start: number, end: number): Promise<void> {
    const file = this.must(ino);
    const pieces = file.cached.missing(start, Math.min(end, file.baseSize, file.attrs.size)).flatMap(([s, e]) => split(s, e, FILL_PIECE));
    for (const piece of pieces) await this.fetchInto(ino, [piece]);
  }

  async setAttributes(ino: number, change: Partial<Pick<FileAttributes, 'mode' | 'uid' | 'gid' | 'mtimeNs' | 'atimeNs' | 'size'>>): Promise<FileAttributes> {
    await this.locks.exclusive(`io:${ino}`, async () => {
      const file = this.must(ino);
      const { size, ...rest } = change;
      const sizeChanged = size !== undefined && size !== file.attrs.size;
      if (sizeChanged) {
        await this.o.cache.truncate(ino, size);
        if (size < file.attrs.size) {
          file.cached.clip(size);
          file.baseSize = Math.min(file.baseSize, size);
        } else {
          file.cached.add(file.attrs.size, size);
        }
      }
      file.attrs = { ...file.attrs, ...rest, ...(size !== undefined ? { size } : {}), ...(sizeChanged && rest.mtimeNs === undefined ? { mtimeNs: nowNs() } : {}) };
      this.changed(file, sizeChanged);
    });
    await this.save(ino);
    return this.must(ino).attrs;
  }

  /**
   * Makes the file's state durable: the cache file is synced, then the state as it was before the sync is saved.
   * Returns that state's generation and attributes.
   */
  async save(ino: number): Promise<{ generation: number; attrs: FileAttributes }> {
    const file = this.must(ino);
    const state = saved(file);
    await this.o.cache.sync(ino);
    if (this.files.get(ino) === file) this.o.catalog.saveShareFile(this.o.shareId, ino, JSON.stringify(state));
    return { generation: state.generation, attrs: file.attrs };
  }

  /** The bucket now has generation `generation`, `size` bytes long. */
  async uploaded(ino: number, generation: number, size: number): Promise<void> {
    const file = this.files.get(ino);
    if (!file) return;
    file.uploaded = Math.max(file.uploaded, generation);
    file.stored = true;
    file.baseSize = Math.min(size, file.attrs.size);
    await this.save(ino);
    this.evict();
  }

  /** Forgets the file and its cache file (it was removed, or the bucket's copy is to be read again). */
  async drop(ino: number): Promise<void> {
    this.files.delete(ino);
    this.o.catalog.deleteShareFile(this.o.shareId, ino);
    await this.o.cache.remove(ino);
  }

  /** Forgets every clean file, so that reads fetch from the bucket again (sgw share refresh). */
  async dropClean(): Promise<void> {
    for (const [ino, file] of [...this.files]) if (file.generation === file.uploaded && file.stored) await this.drop(ino);
  }

  async close(): Promise<void> {
    await this.locks.drained();
    await this.o.cache.close();
  }

  private async fetchInto(ino: number, gaps: Range[]): Promise<void> {
    for (const [start, end] of gaps) {
      const data = await this.o.fetch(ino, start, end);
      await this.locks.exclusive(`io:${ino}`, async () => {
        const file = this.files.get(ino);
        if (!file) return;
        // A write or truncate may have come while fetching: only what is still missing is the object's to give.
        for (const [s, e] of file.cached.missing(start, Math.min(end, file.baseSize))) {
          await this.o.cache.write(ino, s, data.subarray(s - start, e - start));
          file.cached.add(s, e);
        }
      });
    }
  }

  private changed(file: LocalFile, data: boolean): void {
    file.generation++;
    if (data) file.dataGeneration = file.generation;
    file.changedAt = file.lastUsed = Date.now();
  }

  /** Clean files go, least recently used first, while the share's cache holds more than it may. */
  private evict(): void {
    let total = [...this.files.values()].reduce((n, f) => n + f.cached.bytes, 0);
    if (total <= this.o.cacheBytes) return;
    const now = Date.now();
    const clean = [...this.files].filter(([, f]) => f.generation === f.uploaded && f.stored && now - f.lastUsed > EVICTION_GRACE_MS)
      .sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
    for (const [ino, file] of clean) {
      if (total <= this.o.cacheBytes) break;
      total -= file.cached.bytes;
      void this.drop(ino);
    }
  }

  private must(ino: number): LocalFile {
    const file = this.files.get(ino);
    if (!file) throw new Error(`inode ${ino} has no local state`);
    return file;
  }
}

function saved(f: LocalFile): SavedState {
  return {
    attrs: { ...f.attrs, mtimeNs: String(f.attrs.mtimeNs), atimeNs: String(f.attrs.atimeNs) },
    cached: f.cached.toJSON(), baseSize: f.baseSize, stored: f.stored,
    generation: f.generation, dataGeneration: f.dataGeneration, uploaded: f.uploaded,
    ...(f.verifier ? { verifier: f.verifier } : {}),
  };
}

function loaded(s: SavedState, now: number): LocalFile {
  return {
    attrs: { ...s.attrs, mtimeNs: BigInt(s.attrs.mtimeNs), atimeNs: BigInt(s.attrs.atimeNs) },
    cached: new ByteRanges(s.cached), baseSize: s.baseSize, stored: s.stored,
    generation: s.generation, dataGeneration: s.dataGeneration, uploaded: s.uploaded,
    changedAt: now, lastUsed: now, ...(s.verifier ? { verifier: s.verifier } : {}),
  };
}

function split(start: number, end: number, piece: number): Range[] {
  const out: Range[] = [];
  for (let s = start; s < end; s += piece) out.push([s, Math.min(end, s + piece)]);
  return out;
}

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
