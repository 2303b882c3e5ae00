import type { DiskSet } from './upload-buffer-disks.js';
import type { RingLayout } from './upload-buffer-layout.js';
import { decodeHeader, footprint, HEADER_BYTES, payloadBytes, payloadIntact, type RecordHeader } from './upload-buffer-record.js';

/**
 * Reads far enough ahead that walking many small records costs few reads; a walk over headers alone reads less, so
 * it does not drag in the payloads of large records it skips.
 */
const READ_AHEAD_BYTES = 1 << 20;
const HEADER_READ_AHEAD_BYTES = 64 << 10;

/** Reads of the ring by logical position, served from one read-ahead window while they move forward. */
class RingReader {
  private windowPos = 0;
  private window: Buffer = Buffer.alloc(0);

  constructor(private readonly disks: DiskSet, private readonly layout: RingLayout, private readonly readAhead: number) {}

  /** `length` bytes at `pos`, which must lie in one region. The result may share memory with later reads. */
  async read(pos: number, length: number): Promise<Buffer> {
    const at = pos - this.windowPos;
    if (at >= 0 && at + length <= this.window.length) return this.window.subarray(at, at + length);
    const { disk, offset } = this.layout.locate(pos);
    const regionLeft = this.layout.regionEnd(disk) - pos;
    this.window = await this.disks.read(disk, offset, Math.min(regionLeft, Math.max(length, this.readAhead)));
    this.windowPos = pos;
    return this.window.subarray(0, length);
  }
}

/** Where a walk starts: the position of record `seq` (or of its wrap marker), and the epoch of record seq - 1. */
export interface WalkStart {
  pos: number;
  seq: number;
  epoch: number;
}

export interface WalkedRecord {
  header: RecordHeader;
  pos: number;
  /** Position right after the record: where the next one (or its wrap marker) starts. */
  end: number;
  /** The payload, read only when the walk checks payloads. */
  payload?: Buffer;
}

export interface WalkOptions {
  /** Read and CRC-check payloads; without it only headers are read and trusted. */
  payloads: boolean;
  /** Stop after this seq. */
  lastSeq?: number;
  /** The newest epoch any record can carry: the current one. */
  maxEpoch: number;
}

/**
 * The chain of records from `start` on, in seq order, ending before the first record that is not intact, not of this
 * disk set, not the next seq, or older (by epoch) than the one before it. That end is the head: anything after it was
 * never acknowledged as durable, or is a record of an earlier pass round the ring.
 */
export async function* walkJournal(
  disks: DiskSet,
  layout: RingLayout,
  setId: Buffer,
  start: WalkStart,
  options: WalkOptions,
): AsyncGenerator<WalkedRecord> {
  const reader = new RingReader(disks, layout, options.payloads ? READ_AHEAD_BYTES : HEADER_READ_AHEAD_BYTES);
  let { pos, seq, epoch } = start;
  let wrapped = false;
  // Every record uses at least a sector, so a chain longer than the ring could only be a loop through stale ones.
  for (let walked = 0; walked <= layout.capacity; ) {
    if (options.lastSeq !== undefined && seq > options.lastSeq) return;
    const header = decodeHeader(await reader.read(pos, HEADER_BYTES), setId);
    if (!header || header.seq !== seq || header.epoch < epoch || header.epoch > options.maxEpoch) return;
    if (header.kind === 'wrap') {
      if (wrapped || !layout.isRegionStart(header.offset)) return;
      walked += layout.distance(pos, header.offset);
      ({ epoch } = header);
      pos = header.offset;
      wrapped = true;
      continue;
    }
    const size = footprint(header.kind, header.length);
    if (pos + size > layout.regionEnd(layout.regionOf(pos))) return;
    let payload: Buffer | undefined;
    if (options.payloads) {
      const record = await reader.read(pos, HEADER_BYTES + payloadBytes(header));
      payload = record.subarray(HEADER_BYTES);
      if (!payloadIntact(header, payload)) return;
    }
    const end = layout.advance(pos, size);
    yield { header, pos, end, ...(payload ? { payload } : {}) };
    ({ epoch } = header);
    walked += size;
    pos = end;
    seq++;
    wrapped = false;
  }
}
