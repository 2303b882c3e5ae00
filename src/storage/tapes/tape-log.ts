import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { SgwError } from '../../errors.js';

/**
 * One tape's data as an append-only log of its logical objects (records and filemarks), each behind a 16-byte
 * header: magic, length (FILEMARK for a filemark), CRC-32 of the bytes, object number. A write is acknowledged
 * only after the log is synced, and a restart finds exactly the acknowledged objects: it scans the log and drops a
 * torn tail (a header or record that does not check out), which no one was told was written.
 *
 * Positions are object numbers, as SSC counts logical objects: EOD is objectCount().
 */
const MAGIC = 0x53475754; // "SGWT"
const FILEMARK = 0xffffffff;
export const HEADER_BYTES = 16;

export class TapeLog {
  /** Where each object's header starts in the log; one more entry than objects: the end. */
  private readonly offsets: number[] = [0];
  /** Record bytes before each object (prefix sums); one more entry than objects. */
  private readonly dataBefore: number[] = [0];
  private readonly marks: number[] = [];

  private constructor(private readonly fh: FileHandle, readonly path: string) {}

  /** Opens (or creates) the log and rebuilds its index, cutting a torn tail. */
  static async open(path: string): Promise<TapeLog> {
    const fh = await open(path, constants.O_RDWR | constants.O_CREAT, 0o600);
    const log = new TapeLog(fh, path);
    const size = (await fh.stat()).size;
    const header = Buffer.alloc(HEADER_BYTES);
    let at = 0;
    while (at + HEADER_BYTES <= size) {
      await readFully(fh, header, at);
      const length = header.readUInt32BE(4);
      const bytes = length === FILEMARK ? 0 : length;
      if (header.readUInt32BE(0) !== MAGIC || header.readUInt32BE(12) !== log.objectCount() || at + HEADER_BYTES + bytes > size) break;
      if (bytes > 0) {
        const data = Buffer.alloc(bytes);
        await readFully(fh, data, at + HEADER_BYTES);
        if (crc32(data) !== header.readUInt32BE(8)) break;
      }
      log.index(length === FILEMARK ? -1 : length);
      at += HEADER_BYTES + bytes;
    }
    if (at < size) await fh.truncate(at);
    return log;
  }

  objectCount(): number {
    return this.offsets.length - 1;
  }

  filemarks(): readonly number[] {
    return this.marks;
  }

  bytesBefore(p: number): number {
    return this.dataBefore[Math.min(p, this.objectCount())]!;
  }

  /** Bytes of the log (headers included) before object p: where a segment of the tape starts or ends. */
  logOffset(p: number): number {
    return this.offsets[Math.min(p, this.objectCount())]!;
  }

  /** Lengths of objects [from, to): -1 for a filemark. */
  lengths(from: number, to: number): number[] {
    const out: number[] = [];
    for (let p = from; p < to; p++) out.push(this.isFilemark(p) ? -1 : this.dataBefore[p + 1]! - this.dataBefore[p]!);
    return out;
  }

  async read(p: number): Promise<Buffer | 'filemark'> {
    if (p < 0 || p >= this.objectCount()) throw new SgwError('SGW_OUT_OF_RANGE', `object ${p} is beyond the end of data`);
    if (this.isFilemark(p)) return 'filemark';
    const data = Buffer.alloc(this.dataBefore[p + 1]! - this.dataBefore[p]!);
    await readFully(this.fh, data, this.offsets[p]! + HEADER_BYTES);
    return data;
  }

  /** Raw log bytes [start, end), headers included: what a segment object holds. */
  async readLog(start: number, end: number): Promise<Buffer> {
    const data = Buffer.alloc(end - start);
    await readFully(this.fh, data, start);
    return data;
  }

  async write(p: number, records: Buffer[]): Promise<void> {
    await this.append(p, records.map((r) => ({ length: r.length, data: r })));
  }

  async writeFilemarks(p: number, count: number): Promise<void> {
    await this.append(p, Array.from({ length: count }, () => ({ length: -1 })));
  }

  /** Makes p the end of data. */
  async truncate(p: number): Promise<void> {
    if (p >= this.objectCount()) return;
    this.cut(p);
    await this.fh.truncate(this.offsets[p]!);
    await this.fh.datasync();
  }

  async close(): Promise<void> {
    await this.fh.close();
  }

  private async append(p: number, objects: Array<{ length: number; data?: Buffer }>): Promise<void> {
    if (p > this.objectCount()) throw new SgwError('SGW_OUT_OF_RANGE', `object ${p} is beyond the end of data`);
    if (p < this.objectCount()) {
      this.cut(p);
      await this.fh.truncate(this.offsets[p]!);
    }
    const parts: Buffer[] = [];
    let n = p;
    for (const o of objects) {
      const header = Buffer.alloc(HEADER_BYTES);
      header.writeUInt32BE(MAGIC, 0);
      header.writeUInt32BE(o.length < 0 ? FILEMARK : o.length, 4);
      header.writeUInt32BE(o.data && o.data.length > 0 ? crc32(o.data) : 0, 8);
      header.writeUInt32BE(n++, 12);
      parts.push(header);
      if (o.data && o.data.length > 0) parts.push(o.data);
    }
    let at = this.offsets[p]!;
    for (let i = 0; i < parts.length;) {
      const { bytesWritten } = await this.fh.writev(parts.slice(i, i + 1024), at);
      at += bytesWritten;
      // writev may stop short: skip the buffers written, keep the rest of a partly written one.
      let left = bytesWritten;
      while (left > 0 && i < parts.length) {
        if (left >= parts[i]!.length) {
          left -= parts[i]!.length;
          i++;
        } else {
          parts[i] = parts[i]!.subarray(left);
          left = 0;
        }
      }
    }
    await this.fh.datasync();
    for (const o of objects) this.index(o.length);
  }

  private index(length: number): void {
    const p = this.objectCount();
    if (length < 0) this.marks.push(p);
    this.offsets.push(this.offsets[p]! + HEADER_BYTES + Math.max(length, 0));
    this.dataBefore.push(this.dataBefore[p]! + Math.max(length, 0));
  }

  private cut(p: number): void {
    this.offsets.length = p + 1;
    this.dataBefore.length = p + 1;
    while (this.marks.length > 0 && this.marks[this.marks.length - 1]! >= p) this.marks.pop();
  }

  private isFilemark(p: number): boolean {
    // Filemarks are few next to records: a binary search of their positions.
    let lo = 0;
    let hi = this.marks.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = this.marks[mid]!;
      if (m === p) return true;
      if (m < p) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) throw new SgwError('SGW_INTERNAL', 'a tape log ended early');
    done += bytesRead;
  }
}
