import { BugError, SgwError } from '../errors.js';
import { formatSize } from '../sizes.js';
import { CacheDisks, type CacheDiskSpec } from './chunk-cache-disks.js';
import { KeyLocks } from './chunk-cache-locks.js';

export const DEFAULT_CHUNK_SIZE = 2 ** 20;

export interface CacheStats {
  capacityBytes: number;
  usedBytes: number;
  dirtyBytes: number;
  hits: number;
  misses: number;
  evictions: number;
}

interface Entry {
  slot: number;
  dirty: boolean;
}

/**
 * A byte-bounded LRU of fixed-size chunks on the cache disks. The index lives in memory only: after a restart
 * the cache is empty and the volume engine re-dirties what it needs from its journal.
 *
 * Dirty chunks are pinned until markClean or delete; only clean ones are evicted. Operations on one key take
 * effect in call order (reads of it run side by side). A slot is freed only when no I/O is running on it, so a
 * read never sees its slot reused by another chunk mid-way.
 */
export class ChunkCache {
  private readonly entries = new Map<string, Entry>();
  /** Clean entries only, least recently used first: pinned ones are never candidates, so never scanned. */
  private readonly lru = new Map<string, Entry>();
  /** Per slot: one for the entry (or reservation) owning it plus one per I/O running on it; zero means free. */
  private readonly holds: Uint32Array;
  private readonly free: number[];
  private readonly locks = new KeyLocks((key) => {
    if (this.lru.has(key)) this.roomMayHaveAppeared();
  });
  private roomWaiters = new Set<() => void>();
  private dirtyCount = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly disks: CacheDisks,
    readonly chunkSize: number,
  ) {
    this.holds = new Uint32Array(disks.slotCount);
    // Reversed so pop() hands out the lowest slots first: a lightly used cache stays at the start of its disks.
    this.free = Array.from({ length: disks.slotCount }, (_, i) => disks.slotCount - 1 - i);
  }

  static async open(disks: CacheDiskSpec[], chunkSize = DEFAULT_CHUNK_SIZE): Promise<ChunkCache> {
    if (!Number.isSafeInteger(chunkSize) || chunkSize <= 0) throw new BugError(`chunk size ${chunkSize} is not a positive whole number of bytes`);
    if (disks.length === 0) throw new SgwError('SGW_CACHE_NOT_CONFIGURED', 'no cache disk is allocated; add one with sgw disk add-cache PATH');
    const opened = await CacheDisks.open(disks, chunkSize);
    if (opened.slotCount === 0) {
      await opened.close();
      throw new SgwError('SGW_DISK_UNSUITABLE', `the cache disks are smaller than one ${formatSize(chunkSize)} chunk`);
    }
    return new ChunkCache(opened, chunkSize);
  }

  has(key: string): boolean {
    return this.entries.has(key);
  }

  isDirty(key: string): boolean {
    return this.entries.get(key)?.dirty === true;
  }

  /** The chunk's bytes (a full chunkSize Buffer) or undefined; counts a hit or a miss; a hit makes it most recent. */
  get(key: string): Promise<Buffer | undefined> {
    return this.read(key, 0, this.chunkSize);
  }

  /** Reads [start, start+length) of a cached chunk without reading the whole slot; counts a hit or a miss as get does. */
  async read(key: string, start: number, length: number): Promise<Buffer | undefined> {
    this.checkOpen();
    this.checkRange(start, length);
    return this.locks.shared(key, async () => {
      const entry = this.entries.get(key);
      if (!entry) {
        this.misses++;
        return undefined;
      }
      this.hits++;
      this.touch(key, entry);
      return this.withHold(entry.slot, () => this.disks.read(entry.slot, start, length));
    });
  }

  /**
   * Stores a full chunk. dirty=true pins it until markClean. Evicts least-recently-used clean chunks to make
   * room; if every slot is pinned, waits until one is freed, or rejects with SGW_CACHE_FULL when `signal` aborts.
   * A clean put over a dirty chunk leaves the chunk as it is: bytes not yet uploaded are newer than anything
   * the object store can supply. With `at`, only [at, at+data.length) of the slot is written, so a small write
   * costs a small write: the caller must never read the rest of a new slot, which holds whatever it held.
   */
  async put(key: string, data: Buffer, opts: { dirty: boolean; signal?: AbortSignal; at?: number }): Promise<void> {
    this.checkOpen();
    const at = opts.at ?? 0;
    if (opts.at === undefined && data.length !== this.chunkSize) throw new BugError(`a cached chunk is ${this.chunkSize} bytes, not ${data.length}`);
    this.checkRange(at, data.length);
    return this.locks.exclusive(key, async (superseded) => {
      if (superseded()) return;
      const existing = this.entries.get(key);
      if (existing) {
        if (existing.dirty && !opts.dirty) return;
        await this.withHold(existing.slot, () => this.disks.write(existing.slot, at, data));
        if (this.entries.get(key) === existing) this.afterWrite(key, existing, opts.dirty);
        return;
      }
      const slot = await this.reserveSlot(superseded, opts.signal);
      if (slot === undefined) return;
      try {
        await this.disks.write(slot, at, data);
      } catch (err) {
        this.release(slot);
        throw err;
      }
      if (superseded()) {
        this.release(slot);
        return;
      }
      // The reservation's hold becomes the entry's.
      const entry: Entry = { slot, dirty: false };
      this.entries.set(key, entry);
      this.afterWrite(key, entry, opts.dirty);
    });
  }

  /** Overwrites [start, start+data.length) of a cached chunk in place; dirty=true pins it. Rejects with SGW_NOT_FOUND if the key is not cached. */
  async write(key: string, start: number, data: Buffer, opts: { dirty: boolean }): Promise<void> {
    this.checkOpen();
    this.checkRange(start, data.length);
    return this.locks.exclusive(key, async (superseded) => {
      if (superseded()) return;
      const entry = this.entries.get(key);
      if (!entry) throw new SgwError('SGW_NOT_FOUND', `chunk ${key} is not in the cache; put the whole chunk first`);
      await this.withHold(entry.slot, () => this.disks.write(entry.slot, start, data));
      if (this.entries.get(key) === entry) this.afterWrite(key, entry, opts.dirty);
    });
  }

  /**
   * Unpins a chunk; it becomes evictable as the most recently used. Applies to what is stored now: a put or
   * write on the key still in flight pins it again when it lands, since unpinning bytes nobody uploaded loses them.
   */
  markClean(key: string): void {
    const entry = this.entries.get(key);
    if (!entry?.dirty) return;
    entry.dirty = false;
    this.dirtyCount--;
    this.lru.set(key, entry);
    this.roomMayHaveAppeared();
  }

  /** Frees the chunk's slot, dirty or not; puts and writes on the key called before this one no longer store anything. */
  delete(key: string): void {
    this.locks.supersede(key);
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.lru.delete(key);
    if (entry.dirty) this.dirtyCount--;
    this.release(entry.slot);
  }

  stats(): CacheStats {
    const slots = this.disks.slotCount;
    return {
      capacityBytes: slots * this.chunkSize,
      usedBytes: (slots - this.free.length) * this.chunkSize,
      dirtyBytes: this.dirtyCount * this.chunkSize,
      hits: this.hits,
      misses: this.misses,
      evictions: this.evictions,
    };
  }

  /** Resolves when some slot is free or evictable (used by writers waiting for room); rejects with SGW_CACHE_FULL when `signal` aborts. */
  async waitForRoom(signal?: AbortSignal): Promise<void> {
    for (;;) {
      this.checkOpen();
      if (this.free.length > 0 || this.evictable() !== undefined) return;
      await this.roomChange(signal);
    }
  }

  /** Lets running operations finish, refuses new ones and fails writers still waiting for room, then closes the disks. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.roomMayHaveAppeared();
      await this.locks.drained();
      await this.disks.close();
    })();
    return this.closing;
  }

  private async reserveSlot(superseded: () => boolean, signal: AbortSignal | undefined): Promise<number | undefined> {
    for (;;) {
      const slot = this.free.pop();
      if (slot !== undefined) {
        this.holds[slot] = 1;
        return slot;
      }
      const victim = this.evictable();
      if (victim) {
        this.entries.delete(victim.key);
        this.lru.delete(victim.key);
        this.evictions++;
        return victim.entry.slot;
      }
      await this.roomChange(signal);
      this.checkOpen();
      // Deleted while waiting: the put would be thrown away at once, so it need not wait any longer.
      if (superseded()) return undefined;
    }
  }

  /** The least recently used clean chunk with nothing queued on it: a queued operation was promised that chunk. */
  private evictable(): { key: string; entry: Entry } | undefined {
    for (const [key, entry] of this.lru) {
      if (!this.locks.busy(key)) return { key, entry };
    }
    return undefined;
  }

  private roomChange(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const giveUp = (): void => {
        this.roomWaiters.delete(wake);
        const dirty = formatSize(this.dirtyCount * this.chunkSize);
        const capacity = formatSize(this.disks.slotCount * this.chunkSize);
        reject(new SgwError('SGW_CACHE_FULL', `the cache is full (${dirty} of ${capacity} is data not yet uploaded); retry when the upload catches up, or add cache disks`, { cause: signal?.reason }));
      };
      const wake = (): void => {
        signal?.removeEventListener('abort', giveUp);
        resolve();
      };
      if (signal?.aborted) return giveUp();
      signal?.addEventListener('abort', giveUp, { once: true });
      this.roomWaiters.add(wake);
    });
  }

  /** Wakes every waiter to look again; spurious wakes are cheap, a missed one would stall a writer for good. */
  private roomMayHaveAppeared(): void {
    if (this.roomWaiters.size === 0) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = new Set();
    for (const wake of waiters) wake();
  }

  private afterWrite(key: string, entry: Entry, dirty: boolean): void {
    if (dirty && !entry.dirty) {
      entry.dirty = true;
      this.dirtyCount++;
      this.lru.delete(key);
    } else {
      this.touch(key, entry);
    }
  }

  private touch(key: string, entry: Entry): void {
    if (entry.dirty) return;
    this.lru.delete(key);
    this.lru.set(key, entry);
  }

  private async withHold<T>(slot: number, io: () => Promise<T>): Promise<T> {
    this.holds[slot] = (this.holds[slot] ?? 0) + 1;
    try {
      return await io();
    } finally {
      this.release(slot);
    }
  }

  private release(slot: number): void {
    const left = (this.holds[slot] ?? 0) - 1;
    this.holds[slot] = left;
    if (left > 0) return;
    this.free.push(slot);
    this.roomMayHaveAppeared();
  }

  private checkOpen(): void {
    if (this.closing) throw new SgwError('SGW_SHUTTING_DOWN', 'the chunk cache is closed');
  }

  private checkRange(start: number, length: number): void {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length < 0 || start + length > this.chunkSize) {
      throw new BugError(`bytes ${start}..${start + length} are outside a ${this.chunkSize}-byte chunk`);
    }
  }
}
