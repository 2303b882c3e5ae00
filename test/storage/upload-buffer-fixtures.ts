import { createHash } from 'node:crypto';
import { open, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { JournalRecord, UploadBuffer, UploadBufferDisk } from '../../src/storage/upload-buffer.js';

export const KiB = 1024;

/** Zero-filled files standing in for freshly allocated disks. */
export async function makeDisks(dir: string, sizes: number[], name = 'disk'): Promise<UploadBufferDisk[]> {
  const disks: UploadBufferDisk[] = [];
  for (const [i, sizeBytes] of sizes.entries()) {
    const file = path.join(dir, `${name}-${i}`);
    const handle = await open(file, 'w');
    await handle.truncate(sizeBytes);
    await handle.close();
    disks.push({ path: file, sizeBytes });
  }
  return disks;
}

/** Bytes that differ for every seq, so a record read back at the wrong place or from a stale pass is caught. */
export function dataFor(seq: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let x = (seq * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf[i] = x & 0xff;
  }
  return buf;
}

/** A record reduced to what comparisons need: large payloads as digests, so a failure prints readably. */
export interface RecordSummary {
  seq: number;
  stream: string;
  offset: number;
  kind: 'data' | 'zero';
  length: number;
  digest?: string;
}

export function summarize(rec: JournalRecord): RecordSummary {
  const { seq, stream, offset, kind, length, data } = rec;
  return data ? { seq, stream, offset, kind, length, digest: createHash('sha1').update(data).digest('hex') } : { seq, stream, offset, kind, length };
}

export async function replayAll(buffer: UploadBuffer): Promise<JournalRecord[]> {
  const records: JournalRecord[] = [];
  for await (const rec of buffer.replay()) records.push(rec);
  return records;
}

/** Overwrites bytes of whichever disk file holds `needle`, at a place `at` computes from where the needle starts. */
export async function overwriteNear(disks: UploadBufferDisk[], needle: Buffer, at: (needleStart: number) => number, bytes: Buffer): Promise<void> {
  for (const disk of disks) {
    const content = await readFile(disk.path);
    const start = content.indexOf(needle);
    if (start < 0) continue;
    bytes.copy(content, at(start));
    await writeFile(disk.path, content);
    return;
  }
  throw new Error('payload not found on any disk');
}

/** The crash test's records: lengths and bytes follow from the seq alone, so the parent can check what it replays. */
export const crashRecord = (seq: number): { stream: string; offset: number; kind: 'data'; length: number; data: Buffer } => {
  const length = (seq * 7919) % (64 * KiB + 1);
  return { stream: 'vol-crash', offset: seq * 64 * KiB, kind: 'data', length, data: dataFor(seq, length) };
};
