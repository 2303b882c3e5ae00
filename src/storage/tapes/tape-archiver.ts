import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Archive } from '../backends/archive.js';
import type { ObjectStore } from '../backends/object-store.js';
import type { Catalog, TapeRecord } from '../catalog/catalog.js';
import type { TapeLog } from './tape-log.js';

export interface ArchiverStores {
  /** The gateway's store: segments of the tapes in the library, under tapes/. */
  store(): Promise<ObjectStore>;
  /** The archive of a pool. */
  archive(pool: string): Promise<Archive>;
  expectedRetrievalMs(pool: string): number;
}

export interface TapeArchiverOptions {
  catalog: Catalog;
  log: Logger;
  stores: ArchiverStores;
  withLog<T>(barcode: string, fn: (log: TapeLog) => Promise<T>): Promise<T>;
  /** Whether the tape is in a drive (still being written: only whole segments go up). */
  loaded(barcode: string): boolean;
  /** The tape's local log is no longer needed (it is archived). */
  dropLog(barcode: string): Promise<void>;
  /** A slot for a tape coming back from the archive. */
  freeSlot(): number;
  /** Runs at every pass: the automatic creation policy. */
  topUp(): void;
}

/** A segment object holds this much of a tape's log, at most (a whole number of records). */
const SEGMENT_BYTES = 64 * 1024 * 1024;
const TICK_MS = 1000;
const PARALLEL_TAPES = 4;

/**
 * Moves tape data outward in the background: a tape's log goes up to the gateway's store in segments as it grows
 * (whole segments while it is in a drive, the rest once it is out); a tape leaving for the archive (IN TRANSIT TO
 * VTS) gets its last segment up, then each segment goes into its pool's archive (ARCHIVING) and out of the store
 * and the local disk (ARCHIVED). A retrieval asks the archive for every segment and waits until all are readable.
 */
export class TapeArchiver {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;
  /** Bumped whenever a tape's log is about to be overwritten: an upload made before is stale. */
  private readonly epochs = new Map<string, number>();
  /** Segment objects of overwritten data, to delete. */
  private garbage: string[] = [];
  private readonly progressOf = new Map<string, number>();
  private lastError = new Map<string, string>();

  constructor(private readonly o: TapeArchiverOptions) {}

  start(): void {
    this.timer = setInterval(() => this.wake(), TICK_MS);
    this.timer.unref();
    this.wake();
  }

  /** Runs a pass now (or right after the one running). */
  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.pass().finally(() => {
      this.running = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  archive(barcode: string): void {
    this.o.catalog.updateTape(barcode, { status: 'IN TRANSIT TO VTS' });
    this.o.log.info({ barcode }, 'tape in transit to the archive');
    this.wake();
  }

  retrieve(barcode: string): TapeRecord {
    const tape = this.o.catalog.tape(barcode)!;
    const retrievalEta = new Date(Date.now() + this.o.stores.expectedRetrievalMs(tape.pool)).toISOString();
    this.o.catalog.updateTape(barcode, { status: 'RETRIEVING', retrievalEta });
    this.wake();
    return { ...tape, status: 'RETRIEVING', retrievalEta };
  }

  /** The tape's objects from `p` on are about to change: segments holding any of them are dropped. */
  invalidateFrom(barcode: string, p: number): void {
    this.epochs.set(barcode, (this.epochs.get(barcode) ?? 0) + 1);
    for (const segment of this.o.catalog.tapeSegments(barcode)) {
      if (segment.firstObject + segment.objects.length <= p) continue;
      this.o.catalog.deleteTapeSegment(barcode, segment.seq);
      if (segment.key) this.garbage.push(segment.key);
    }
  }

  /** Deletes every segment object of a tape in the library (it is being deleted). */
  async dropSegments(barcode: string): Promise<void> {
    const store = await this.o.stores.store();
    for (const segment of this.o.catalog.tapeSegments(barcode)) {
      if (segment.key) await store.delete(segment.key);
      this.o.catalog.deleteTapeSegment(barcode, segment.seq);
    }
  }

  async deleteArchive(barcode: string): Promise<void> {
    const tape = this.o.catalog.tape(barcode)!;
    const archive = await this.o.stores.archive(tape.pool);
    for (const segment of this.o.catalog.tapeSegments(barcode)) if (segment.archiveId) await archive.delete(segment.archiveId);
  }

  /** Percent done of the archival or retrieval under way. */
  progress(barcode: string): number | undefined {
    return this.progressOf.get(barcode);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async pass(): Promise<void> {
    try {
      this.o.topUp();
    } catch (err) {
      this.warn('policy', err);
    }
    const garbage = this.garbage;
    this.garbage = [];
    if (garbage.length > 0) {
      const store = await this.o.stores.store();
      for (const key of garbage) await store.delete(key).catch(() => this.garbage.push(key));
    }
    // Tapes move side by side: ten drives filling ten tapes need their segments going up together.
    const tapes = this.o.catalog.tapes();
    let next = 0;
    await Promise.all(Array.from({ length: PARALLEL_TAPES }, async () => {
      while (next < tapes.length && !this.closed) {
        const tape = tapes[next++]!;
        try {
          await this.step(tape);
          this.lastError.delete(tape.barcode);
        } catch (err) {
          this.warn(tape.barcode, err);
        }
      }
    }));
  }

  private async step(tape: TapeRecord): Promise<void> {
    switch (tape.status) {
      case 'AVAILABLE':
        await this.upload(tape.barcode, !this.o.loaded(tape.barcode));
        return;
      case 'IN TRANSIT TO VTS':
        await this.upload(tape.barcode, true);
        if (this.o.catalog.tape(tape.barcode)?.status !== 'IN TRANSIT TO VTS') return;
        this.o.catalog.updateTape(tape.barcode, { status: 'ARCHIVING' });
        await this.archiveSegments(tape);
        return;
      case 'ARCHIVING':
        await this.archiveSegments(tape);
        return;
      case 'RETRIEVING':
        await this.checkRetrieval(tape);
        return;
      default:
    }
  }

  /** Uploads the tape's log beyond its last segment: whole segments, and with `all` the rest too. */
  private async upload(barcode: string, all: boolean): Promise<void> {
    await this.o.withLog(barcode, async (log) => {
      const store = await this.o.stores.store();
      for (;;) {
        const segments = this.o.catalog.tapeSegments(barcode);
        const last = segments[segments.length - 1];
        const from = last ? last.firstObject + last.objects.length : 0;
        const count = log.objectCount();
        if (from >= count) return;
        const start = log.logOffset(from);
        let to = from + 1;
        while (to < count && log.logOffset(to + 1) - start <= SEGMENT_BYTES) to++;
        if (to === count && !all && log.logOffset(count) - start < SEGMENT_BYTES) return;
        const epoch = this.epochs.get(barcode) ?? 0;
        const body = await log.readLog(start, log.logOffset(to));
        const seq = (last?.seq ?? 0) + 1;
        const key = `tapes/${barcode}/${String(seq).padStart(6, '0')}-${randomUUID().slice(0, 8)}`;
        await store.put(key, body);
        if ((this.epochs.get(barcode) ?? 0) !== epoch) {
          this.garbage.push(key);
          continue;
        }
        this.o.catalog.addTapeSegment(barcode, { seq, firstObject: from, objects: log.lengths(from, to), logOffset: start, bytes: body.length, key, archiveId: null });
        this.o.catalog.updateTape(barcode, { usedBytes: log.bytesBefore(count) });
      }
    });
  }

  private async archiveSegments(tape: TapeRecord): Promise<void> {
    const store = await this.o.stores.store();
    const archive = await this.o.stores.archive(tape.pool);
    const segments = this.o.catalog.tapeSegments(tape.barcode);
    let done = segments.filter((s) => s.archiveId).length;
    for (const segment of segments) {
      if (segment.archiveId) continue;
      const body = (await store.get(segment.key!)).body;
      const { archiveId } = await archive.put(`${tape.barcode}/${String(segment.seq).padStart(6, '0')}`, body);
      this.o.catalog.setTapeSegment(tape.barcode, segment.seq, { archiveId });
      this.progressOf.set(tape.barcode, Math.floor((++done / segments.length) * 100));
    }
    for (const segment of segments) {
      if (!segment.key) continue;
      await store.delete(segment.key);
      this.o.catalog.setTapeSegment(tape.barcode, segment.seq, { key: null });
    }
    await this.o.dropLog(tape.barcode);
    this.o.catalog.updateTape(tape.barcode, { status: 'ARCHIVED', archivedAt: new Date().toISOString(), element: null, sourceElement: null });
    this.progressOf.delete(tape.barcode);
    this.o.log.info({ barcode: tape.barcode, pool: tape.pool, segments: segments.length }, 'tape archived');
  }

  private async checkRetrieval(tape: TapeRecord): Promise<void> {
    const archive = await this.o.stores.archive(tape.pool);
    const segments = this.o.catalog.tapeSegments(tape.barcode);
    let ready = 0;
    for (const segment of segments) {
      await archive.requestRetrieval(segment.archiveId!);
      if ((await archive.retrievalStatus(segment.archiveId!)) === 'available') ready++;
    }
    this.progressOf.set(tape.barcode, segments.length === 0 ? 100 : Math.floor((ready / segments.length) * 100));
    if (ready < segments.length) return;
    this.o.catalog.updateTape(tape.barcode, { status: 'RETRIEVED', retrievalEta: null, element: this.o.freeSlot(), sourceElement: null });
    this.progressOf.delete(tape.barcode);
    this.o.log.info({ barcode: tape.barcode }, 'tape retrieved (read-only)');
  }

  /** One warning per failure that changes, not one a second while a store is away. */
  private warn(what: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (this.lastError.get(what) === message) return;
    this.lastError.set(what, message);
    this.o.log.warn({ err, tape: what }, 'tape archiver: will retry');
  }
}
