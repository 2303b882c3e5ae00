import { BugError, SgwError } from '../errors.js';
import { GroupCommit } from './upload-buffer-commit.js';
import { DiskSet, type UploadBufferDisk } from './upload-buffer-disks.js';
import { RingLayout, type Placement } from './upload-buffer-layout.js';
import { encodeRecord, encodeWrapMarker, footprint, MAX_STREAM_BYTES } from './upload-buffer-record.js';
import { openSuperblock, writeSuperblock, type Superblock } from './upload-buffer-superblock.js';
import { walkJournal, type WalkedRecord, type WalkStart } from './upload-buffer-walk.js';

export type { UploadBufferDisk } from './upload-buffer-disks.js';

export interface JournalRecord {
  /** 1, 2, 3 ... strictly increasing, never reused, across restarts and wraps. */
  seq: number;
  /** Opaque id of the writer, e.g. a volume id; ASCII, at most 32 bytes. */
  stream: string;
  /** Byte offset within the stream. */
  offset: number;
  /** 'zero' is an unmap or zero-fill of `length` bytes and carries no payload. */
  kind: 'data' | 'zero';
  /** Payload length for 'data' (= data.length), range length for 'zero'. */
  length: number;
  data?: Buffer;
}

export type NewJournalRecord = Omit<JournalRecord, 'seq'>;

/**
 * The upload buffer: an fsync'd, append-only ring journal over one or more disks. Writes are acknowledged once
 * durable here (for a volatile write cache: once written, and durable at the next flush) and released once
 * uploaded; after a crash, `replay` hands back everything acknowledged and not yet released. The on-disk
 * format is described in upload-buffer-record.ts and upload-buffer-superblock.ts.
 */
export class UploadBuffer {
  readonly capacityBytes: number;
  private head: { seq: number; pos: number };
  private readonly recoveredHeadSeq: number;
  private readonly commit: GroupCommit;
  private releasing: Promise<void> = Promise.resolve();
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly disks: DiskSet,
    private readonly layout: RingLayout,
    private sb: Superblock,
    head: { seq: number; pos: number },
  ) {
    this.capacityBytes = layout.capacity;
    this.head = head;
    this.recoveredHeadSeq = head.seq;
    this.commit = new GroupCommit(disks, layout, head.seq);
  }

  /** Formats a blank disk set, or recovers an existing one: its records up to the first torn or corrupt one. */
  static async open(disks: readonly UploadBufferDisk[]): Promise<UploadBuffer> {
    const set = await DiskSet.open(disks);
    try {
      const sb = await openSuperblock(set);
      const layout = new RingLayout(sb.diskSizes);
      if (!layout.isPosition(sb.tailPos) || !Number.isSafeInteger(sb.tailSeq)) {
        throw new SgwError('SGW_DISK_UNSUITABLE', `the upload buffer superblock on ${disks[0]!.path} points outside its disks`);
      }
      let head = { seq: sb.tailSeq, pos: sb.tailPos };
      for await (const record of walkJournal(set, layout, sb.setId, tailOf(sb), { payloads: true, maxEpoch: sb.epoch })) {
        head = { seq: record.header.seq, pos: record.end };
      }
      return new UploadBuffer(set, layout, sb, head);
    } catch (err) {
      await set.close().catch(() => undefined);
      throw err;
    }
  }

  /** Last seq appended; 0 when none ever was. */
  get headSeq(): number {
    return this.head.seq;
  }

  /** Last seq released. */
  get tailSeq(): number {
    return this.sb.tailSeq;
  }

  /** Ring bytes between tail and head, headers, padding and skipped region ends included. */
  get usedBytes(): number {
    if (this.head.seq === this.sb.tailSeq) return 0;
    return this.layout.distance(this.sb.tailPos, this.head.pos) || this.capacityBytes;
  }

  /** fdatasync calls made since open, superblock writes included. */
  get syncCount(): number {
    return this.disks.syncCount;
  }

  /** Whether a 'data' record with this payload would be accepted now. */
  fits(payloadBytes: number): boolean {
    const placement = this.layout.place(this.head.pos, footprint('data', payloadBytes));
    return placement !== undefined && placement.slot <= this.capacityBytes - this.usedBytes;
  }

  /**
   * The records recovered at open, from the tail to the head as it was then, in seq order. Records released since
   * open are skipped.
   */
  async *replay(): AsyncIterable<JournalRecord> {
    const start = tailOf(this.sb);
    const last = this.recoveredHeadSeq;
    let next = start.seq;
    for await (const { header, payload } of walkJournal(this.disks, this.layout, this.sb.setId, start, {
      payloads: true,
      lastSeq: last,
      maxEpoch: this.sb.epoch,
    })) {
      const { seq, stream, offset, length } = header;
      const kind = header.kind === 'data' ? 'data' : 'zero';
      yield kind === 'data' ? { seq, stream, offset, kind, length, data: Buffer.from(payload!) } : { seq, stream, offset, kind, length };
      next = seq + 1;
    }
    if (next <= last) {
      throw new SgwError('SGW_DISK_UNSUITABLE', `upload buffer record ${next} changed on disk after it was recovered (was it released during replay?)`);
    }
  }

  /**
   * Resolves with the record's seq once it is durable, or with `durable: false` once it is written: safe from a
   * crash of sgwd but not of the machine until the next durable append or `flush`. Rejects at once with
   * SGW_UPLOAD_BUFFER_FULL when it does not fit now (or ever); waiting for uploads to free space is the caller's
   * decision.
   */
  async append(rec: NewJournalRecord, { durable }: { durable: boolean } = { durable: true }): Promise<number> {
    if (this.closing) throw new SgwError('SGW_SHUTTING_DOWN', 'the upload buffer is closed');
    checkRecord(rec);
    if (this.commit.failed) throw this.commit.failed;
    const size = footprint(rec.kind, rec.length);
    const placement = this.placeOrRefuse(size);
    const seq = this.head.seq + 1;
    const { epoch, setId } = this.sb;
    const writes: { pos: number; buf: Buffer }[] = [];
    if (placement.pos !== this.head.pos) {
      writes.push({ pos: this.head.pos, buf: encodeWrapMarker(seq, epoch, placement.pos, setId) });
    }
    const { stream, offset, kind, length } = rec;
    let pos = placement.pos;
    for (const buf of encodeRecord({ kind, seq, epoch, stream, offset, length }, setId, rec.data)) {
      writes.push({ pos, buf });
      pos += buf.length;
    }
    this.head = { seq, pos: this.layout.advance(placement.pos, size) };
    return new Promise((resolve, reject) => this.commit.enqueue({ seq, writes, durable, resolve: () => resolve(seq), reject }));
  }

  /** Resolves once every record appended so far is durable. */
  flush(): Promise<void> {
    if (this.closing) return Promise.reject(new SgwError('SGW_SHUTTING_DOWN', 'the upload buffer is closed'));
    return this.commit.flush();
  }

  /**
   * Lets records up to `uptoSeq` be overwritten. The new tail is durable before any of their space is reused, so a
   * crash either replays them again or not at all. Seqs beyond the head are clamped to it; records not yet durable
   * are waited for.
   */
  release(uptoSeq: number): Promise<void> {
    if (this.closing) return Promise.reject(new SgwError('SGW_SHUTTING_DOWN', 'the upload buffer is closed'));
    if (!Number.isSafeInteger(uptoSeq)) return Promise.reject(new BugError(`release(${uptoSeq}): not a seq`));
    const upto = Math.min(uptoSeq, this.head.seq);
    const run = this.releasing.then(() => this.releaseUpTo(upto));
    this.releasing = run.catch(() => undefined);
    return run;
  }

  /** Waits for appends and releases under way, then closes the disks. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.commit.drain();
      await this.releasing;
      await this.disks.close();
    })();
    return this.closing;
  }

  private placeOrRefuse(size: number): Placement {
    const placement = this.layout.place(this.head.pos, size);
    if (!placement) {
      const why =
        size > this.capacityBytes
          ? `is larger than the whole upload buffer (${this.capacityBytes} bytes)`
          : `does not fit on any one upload buffer disk (the largest holds ${this.layout.largestRegion} bytes) and records do not span disks`;
      throw new SgwError('SGW_UPLOAD_BUFFER_FULL', `a record of ${size} bytes ${why}`);
    }
    const free = this.capacityBytes - this.usedBytes;
    if (placement.slot > free) {
      throw new SgwError(
        'SGW_UPLOAD_BUFFER_FULL',
        `the upload buffer is full: ${this.usedBytes} of ${this.capacityBytes} bytes wait for upload and the record needs ${placement.slot}`,
      );
    }
    return placement;
  }

  private async releaseUpTo(upto: number): Promise<void> {
    if (upto <= this.sb.tailSeq) return;
    await this.commit.whenWritten(upto);
    let last: WalkedRecord | undefined;
    const options = { payloads: false, lastSeq: upto, maxEpoch: this.sb.epoch };
    for await (const record of walkJournal(this.disks, this.layout, this.sb.setId, tailOf(this.sb), options)) last = record;
    if (last?.header.seq !== upto) throw new BugError(`upload buffer record ${upto} is not where the journal chain leads`);
    const sb = { ...this.sb, gen: this.sb.gen + 1, tailPos: last.end, tailSeq: upto, tailEpoch: last.header.epoch };
    await writeSuperblock(this.disks, sb);
    this.sb = sb;
  }
}

function tailOf(sb: Superblock): WalkStart {
  return { pos: sb.tailPos, seq: sb.tailSeq + 1, epoch: sb.tailEpoch };
}

function checkRecord(rec: NewJournalRecord): void {
  const bad = (why: string): never => {
    throw new BugError(`invalid upload buffer record: ${why}`);
  };
  if (typeof rec.stream !== 'string' || !/^[\x00-\x7f]*$/.test(rec.stream) || rec.stream.length > MAX_STREAM_BYTES) {
    bad(`stream must be ASCII of at most ${MAX_STREAM_BYTES} bytes`);
  }
  if (!Number.isSafeInteger(rec.offset) || rec.offset < 0) bad(`offset ${rec.offset}`);
  if (!Number.isSafeInteger(rec.length) || rec.length < 0) bad(`length ${rec.length}`);
  if (rec.kind === 'data') {
    if (!Buffer.isBuffer(rec.data) || rec.data.length !== rec.length) bad('data must be a Buffer of `length` bytes');
  } else if (rec.kind === 'zero') {
    if (rec.data !== undefined) bad('a zero record carries no data');
  } else {
    bad(`kind ${String(rec.kind)}`);
  }
}
