import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { SgwError } from '../../errors.js';
import type { Logger } from 'pino';
import type { ObjectStore } from '../backends/object-store.js';
import type { Catalog, SnapshotRecord, VolumeRecord } from '../catalog/catalog.js';
import type { IoCounters } from '../../rpc/api.js';
import type { CacheStats, ChunkCache } from '../chunk-cache.js';
import { countedRead, countedWrite, emptyIoCounters } from '../io-counters.js';
import { KeyedLock } from '../keyed-lock.js';
import type { UploadBuffer } from '../upload-buffer.js';
import { chunkHash, chunkObjectKey, isAllZero, readChunkObject } from './chunk-objects.js';
import { addExtent, covers, type Extent } from './extents.js';
import { decodeManifest, encodeManifest, SNAPSHOT_MANIFEST_PREFIX, snapshotManifestKey } from './snapshot-manifest.js';
import { StoredDisk } from './stored-disk.js';
import { checkNewVolume } from './volume-limits.js';

/**
 * The block engine behind cached and stored volumes. It owns the store, upload buffer and cache it is opened on. The object store is primary; a volume is a sparse map chunk index ->
 * content hash. Every write is appended to the upload buffer (fsync'd, group-committed) and applied to the cache
 * before it is acknowledged; the uploader then turns dirty chunks into content-addressed objects, commits the map
 * in the catalog, and only then lets the upload buffer reclaim the records. After a crash the records still in
 * the upload buffer are applied again, so every acknowledged write survives.
 */
export interface VolumeEngineOptions {
  catalog: Catalog;
  store: ObjectStore;
  journal: UploadBuffer;
  cache: ChunkCache;
  log: Logger;
  /** How long a write waits for room in the upload buffer or cache before it is refused (then: BUSY). */
  admissionTimeoutMs?: number;
  uploadParallelism?: number;
  /**
   * How long writes stay quiet before chunks are uploaded, so a burst of small writes to one chunk costs one
   * upload and uploads do not compete with writers for the disks (rclone's --vfs-write-back plays the same part).
   * Under steady writes a chunk waits at most MAX_WRITE_BACK_DEFER_MS; nothing waits once the upload buffer or
   * cache is half full.
   */
  writeBackDelayMs?: number;
}

export interface VolumeDetails extends VolumeRecord {
  /** A cached volume's latest recovery point: the last moment the store held everything written to it. */
  recoveryPointAt: string | null;
  bytesUsed: number;
  dirtyBytes: number;
  cacheHitPercent: number | null;
  uploadBacklogBytes: number;
}

interface DirtyChunk {
  /** The oldest upload-buffer record not yet in the object store for this chunk: the buffer keeps it until then. */
  firstSeq: number;
  lastSeq: number;
  writtenAt: number;
  /** The whole chunk was unmapped: it reads as zeros and holds no cache slot. */
  zeroed: boolean;
  /** The bytes of the cache slot that are current; the rest of the chunk is its base, not yet in the slot. */
  extents: Extent[] | null;
  /** The base outside `extents` is zeros (the chunk was unmapped or never stored), not the chunk's object. */
  baseIsZero: boolean;
}

interface Volume {
  record: VolumeRecord;
  map: Map<number, string>;
  dirty: Map<number, DirtyChunk>;
  uploading: Set<number>;
  failures: Map<number, { attempts: number; retryAt: number }>;
  hits: number;
  misses: number;
  /** Reads and writes of clients since the engine opened. */
  io: IoCounters;
  deleted: boolean;
  /** A stored volume's local disk; a cached volume keeps its data in the cache and the store. */
  disk?: StoredDisk;
  /** Upload-buffer records of this volume up to this seq are on its disk already: replay skips them. */
  passThroughSeq: number;
  /** Set from the moment a stored volume starts going PASS THROUGH; resolves once that is durable. */
  passThrough?: Promise<void>;
  /** Writes of a stored volume that go through the upload buffer and have not finished yet. */
  journaled: number;
  /**
   * Chunks that pending snapshots still need as they were at their instant, and which snapshots: a write to one
   * captures it first (copy-on-write).
   */
  owed: Map<number, Set<string>>;
  /** Chunks of a stored volume restored from a snapshot that its disk does not hold yet (status RESTORING). */
  unfilled: Set<number>;
  /** Map entries that may differ from the recovery point ('all': not known, as after a restart). Cached volumes only. */
  recoveryPointChanged: Set<number> | 'all';
}

/** The part of an I/O that falls in one chunk: its range within the chunk and its place in the I/O. */
interface Piece {
  index: number;
  start: number;
  end: number;
  at: number;
  whole: boolean;
}

/** `durable: false` is a write into a volatile write cache: written, and durable at the next flush. */
type Op = ({ kind: 'data'; offset: number; length: number; data: Buffer } | { kind: 'zero'; offset: number; length: number }) & { durable: boolean };

const MAX_BACKOFF_MS = 5_000;
/** The longest a written chunk waits for writes to pause before it is uploaded anyway (Linux's dirty_expire is 30 s). */
const MAX_WRITE_BACK_DEFER_MS = 30_000;
/** Chunks a pending snapshot captures at once in the background, as the uploader's workers do. */
const CAPTURE_PARALLELISM = 8;

export class VolumeEngine {
  private readonly volumes = new Map<string, Volume>();
  private readonly locks = new KeyedLock();
  private readonly progress = new EventEmitter();
  /** Lower bounds of the seqs of appends not yet durable, and the seqs durable but not yet applied. */
  private readonly appending = new Set<{ lowerBound: number }>();
  private readonly unapplied = new Set<number>();
  private reservedSlots = 0;
  /** Stands in for a record's seq in writes that bypass the upload buffer: unique, and below every real seq. */
  private throughSeq = 0;
  private lastWriteAt = 0;
  private draining = 0;
  private replaying = true;
  private closed = false;
  private readonly workers: Promise<void>[] = [];
  private readonly chunkSize: number;

  private constructor(private readonly o: VolumeEngineOptions) {
    this.chunkSize = o.cache.chunkSize;
    this.progress.setMaxListeners(0);
  }

  static async open(options: VolumeEngineOptions): Promise<VolumeEngine> {
    const engine = new VolumeEngine(options);
    for (const record of options.catalog.volumeRecords()) await engine.load(record);
    // Uploads run during replay: a cache smaller than the backlog frees slots as replayed chunks are uploaded.
    engine.startUploader();
    for await (const rec of options.journal.replay()) {
      const volume = engine.volumes.get(rec.stream);
      if (!volume || rec.seq <= volume.passThroughSeq) continue;
      const op: Op = rec.kind === 'data' && rec.data
        ? { kind: 'data', offset: rec.offset, length: rec.length, data: rec.data, durable: true }
        : { kind: 'zero', offset: rec.offset, length: rec.length, durable: true };
      // Under the chunks' locks like any write: uploads of replayed chunks are already running.
      const pieces = engine.piecesOf(volume, op);
      const unlock = await engine.locks.acquire(pieces.map((p) => engine.key(volume, p.index)));
      try {
        await engine.apply(volume, rec.seq, op, pieces);
      } finally {
        unlock();
      }
    }
    engine.replaying = false;
    for (const volume of engine.volumes.values()) engine.recordRecoveryPoint(volume);
    engine.resumeSnapshots();
    await engine.releaseJournal();
    options.log.info({ volumes: engine.volumes.size, dirtyChunks: engine.dirtyChunkCount() }, 'volume engine ready');
    return engine;
  }

  /**
   * Takes a volume of the catalog into service: its map, its disk, and a bootstrap it has yet to finish. Which
   * chunks changed during PASS THROUGH was known only in memory, so after a restart the whole disk is uploaded
   * again (chunks the store already has cost only a hash).
   */
  private async load(record: VolumeRecord): Promise<void> {
    const disk = record.diskPath ? await StoredDisk.open(record.diskPath, this.chunkSize) : undefined;
    const volume = this.track(record, disk);
    if (record.status === 'PASS THROUGH') this.setStatus(volume, 'BOOTSTRAPPING');
    if (volume.record.status === 'BOOTSTRAPPING') this.bootstrap(volume);
  }

  private track(record: VolumeRecord, disk?: StoredDisk): Volume {
    const volume: Volume = {
      record, map: this.o.catalog.chunkMap(record.volumeId), dirty: new Map(), uploading: new Set(), failures: new Map(),
      hits: 0, misses: 0, io: emptyIoCounters(), deleted: false, ...(disk ? { disk } : {}),
      passThroughSeq: this.o.catalog.passThroughSeq(record.volumeId), journaled: 0, owed: new Map(),
      unfilled: new Set(disk ? this.o.catalog.restorePending(record.volumeId) : []), recoveryPointChanged: 'all',
    };
    this.volumes.set(record.volumeId, volume);
    return volume;
  }

  /**
   * A stored volume created on a disk with data uploads all of it, as AWS's BOOTSTRAPPING does. The disk is the
   * source, not the upload buffer, so these chunks hold no records back; after a restart it starts over, and
   * chunks already in the store cost only a hash.
   */
  private bootstrap(v: Volume): void {
    const chunks = Math.ceil(v.record.sizeBytes / this.chunkSize);
    for (let index = 0; index < chunks; index++) {
      v.dirty.set(index, { firstSeq: Infinity, lastSeq: 0, writtenAt: 0, zeroed: false, extents: null, baseIsZero: false });
    }
  }

  create(request: { name?: string; sizeBytes: number }): VolumeRecord {
    const record = this.newCachedVolume(request.name, request.sizeBytes);
    this.o.catalog.addVolume(record);
    this.recordRecoveryPoint(this.track(record));
    this.o.log.info({ volumeId: record.volumeId, name: record.name, sizeBytes: record.sizeBytes }, 'volume created');
    return record;
  }

  /** The record of a new, empty or restored, cached volume, checked against the gateway's limits. */
  private newCachedVolume(requestedName: string | undefined, sizeBytes: number): VolumeRecord {
    const volumeId = `vol-${randomBytes(4).toString('hex')}`;
    const name = requestedName ?? volumeId;
    checkNewVolume({ name, sizeBytes, type: 'cached' }, this.o.catalog.volumeRecords());
    return {
      volumeId, name, type: 'cached', sizeBytes, status: 'AVAILABLE',
      createdAt: new Date().toISOString(), chunkSize: this.chunkSize, lastUploadAt: null, diskPath: null,
    };
  }

  /** A stored volume: the disk is primary and the store receives its changes asynchronously. */
  async createStored(request: { name?: string; diskPath: string; preserveExistingData?: boolean }): Promise<VolumeRecord> {
    const preserve = request.preserveExistingData ?? false;
    const record = await this.newStoredVolume(request.name, request.diskPath, { use: preserve ? 'preserve' : 'empty', status: preserve ? 'BOOTSTRAPPING' : 'AVAILABLE' });
    this.o.catalog.addVolume(record);
    await this.load(record);
    this.progress.emit('dirty');
    this.o.log.info({ volumeId: record.volumeId, name: record.name, sizeBytes: record.sizeBytes, disk: request.diskPath, preserve }, 'stored volume created');
    return record;
  }

  /**
   * The record of a new stored volume on a disk the gateway does not use yet and that holds at least `minBytes`,
   * emptied unless it is preserved.
   */
  private async newStoredVolume(
    requestedName: string | undefined, diskPath: string,
    { use, status, minBytes = 0 }: { use: Parameters<typeof StoredDisk.inspect>[1]; status: string; minBytes?: number },
  ): Promise<VolumeRecord> {
    const volumeId = `vol-${randomBytes(4).toString('hex')}`;
    const name = requestedName ?? volumeId;
    const existing = this.o.catalog.volumeRecords();
    if (existing.some((v) => v.diskPath === diskPath) || this.o.catalog.disks().some((d) => d.path === diskPath)) {
      throw new SgwError('SGW_IN_USE', `${diskPath} is already used by the gateway`);
    }
    const sizeBytes = await StoredDisk.inspect(diskPath, use);
    if (sizeBytes < minBytes) throw new SgwError('SGW_INVALID_SIZE', `${diskPath} holds ${sizeBytes} bytes and needs at least ${minBytes}`);
    checkNewVolume({ name, sizeBytes, type: 'stored' }, existing);
    if (use !== 'preserve') await StoredDisk.empty(diskPath);
    return {
      volumeId, name, type: 'stored', sizeBytes, status, createdAt: new Date().toISOString(), chunkSize: this.chunkSize, lastUploadAt: null, diskPath,
    };
  }

  ioCounters(idOrName: string): IoCounters {
    return this.volume(idOrName).io;
  }

  /** How full the cache and the upload buffer are. */
  diskUse(): { cache: CacheStats; uploadBuffer: { capacityBytes: number; usedBytes: number } } {
    return { cache: this.o.cache.stats(), uploadBuffer: { capacityBytes: this.o.journal.capacityBytes, usedBytes: this.o.journal.usedBytes } };
  }

  list(): VolumeRecord[] {
    return [...this.volumes.values()].map((v) => v.record);
  }

  describe(idOrName: string): VolumeDetails {
    const v = this.volume(idOrName);
    const served = v.hits + v.misses;
    const dirtyBytes = v.dirty.size * this.chunkSize;
    return {
      ...v.record,
      lastUploadAt: this.o.catalog.volume(v.record.volumeId)?.lastUploadAt ?? null,
      recoveryPointAt: this.o.catalog.recoveryPointAt(v.record.volumeId),
      bytesUsed: v.map.size * this.chunkSize,
      dirtyBytes,
      cacheHitPercent: served === 0 ? null : Math.round((1000 * v.hits) / served) / 10,
      uploadBacklogBytes: dirtyBytes,
    };
  }

  /** Deletes the volume whether or not clients use it: the protocol targets decide whether that may happen. */
  async delete(idOrName: string): Promise<void> {
    const v = this.volume(idOrName);
    v.deleted = true;
    this.volumes.delete(v.record.volumeId);
    for (const snapshotId of new Set([...v.owed.values()].flatMap((ids) => [...ids]))) {
      this.o.catalog.setSnapshotStatus(snapshotId, 'ERROR', { error: 'the volume was deleted before the snapshot completed' });
    }
    const keys = [...new Set([...v.dirty.keys(), ...v.map.keys()])].map((i) => this.key(v, i));
    await this.locks.settled(keys);
    for (const key of keys) this.o.cache.delete(key);
    await v.disk?.close();
    this.o.catalog.deleteVolume(v.record.volumeId);
    this.o.log.info({ volumeId: v.record.volumeId }, 'volume deleted');
    this.progress.emit('progress');
    await this.releaseJournal();
    await this.collectGarbage();
  }

  read(idOrName: string, offset: number, length: number): Promise<Buffer> {
    const v = this.volume(idOrName);
    return countedRead(v.io, (data) => data.length, () => this.readRange(v, offset, length));
  }

  private async readRange(v: Volume, offset: number, length: number): Promise<Buffer> {
    this.checkRange(v, offset, length);
    const pieces = this.pieces(offset, length);
    const unlock = await this.locks.acquire(pieces.map((p) => this.key(v, p.index)));
    const parts: Buffer[] = [];
    try {
      for (const p of pieces) parts.push(await this.readPiece(v, p.index, p.start, p.end));
    } finally {
      unlock();
    }
    // Pieces cover the range in order; a read within one chunk (most of them) is returned as it came.
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
  }

  /**
   * Resolves once the data is durable in the upload buffer and visible to reads; with `durable: false` once it
   * is written there and visible (it survives a crash of sgwd, and a crash of the machine after `flush`).
   */
  write(idOrName: string, offset: number, data: Buffer, { durable }: { durable: boolean } = { durable: true }): Promise<void> {
    return countedWrite(this.volume(idOrName).io, data.length, () => this.modify(idOrName, { kind: 'data', offset, length: data.length, data, durable }));
  }

  /** Unmapped space reads as zeros and costs nothing in the object store. */
  unmap(idOrName: string, offset: number, length: number): Promise<void> {
    return this.modify(idOrName, { kind: 'zero', offset, length, durable: true });
  }

  /** Makes every write acknowledged so far durable, those made with `durable: false` included. */
  async flush(idOrName: string): Promise<void> {
    const v = this.volume(idOrName);
    await this.o.journal.flush();
    await v.disk?.sync();
  }

  /** Resolves when everything written so far is in the object store (or rejects after `timeoutMs`). */
  async drained(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // Someone waits for the store to catch up: upload without waiting for writes to settle.
    this.draining++;
    this.progress.emit('urgent');
    try {
      while (this.dirtyChunkCount() > 0 || this.unapplied.size > 0 || this.appending.size > 0) {
        if (Date.now() > deadline) throw new SgwError('SGW_BACKEND_FAILED', `${this.dirtyChunkCount()} chunks still wait for upload`);
        await this.nextProgress(200);
      }
    } finally {
      this.draining--;
    }
  }

  /** Stops uploading and closes what the engine was opened on; the upload buffer keeps what is not uploaded. */
  async close(): Promise<void> {
    this.closed = true;
    this.progress.emit('closing');
    await Promise.all(this.workers);
    await Promise.all([...this.volumes.values()].map((v) => v.disk?.close()));
    await this.o.journal.close();
    await this.o.cache.close();
    await this.o.store.close();
  }

  private async modify(idOrName: string, op: Op): Promise<void> {
    const v = this.volume(idOrName);
    this.checkRange(v, op.offset, op.length);
    if (op.length === 0) return;
    const pieces = this.piecesOf(v, op);
    this.lastWriteAt = Date.now();
    if (v.disk) await this.modifyStored(v, op, pieces);
    else await this.modifyCached(v, op, pieces);
    this.progress.emit('dirty');
  }

  private async modifyCached(v: Volume, op: Op, pieces: Piece[]): Promise<void> {
    // Room is reserved before the chunks are locked: a writer waiting for room must not hold chunks the
    // uploader needs in order to make that room.
    const needSlots = pieces.filter((p) => !(op.kind === 'zero' && p.whole) && !this.o.cache.isDirty(this.key(v, p.index))).length;
    const unreserve = await this.admit(needSlots, op.kind === 'data' ? op.length : 0);
    try {
      const unlock = await this.locks.acquire(pieces.map((p) => this.key(v, p.index)));
      try {
        await this.captureOwed(v, pieces);
        const seq = await this.append(v, op);
        try {
          await this.apply(v, seq, op, pieces);
        } finally {
          this.unapplied.delete(seq);
        }
      } finally {
        unlock();
      }
    } finally {
      unreserve();
    }
  }

  /**
   * A stored volume's disk holds all of its data, so a full upload buffer never makes its writers wait: the
   * volume goes PASS THROUGH, as in AWS. Writes then reach the disk alone, synced before they are acknowledged,
   * and their chunks are uploaded from the disk; once half the buffer is free again, writes go through it again.
   */
  private async modifyStored(v: Volume, op: Op, pieces: Piece[]): Promise<void> {
    this.leavePassThroughIfRoom(v);
    if (!v.passThrough && !this.o.journal.fits(op.kind === 'data' ? op.length : 0)) this.enterPassThrough(v);
    if (!v.passThrough) {
      v.journaled++;
      try {
        const unlock = await this.locks.acquire(pieces.map((p) => this.key(v, p.index)));
        try {
          await this.fill(v, pieces.map((p) => p.index));
          await this.captureOwed(v, pieces);
          const seq = await this.appendOnce(v, op).catch((err: unknown) => {
            if (err instanceof SgwError && err.code === 'SGW_UPLOAD_BUFFER_FULL') return undefined;
            throw err;
          });
          if (seq !== undefined) {
            try {
              await this.apply(v, seq, op, pieces);
            } finally {
              this.unapplied.delete(seq);
            }
            return;
          }
        } finally {
          unlock();
        }
      } finally {
        v.journaled--;
        this.progress.emit('progress');
      }
      // Concurrent writers filled the buffer after the check above.
      this.enterPassThrough(v);
    }
    await v.passThrough;
    const unlock = await this.locks.acquire(pieces.map((p) => this.key(v, p.index)));
    try {
      await this.fill(v, pieces.map((p) => p.index));
      await this.captureOwed(v, pieces);
      await this.apply(v, --this.throughSeq, op, pieces);
      if (op.durable) await v.disk?.sync();
    } finally {
      unlock();
    }
  }

  /**
   * Once the volume's writes still in the upload buffer are on its disk, records up to the buffer's head are
   * marked as not to be replayed: a write that bypasses the buffer must never be overwritten by an older record.
   */
  private enterPassThrough(v: Volume): void {
    if (v.passThrough) return;
    v.passThrough = (async () => {
      while (v.journaled > 0) await this.nextProgress(20);
      await v.disk?.sync();
      this.o.catalog.enterPassThrough(v.record.volumeId, this.o.journal.headSeq);
      v.record = { ...v.record, status: 'PASS THROUGH' };
      this.o.log.warn({ volumeId: v.record.volumeId }, 'upload buffer full: volume is PASS THROUGH until it has room');
    })();
    v.passThrough.catch(() => {
      v.passThrough = undefined;
    });
  }

  /** Back to the upload buffer; the chunks written meanwhile are uploaded from the disk (BOOTSTRAPPING). */
  private leavePassThroughIfRoom(v: Volume): void {
    if (v.record.status !== 'PASS THROUGH' || this.o.journal.usedBytes * 2 > this.o.journal.capacityBytes) return;
    v.passThrough = undefined;
    this.setStatus(v, v.dirty.size === 0 ? 'AVAILABLE' : 'BOOTSTRAPPING');
  }

  /** Waits for room in the upload buffer and for cache slots the write will pin, so neither overflows. */
  private async admit(slots: number, payload: number): Promise<() => void> {
    const totalSlots = Math.floor(this.o.cache.stats().capacityBytes / this.chunkSize);
    if (slots > totalSlots) {
      throw new SgwError('SGW_CACHE_FULL', `a write of ${slots} chunks is larger than the whole cache; add cache disks`);
    }
    const deadline = Date.now() + (this.o.admissionTimeoutMs ?? 10_000);
    for (;;) {
      const dirtySlots = Math.ceil(this.o.cache.stats().dirtyBytes / this.chunkSize);
      const cacheRoom = dirtySlots + this.reservedSlots + slots <= totalSlots;
      const bufferRoom = this.o.journal.fits(payload);
      if (cacheRoom && bufferRoom) break;
      if (Date.now() >= deadline) {
        throw bufferRoom
          ? new SgwError('SGW_CACHE_FULL', 'the cache is full of data not yet uploaded; retry when the upload catches up')
          : new SgwError('SGW_UPLOAD_BUFFER_FULL', 'the upload buffer is full; retry when the upload catches up, or add upload-buffer disks');
      }
      await this.nextProgress(50);
    }
    this.reservedSlots += slots;
    let released = false;
    return () => {
      if (!released) this.reservedSlots -= slots;
      released = true;
    };
  }

  /** Appends, waiting out a buffer that concurrent writers filled after this one was admitted. */
  private async append(v: Volume, op: Op): Promise<number> {
    const deadline = Date.now() + (this.o.admissionTimeoutMs ?? 10_000);
    for (;;) {
      try {
        return await this.appendOnce(v, op);
      } catch (err) {
        if (!(err instanceof SgwError && err.code === 'SGW_UPLOAD_BUFFER_FULL') || Date.now() >= deadline) throw err;
        await this.nextProgress(50);
      }
    }
  }

  private async appendOnce(v: Volume, op: Op): Promise<number> {
    const pending = { lowerBound: this.o.journal.headSeq + 1 };
    this.appending.add(pending);
    let seq: number;
    try {
      seq = await this.o.journal.append({ stream: v.record.volumeId, offset: op.offset, kind: op.kind, length: op.length, ...(op.kind === 'data' ? { data: op.data } : {}) }, { durable: op.durable });
    } finally {
      this.appending.delete(pending);
    }
    // Same synchronous step as the line above: the record is never unprotected between the two sets.
    this.unapplied.add(seq);
    return seq;
  }

  /**
   * Applies one durable record to the cache and the dirty set; used for new writes and for replay alike. The
   * caller holds the locks of the pieces' chunks.
   */
  private async apply(v: Volume, seq: number, op: Op, pieces: Piece[]): Promise<void> {
    for (const p of pieces) {
      const key = this.key(v, p.index);
      const before = v.dirty.get(p.index);
      // A write that bypassed the upload buffer (seq <= 0) holds no record back.
      const firstSeq = seq > 0 ? Math.min(before?.firstSeq ?? seq, seq) : before?.firstSeq ?? Infinity;
      if (op.kind === 'zero' && !this.mayHoldData(v, p.index)) continue;
      if (v.disk) {
        const bytes = op.kind === 'data' ? op.data.subarray(p.at, p.at + p.end - p.start) : Buffer.alloc(p.end - p.start);
        await v.disk.write(p.index * this.chunkSize + p.start, bytes);
        v.dirty.set(p.index, { firstSeq, lastSeq: seq, writtenAt: Date.now(), zeroed: false, extents: null, baseIsZero: false });
        continue;
      }
      if (op.kind === 'zero' && p.whole) {
        this.o.cache.delete(key);
        v.dirty.set(p.index, { firstSeq, lastSeq: seq, writtenAt: Date.now(), zeroed: true, extents: null, baseIsZero: true });
        continue;
      }
      const piece = op.kind === 'data' ? op.data.subarray(p.at, p.at + p.end - p.start) : Buffer.alloc(p.end - p.start);
      let extents: Extent[] | null = null;
      let baseIsZero = before?.baseIsZero ?? false;
      if (this.o.cache.has(key) && await this.writeCached(key, p.start, piece)) {
        extents = before?.extents ? addExtent(before.extents, [p.start, p.end]) : null;
      } else {
        // Only the written bytes go to a new slot; the rest of the chunk (zeros, or its object in the store) is
        // merged in only when it is read or uploaded, so a small write costs a small write and an outage never
        // stalls one.
        if (!p.whole) extents = [[p.start, p.end]];
        baseIsZero = before?.zeroed === true || !v.map.has(p.index);
        await this.o.cache.put(key, piece, { dirty: true, ...(p.whole ? {} : { at: p.start }) });
      }
      v.dirty.set(p.index, { firstSeq, lastSeq: seq, writtenAt: Date.now(), zeroed: false, extents, baseIsZero });
    }
  }

  /** Writes into a cached chunk; false when a clean chunk was evicted just before (its data is in the store). */
  private async writeCached(key: string, start: number, piece: Buffer): Promise<boolean> {
    try {
      await this.o.cache.write(key, start, piece, { dirty: true });
      return true;
    } catch (err) {
      if (err instanceof SgwError && err.code === 'SGW_NOT_FOUND') return false;
      throw err;
    }
  }

  private async readPiece(v: Volume, index: number, start: number, end: number): Promise<Buffer> {
    if (v.disk) {
      await this.fill(v, [index]);
      return v.disk.read(index * this.chunkSize + start, end - start);
    }
    const dirty = v.dirty.get(index);
    if (dirty?.zeroed) return Buffer.alloc(end - start);
    const key = this.key(v, index);
    if (this.o.cache.has(key)) {
      if (dirty?.extents && !covers(dirty.extents, start, end)) await this.loadBase(v, index, dirty);
      const cached = await this.o.cache.read(key, start, end - start);
      if (cached) {
        v.hits++;
        return cached;
      }
    }
    const hash = v.map.get(index);
    if (!hash) return Buffer.alloc(end - start);
    v.misses++;
    const body = await readChunkObject(this.o.store, hash);
    // Caching a clean chunk is best effort: when every slot holds data not yet uploaded, the read still succeeds.
    await this.o.cache.put(key, body, { dirty: false, signal: AbortSignal.timeout(20) }).catch(() => undefined);
    return body.subarray(start, end);
  }

  /** Completes a partially written chunk with the rest of its content from the store. */
  private async loadBase(v: Volume, index: number, dirty: DirtyChunk): Promise<void> {
    const key = this.key(v, index);
    const hash = dirty.baseIsZero ? undefined : v.map.get(index);
    const merged = hash ? Buffer.from(await readChunkObject(this.o.store, hash)) : Buffer.alloc(this.chunkSize);
    const current = await this.o.cache.get(key);
    if (!current) throw new SgwError('SGW_INTERNAL', `dirty chunk ${key} is missing from the cache`);
    for (const [s, e] of dirty.extents ?? []) current.copy(merged, s, s, e);
    await this.o.cache.put(key, merged, { dirty: true });
    dirty.extents = null;
  }

  private startUploader(): void {
    const parallelism = this.o.uploadParallelism ?? 8;
    for (let i = 0; i < parallelism; i++) this.workers.push(this.uploadWorker());
    this.workers.push(this.garbageWorker(), this.snapshotWorker(), this.restoreWorker());
  }

  private async uploadWorker(): Promise<void> {
    while (!this.closed) {
      const job = this.nextJob();
      if (!job) {
        // A new write makes nothing eligible before the write-back delay unless uploads are urgent: waking every
        // worker to scan the dirty chunks at each write would cost more than the writes themselves.
        const urgent = this.draining > 0 || this.underPressure();
        await this.nextProgress(Math.min(500, Math.max(20, this.writeBackDelayMs)), urgent ? ['dirty', 'urgent'] : ['urgent']);
        continue;
      }
      await this.upload(job.volume, job.index);
    }
  }

  private get writeBackDelayMs(): number {
    return this.o.writeBackDelayMs ?? 1_000;
  }

  /** Past half of the upload buffer or of the cache, waiting for writes to settle costs more than it saves. */
  private underPressure(): boolean {
    const cache = this.o.cache.stats();
    return this.o.journal.usedBytes * 2 > this.o.journal.capacityBytes || cache.dirtyBytes * 2 > cache.capacityBytes;
  }

  private nextJob(): { volume: Volume; index: number } | undefined {
    const now = Date.now();
    const quiet = now - this.lastWriteAt >= this.writeBackDelayMs;
    const settledBefore = this.draining > 0 || this.underPressure() ? Infinity : now - (quiet ? this.writeBackDelayMs : MAX_WRITE_BACK_DEFER_MS);
    for (const volume of this.volumes.values()) {
      for (const [index, dirty] of volume.dirty) {
        if (volume.uploading.has(index) || dirty.writtenAt > settledBefore) continue;
        if ((volume.failures.get(index)?.retryAt ?? 0) > now) continue;
        volume.uploading.add(index);
        return { volume, index };
      }
    }
    return undefined;
  }

  private async upload(v: Volume, index: number): Promise<void> {
    const key = this.key(v, index);
    try {
      const snapshot = await this.snapshotChunk(v, index);
      if (!snapshot) return;
      const hash = await this.storeChunk(snapshot.content, (stored) => {
        if (!v.deleted) this.o.catalog.setChunk(v.record.volumeId, index, stored, new Date().toISOString());
      });
      if (v.deleted) return;
      if (hash) v.map.set(index, hash);
      else v.map.delete(index);
      if (!v.disk && v.recoveryPointChanged !== 'all') v.recoveryPointChanged.add(index);
      const unlock = await this.locks.acquire([key]);
      try {
        const dirty = v.dirty.get(index);
        if (dirty?.lastSeq === snapshot.lastSeq) {
          v.dirty.delete(index);
          if (!dirty.zeroed && !v.disk) this.o.cache.markClean(key);
          if (v.dirty.size === 0 && v.record.status === 'BOOTSTRAPPING') this.setStatus(v, 'AVAILABLE');
          if (v.dirty.size === 0) this.recordRecoveryPoint(v);
        } else if (dirty && snapshot.lastSeq > 0) {
          // Records up to the snapshot are in the store now; a later one may still be needed.
          dirty.firstSeq = snapshot.lastSeq + 1;
        }
      } finally {
        unlock();
      }
      v.failures.delete(index);
      await this.releaseJournal();
      this.leavePassThroughIfRoom(v);
    } catch (err) {
      const attempts = (v.failures.get(index)?.attempts ?? 0) + 1;
      const backoff = Math.min(MAX_BACKOFF_MS, 100 * 2 ** attempts);
      v.failures.set(index, { attempts, retryAt: Date.now() + backoff });
      // In an outage every dirty chunk fails over and over: warn on the first attempts and then ever more rarely.
      if ((attempts & (attempts - 1)) === 0) {
        this.o.log.warn({ err, volumeId: v.record.volumeId, chunk: index, attempts }, 'chunk upload failed; will retry');
      }
    } finally {
      v.uploading.delete(index);
      this.progress.emit('progress');
    }
  }

  /** The chunk's content as of its latest applied record (null: all zeros), taken under the chunk's lock. */
  private async snapshotChunk(v: Volume, index: number): Promise<{ content: Buffer | null; lastSeq: number } | undefined> {
    const unlock = await this.locks.acquire([this.key(v, index)]);
    try {
      const dirty = v.dirty.get(index);
      if (!dirty || v.deleted) return undefined;
      return { content: await this.dirtyContent(v, index, dirty), lastSeq: dirty.lastSeq };
    } finally {
      unlock();
    }
  }

  /** A dirty chunk's whole content (null: all zeros); the caller holds the chunk's lock. */
  private async dirtyContent(v: Volume, index: number, dirty: DirtyChunk): Promise<Buffer | null> {
    if (v.disk) {
      await this.fill(v, [index]);
      return v.disk.readChunk(index);
    }
    if (dirty.zeroed) return null;
    if (dirty.extents) await this.loadBase(v, index, dirty);
    const content = await this.o.cache.get(this.key(v, index));
    if (!content) throw new SgwError('SGW_INTERNAL', `dirty chunk ${index} of ${v.record.volumeId} is missing from the cache`);
    return content;
  }

  /**
   * Puts content into the store as a chunk object unless the store has it, and runs `commit` with its hash (null:
   * all zeros, nothing stored) under the hash's lock, so that garbage collection cannot take the object before the
   * reference that `commit` records.
   */
  private async storeChunk(content: Buffer | null, commit: (hash: string | null) => void): Promise<string | null> {
    const hash = content && !isAllZero(content) ? chunkHash(content) : null;
    if (!hash || !content) {
      commit(null);
      return null;
    }
    const unlockHash = await this.locks.acquire([`chunk:${hash}`]);
    try {
      if (!this.o.catalog.isChunkStored(hash)) {
        this.o.catalog.chunkUploadStarting(hash);
        await this.o.store.put(chunkObjectKey(hash), content);
        this.o.catalog.chunkStored(hash);
      }
      commit(hash);
    } finally {
      unlockHash();
    }
    return hash;
  }

  // ---- snapshots ---------------------------------------------------------------------------------------------

  /**
   * A crash-consistent snapshot at this instant, while the volume stays online. Chunks the store holds as they are
   * now are referenced at once; the dirty ones are captured in the background, or by the first write to one of them
   * (copy-on-write), so that nothing written after this instant reaches the snapshot. PENDING until the manifest is
   * in the bucket, then COMPLETED.
   */
  createSnapshot(idOrName: string, description = ''): SnapshotRecord {
    const v = this.volume(idOrName);
    const record = this.newSnapshotRecord(v, description);
    // No await from here to the end: no write can land between reading the volume's state and recording it.
    const pending = [...v.dirty.keys()];
    const stored = new Map([...v.map].filter(([index]) => !v.dirty.has(index)));
    this.o.catalog.beginSnapshot(record, stored, pending);
    for (const index of pending) this.owe(v, index, record.snapshotId);
    this.o.log.info({ snapshotId: record.snapshotId, volumeId: v.record.volumeId, pending: pending.length }, 'snapshot started');
    this.progress.emit('snapshot');
    return record;
  }

  /**
   * A snapshot of a cached volume's latest recovery point (AWS's CreateSnapshotFromVolumeRecoveryPoint): all of
   * its chunks are in the store already, so only the manifest remains to be written.
   */
  createSnapshotFromRecoveryPoint(idOrName: string, description = ''): { snapshot: SnapshotRecord; recoveryPointAt: string } {
    const v = this.recoveryPointVolume(idOrName);
    const record = this.newSnapshotRecord(v, description);
    this.o.catalog.beginSnapshotFromRecoveryPoint(record);
    this.o.log.info({ snapshotId: record.snapshotId, volumeId: v.record.volumeId }, 'snapshot of the recovery point started');
    this.progress.emit('snapshot');
    return { snapshot: record, recoveryPointAt: this.o.catalog.recoveryPointAt(v.record.volumeId) ?? record.createdAt };
  }

  private newSnapshotRecord(v: Volume, description: string): SnapshotRecord {
    return {
      snapshotId: `snap-${randomBytes(4).toString('hex')}`, volumeId: v.record.volumeId, volumeName: v.record.name, description,
      status: 'PENDING', createdAt: new Date().toISOString(), sizeBytes: v.record.sizeBytes, chunkSize: this.chunkSize,
      completedAt: null, error: null,
    };
  }

  /** Deletes a snapshot; chunks that nothing else references are collected afterwards. */
  async deleteSnapshot(snapshotId: string): Promise<void> {
    const s = this.o.catalog.snapshot(snapshotId);
    if (!s) throw new SgwError('SGW_NOT_FOUND', `there is no snapshot ${snapshotId}; see sgw snapshot list`);
    if (s.status === 'PENDING') throw new SgwError('SGW_IN_USE', `snapshot ${snapshotId} is still being created; delete it once it is COMPLETED`);
    this.o.catalog.setSnapshotStatus(snapshotId, 'DELETING');
    await this.finishDelete(snapshotId);
    await this.collectGarbage();
  }

  /**
   * A volume whose content is the snapshot's. A cached one is usable at once and reads its chunks through from
   * the store. A stored one (`diskPath`) is RESTORING while its disk is filled in the background; it serves reads
   * and writes meanwhile, fetching a chunk first when something needs it before the background fill gets to it.
   */
  async createFromSnapshot(request: { name?: string; sizeBytes?: number; snapshotId: string; diskPath?: string }): Promise<VolumeRecord> {
    const s = this.o.catalog.snapshot(request.snapshotId) ?? await this.importSnapshot(request.snapshotId);
    if (s.status !== 'COMPLETED') throw new SgwError('SGW_IN_USE', `snapshot ${s.snapshotId} is ${s.status}; restore it once it is COMPLETED`);
    if (s.chunkSize !== this.chunkSize) {
      throw new SgwError('SGW_INVALID_ARGUMENT', `snapshot ${s.snapshotId} has ${s.chunkSize}-byte chunks and this gateway ${this.chunkSize}-byte ones`);
    }
    if (request.diskPath === undefined) {
      const sizeBytes = request.sizeBytes ?? s.sizeBytes;
      if (sizeBytes < s.sizeBytes) throw new SgwError('SGW_INVALID_SIZE', `a volume restored from ${s.snapshotId} needs at least ${s.sizeBytes} bytes, its size`);
      const record = this.newCachedVolume(request.name, sizeBytes);
      this.o.catalog.addVolumeCopy(record, { snapshotId: s.snapshotId });
      this.recordRecoveryPoint(this.track(record));
      this.o.log.info({ volumeId: record.volumeId, name: record.name, snapshotId: s.snapshotId }, 'volume restored from snapshot');
      return record;
    }
    // Only the snapshot's chunks are written: the rest of the emptied file reads as zeros already.
    const record = await this.newStoredVolume(request.name, request.diskPath, { use: 'restore', status: 'RESTORING', minBytes: s.sizeBytes });
    this.o.catalog.addVolumeCopy(record, { snapshotId: s.snapshotId }, { restore: true });
    await this.load(record);
    const v = this.volume(record.volumeId);
    if (v.unfilled.size === 0) this.setStatus(v, 'AVAILABLE');
    this.progress.emit('restore');
    this.o.log.info({ volumeId: record.volumeId, name: record.name, snapshotId: s.snapshotId, chunks: v.unfilled.size }, 'stored volume restoring from snapshot');
    return v.record;
  }

  /**
   * A new cached volume whose content is another cached volume's latest recovery point, as AWS's
   * CreateCachediSCSIVolume with a source volume: usable at once, its chunks read through from the store.
   */
  cloneVolume(request: { name: string; source: string; sizeBytes?: number }): VolumeRecord {
    const src = this.recoveryPointVolume(request.source);
    const sizeBytes = request.sizeBytes ?? src.record.sizeBytes;
    if (sizeBytes < src.record.sizeBytes) {
      throw new SgwError('SGW_INVALID_SIZE', `a clone of ${src.record.name} needs at least its ${src.record.sizeBytes} bytes`);
    }
    const record = this.newCachedVolume(request.name, sizeBytes);
    this.o.catalog.addVolumeCopy(record, { recoveryPointOf: src.record.volumeId });
    this.recordRecoveryPoint(this.track(record));
    this.o.log.info({ volumeId: record.volumeId, name: record.name, source: src.record.volumeId }, 'volume cloned from recovery point');
    return record;
  }

  /** A cached volume, which has a recovery point: stored volumes' data is on their disks, not in the store. */
  private recoveryPointVolume(idOrName: string): Volume {
    const v = this.volume(idOrName);
    if (v.disk || this.o.catalog.recoveryPointAt(v.record.volumeId) === null) {
      throw new SgwError('SGW_WRONG_VOLUME_TYPE', `${v.record.name} is a stored volume and has no recovery point; snapshot it and restore the snapshot instead`);
    }
    return v;
  }

  /** Records the cached volume's recovery point if the store holds everything written to it. */
  private recordRecoveryPoint(v: Volume): void {
    if (v.disk || v.deleted || v.dirty.size > 0) return;
    this.o.catalog.setRecoveryPoint(v.record.volumeId, new Date().toISOString(), v.recoveryPointChanged);
    v.recoveryPointChanged = new Set();
  }

  /** Brings restored chunks onto a stored volume's disk, synced, before anything uses them there; the caller holds their locks. */
  private async fill(v: Volume, indices: number[]): Promise<void> {
    const todo = indices.filter((index) => v.unfilled.has(index));
    const disk = v.disk;
    if (todo.length === 0 || !disk) return;
    await Promise.all(todo.map(async (index) => {
      const hash = v.map.get(index);
      if (!hash) return;
      const content = await readChunkObject(this.o.store, hash);
      const start = index * this.chunkSize;
      await disk.write(start, content.subarray(0, Math.min(content.length, disk.sizeBytes - start)));
    }));
    await disk.sync();
    if (v.deleted) return;
    this.o.catalog.restoreFilled(v.record.volumeId, todo);
    for (const index of todo) v.unfilled.delete(index);
    if (v.unfilled.size === 0 && v.record.status === 'RESTORING') {
      this.setStatus(v, 'AVAILABLE');
      this.o.log.info({ volumeId: v.record.volumeId }, 'restore complete');
    }
  }

  /** Fills restoring volumes' disks a few chunks at a time, so that reads and writes wait for one chunk at most. */
  private async restoreWorker(): Promise<void> {
    while (!this.closed) {
      const v = [...this.volumes.values()].find((volume) => volume.unfilled.size > 0);
      if (!v) {
        await this.nextProgress(1_000, ['restore']);
        continue;
      }
      const indices = [...take(v.unfilled.values(), 8)];
      const unlock = await this.locks.acquire(indices.map((index) => this.key(v, index)));
      try {
        await this.fill(v, indices);
      } catch (err) {
        this.o.log.warn({ err, volumeId: v.record.volumeId }, 'restore fill failed; will retry');
        await this.nextProgress(1_000, []);
      } finally {
        unlock();
      }
    }
  }

  /** Completed snapshots whose manifests are in the bucket, whichever gateway made them. */
  async bucketSnapshots(): Promise<SnapshotRecord[]> {
    const found: SnapshotRecord[] = [];
    let token: string | undefined;
    do {
      const page = await this.o.store.list({ prefix: SNAPSHOT_MANIFEST_PREFIX, ...(token ? { continuationToken: token } : {}) });
      for (const object of page.objects) {
        if (!object.key.endsWith('.json')) continue;
        found.push(decodeManifest((await this.o.store.get(object.key)).body, object.key).record);
      }
      token = page.nextContinuationToken;
    } while (token);
    return found;
  }

  /** Chunks of the snapshot not captured yet, and how far it is. */
  snapshotProgress(snapshotId: string): { chunksPending: number; progressPercent: number } {
    const { captured, pending } = this.o.catalog.snapshotChunkCounts(snapshotId);
    const status = this.o.catalog.snapshot(snapshotId)?.status;
    const total = captured + pending;
    const percent = status === 'COMPLETED' ? 100 : total === 0 ? 99 : Math.min(99, Math.floor((100 * captured) / total));
    return { chunksPending: pending, progressPercent: percent };
  }

  private async importSnapshot(snapshotId: string): Promise<SnapshotRecord> {
    const key = snapshotManifestKey(snapshotId);
    const body = await this.o.store.get(key).then((r) => r.body, (err: unknown) => {
      if (err instanceof SgwError && err.code === 'SGW_OBJECT_NOT_FOUND') {
        throw new SgwError('SGW_NOT_FOUND', `there is no snapshot ${snapshotId} here or in the bucket; see sgw snapshot list --from-bucket`);
      }
      throw err;
    });
    const { record, chunks } = decodeManifest(body, key);
    this.o.catalog.importSnapshot(record, chunks);
    this.o.log.info({ snapshotId }, 'snapshot imported from the bucket');
    return record;
  }

  private owe(v: Volume, index: number, snapshotId: string): void {
    const owed = v.owed.get(index) ?? new Set<string>();
    owed.add(snapshotId);
    v.owed.set(index, owed);
  }

  /** After a restart: pending snapshots go on capturing (their chunks were not written since), deletes finish. */
  private resumeSnapshots(): void {
    for (const s of this.o.catalog.snapshots()) {
      if (s.status !== 'PENDING') continue;
      const v = this.volumes.get(s.volumeId);
      if (!v) {
        this.o.catalog.setSnapshotStatus(s.snapshotId, 'ERROR', { error: 'the volume was deleted before the snapshot completed' });
        continue;
      }
      for (const index of this.o.catalog.pendingSnapshotChunks(s.snapshotId)) this.owe(v, index, s.snapshotId);
    }
  }

  /** Copy-on-write: a write first captures the chunks pending snapshots still need. The caller holds their locks. */
  private async captureOwed(v: Volume, pieces: Piece[]): Promise<void> {
    for (const p of pieces) if (v.owed.has(p.index)) await this.capture(v, p.index);
  }

  /** Records the chunk's current content in every snapshot that owes it; the caller holds the chunk's lock. */
  private async capture(v: Volume, index: number): Promise<void> {
    const snapshots = v.owed.get(index);
    if (!snapshots) return;
    const record = (hash: string | null) => {
      for (const snapshotId of snapshots) this.o.catalog.captureSnapshotChunk(snapshotId, index, hash);
      v.owed.delete(index);
    };
    const dirty = v.dirty.get(index);
    // A clean chunk is in the store as it is: its hash is all there is to record.
    if (!dirty) record(v.map.get(index) ?? null);
    else await this.storeChunk(await this.dirtyContent(v, index, dirty), record);
    this.progress.emit('snapshot');
  }

  private async snapshotWorker(): Promise<void> {
    let failures = 0;
    while (!this.closed) {
      try {
        const advanced = await this.advanceSnapshots();
        failures = 0;
        if (!advanced) await this.nextProgress(1_000, ['snapshot']);
      } catch (err) {
        // In an outage every step fails: back off as chunk uploads do, and warn ever more rarely.
        failures++;
        if ((failures & (failures - 1)) === 0) this.o.log.warn({ err, failures }, 'snapshot work failed; will retry');
        await this.nextProgress(Math.min(MAX_BACKOFF_MS, 100 * 2 ** failures), []);
      }
    }
  }

  /**
   * One step: capture a few owed chunks side by side (each is an upload), or complete or delete one snapshot.
   * False when there was nothing to do.
   */
  private async advanceSnapshots(): Promise<boolean> {
    const owed = [...this.volumes.values()].flatMap((v) => [...take(v.owed.keys(), CAPTURE_PARALLELISM)].map((index) => ({ v, index })));
    if (owed.length > 0) {
      await Promise.all(owed.slice(0, CAPTURE_PARALLELISM).map(async ({ v, index }) => {
        const unlock = await this.locks.acquire([this.key(v, index)]);
        try {
          await this.capture(v, index);
        } finally {
          unlock();
        }
      }));
      return true;
    }
    for (const s of this.o.catalog.snapshots()) {
      if (s.status === 'DELETING') {
        await this.finishDelete(s.snapshotId);
        return true;
      }
      if (s.status === 'PENDING' && this.o.catalog.snapshotChunkCounts(s.snapshotId).pending === 0) {
        await this.completeSnapshot(s);
        return true;
      }
    }
    return false;
  }

  private async completeSnapshot(s: SnapshotRecord): Promise<void> {
    const completedAt = new Date().toISOString();
    await this.o.store.put(snapshotManifestKey(s.snapshotId), encodeManifest(s, completedAt, this.o.catalog.snapshotChunkMap(s.snapshotId)));
    this.o.catalog.setSnapshotStatus(s.snapshotId, 'COMPLETED', { completedAt });
    this.o.log.info({ snapshotId: s.snapshotId }, 'snapshot completed');
    this.progress.emit('snapshot');
  }

  /** The manifest goes first: a bucket never names chunks that garbage collection may already have taken. */
  private async finishDelete(snapshotId: string): Promise<void> {
    await this.o.store.delete(snapshotManifestKey(snapshotId));
    this.o.catalog.deleteSnapshot(snapshotId);
    this.o.log.info({ snapshotId }, 'snapshot deleted');
  }

  /** Lets the upload buffer reuse every record older than anything not yet safely in the store. */
  private async releaseJournal(): Promise<void> {
    if (this.replaying) return;
    let floor = Infinity;
    for (const pending of this.appending) floor = Math.min(floor, pending.lowerBound);
    for (const seq of this.unapplied) floor = Math.min(floor, seq);
    for (const volume of this.volumes.values()) for (const d of volume.dirty.values()) floor = Math.min(floor, d.firstSeq);
    const upto = floor === Infinity ? this.o.journal.headSeq : floor - 1;
    if (upto <= this.o.journal.tailSeq) return;
    // Records up to `upto` are applied; their writes to stored volumes' disks must be durable before they go.
    await Promise.all([...this.volumes.values()].map((v) => v.disk?.sync()));
    await this.o.journal.release(upto);
  }

  private async garbageWorker(): Promise<void> {
    while (!this.closed) {
      // On a timer only: waking on every upload would retry a failing store several times a second in an outage.
      await this.nextProgress(5_000, []);
      await this.collectGarbage().catch((err: unknown) => this.o.log.warn({ err }, 'garbage collection failed; will retry'));
    }
  }

  /** Deletes chunk objects nothing references any more; the hash lock keeps an upload of the same content out. */
  private async collectGarbage(): Promise<void> {
    for (const hash of this.o.catalog.unreferencedChunks(1000)) {
      const unlock = await this.locks.acquire([`chunk:${hash}`]);
      try {
        if (!this.o.catalog.isUnreferenced(hash)) continue;
        // Not stored any more from here on: should the daemon die before the row goes, an upload of the same
        // content puts the object back instead of trusting a deleted one.
        this.o.catalog.chunkDeleting(hash);
        await this.o.store.delete(chunkObjectKey(hash));
        this.o.catalog.forgetChunk(hash);
      } finally {
        unlock();
      }
    }
  }

  /** Resolves on the first of `events`, or after `timeoutMs`. Closing wakes every waiter. */
  private nextProgress(timeoutMs: number, events: string[] = ['progress']): Promise<void> {
    return new Promise((resolve) => {
      const all = [...events, 'closing'];
      const done = () => {
        clearTimeout(timer);
        for (const event of all) this.progress.off(event, done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      for (const event of all) this.progress.once(event, done);
    });
  }

  private setStatus(v: Volume, status: string): void {
    this.o.catalog.setVolumeStatus(v.record.volumeId, status);
    v.record = { ...v.record, status };
    this.o.log.info({ volumeId: v.record.volumeId, status }, 'volume status');
  }

  private dirtyChunkCount(): number {
    let n = 0;
    for (const volume of this.volumes.values()) n += volume.dirty.size;
    return n;
  }

  /** Whether the chunk may hold non-zero data: stored, dirty or cached. Others already read as zeros. */
  private mayHoldData(v: Volume, index: number): boolean {
    const dirty = v.dirty.get(index);
    if (dirty) return !dirty.zeroed;
    return v.map.has(index);
  }

  private volume(idOrName: string): Volume {
    const byId = this.volumes.get(idOrName);
    if (byId) return byId;
    for (const volume of this.volumes.values()) if (volume.record.name === idOrName) return volume;
    throw new SgwError('SGW_NOT_FOUND', `no volume ${idOrName}; sgw volume list shows the volumes`);
  }

  private checkRange(v: Volume, offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > v.record.sizeBytes) {
      throw new SgwError('SGW_OUT_OF_RANGE', `bytes ${offset}+${length} lie outside volume ${v.record.name} (${v.record.sizeBytes} bytes)`);
    }
  }

  private key(v: Volume, index: number): string {
    return `${v.record.volumeId}:${index}`;
  }

  /**
   * The chunk pieces an operation touches. An unmap skips whole chunks that already read as zeros, so unmapping
   * a 32 TiB volume costs what the volume holds, not what it could hold.
   */
  private piecesOf(v: Volume, op: Op): Piece[] {
    const size = this.chunkSize;
    const wholeChunks = Math.floor(op.length / size);
    if (op.kind === 'data' || wholeChunks <= v.map.size + v.dirty.size) return this.pieces(op.offset, op.length);
    const first = Math.ceil(op.offset / size);
    const end = Math.floor((op.offset + op.length) / size);
    const held = new Set([...v.map.keys(), ...v.dirty.keys()].filter((i) => i >= first && i < end));
    const edges = [
      ...this.pieces(op.offset, Math.min(op.length, first * size - op.offset)),
      ...(end * size < op.offset + op.length && end >= first ? this.pieces(end * size, op.offset + op.length - end * size) : []),
    ];
    const whole = [...held].sort((a, b) => a - b).map((index) => ({ index, start: 0, end: size, at: index * size - op.offset, whole: true }));
    return [...edges, ...whole].sort((a, b) => a.index - b.index);
  }

  /** The parts of [offset, offset+length) in each chunk: its index, range within the chunk, and place in the I/O. */
  private pieces(offset: number, length: number): Piece[] {
    const out = [];
    const size = this.chunkSize;
    for (let pos = offset; pos < offset + length;) {
      const index = Math.floor(pos / size);
      const start = pos - index * size;
      const end = Math.min(size, offset + length - index * size);
      out.push({ index, start, end, at: pos - offset, whole: start === 0 && end === size });
      pos = index * size + end;
    }
    return out;
  }
}

function* take<T>(items: Iterator<T>, count: number): Generator<T> {
  for (let i = 0; i < count; i++) {
    const next = items.next();
    if (next.done) return;
    yield next.value;
  }
}
