import { SgwError } from '../../errors.js';
import type { Archive } from '../backends/archive.js';
import type { TapeSegment } from '../catalog/catalog.js';
import { HEADER_BYTES } from './tape-log.js';

/**
 * A retrieved tape, read from its segments in the archive: positioned by the object lengths the catalog keeps,
 * read a whole segment at a time (backup software reads a tape from start to end).
 */
export class ArchivedTape {
  private readonly starts: number[];
  private readonly marks: number[] = [];
  private readonly dataBefore: number[] = [0];
  private held: { seq: number; body: Buffer } | undefined;

  constructor(private readonly segments: TapeSegment[], private readonly archive: Archive) {
    this.starts = segments.map((s) => s.firstObject);
    for (const s of segments) {
      for (const length of s.objects) {
        if (length < 0) this.marks.push(this.dataBefore.length - 1);
        this.dataBefore.push(this.dataBefore[this.dataBefore.length - 1]! + Math.max(length, 0));
      }
    }
  }

  objectCount(): number {
    return this.dataBefore.length - 1;
  }

  filemarks(): readonly number[] {
    return this.marks;
  }

  bytesBefore(p: number): number {
    return this.dataBefore[Math.min(p, this.objectCount())]!;
  }

  async read(p: number): Promise<Buffer | 'filemark'> {
    if (p < 0 || p >= this.objectCount()) throw new SgwError('SGW_OUT_OF_RANGE', `object ${p} is beyond the end of data`);
    const segment = this.segments[this.segmentOf(p)]!;
    const length = segment.objects[p - segment.firstObject]!;
    if (length < 0) return 'filemark';
    let offset = 0;
    for (let i = 0; i < p - segment.firstObject; i++) offset += HEADER_BYTES + Math.max(segment.objects[i]!, 0);
    if (this.held?.seq !== segment.seq) {
      if (!segment.archiveId) throw new SgwError('SGW_INTERNAL', `segment ${segment.seq} was never archived`);
      this.held = { seq: segment.seq, body: await this.archive.get(segment.archiveId) };
    }
    return Buffer.from(this.held.body.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length));
  }

  private segmentOf(p: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= p) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
