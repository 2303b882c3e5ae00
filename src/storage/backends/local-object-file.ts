import { open, type FileHandle } from 'node:fs/promises';
import { BackendError } from '../../errors.js';
import { writeFileAtomically } from './atomic-file.js';
import type { ByteRange } from './object-store.js';
import { rangeBeyondEnd } from './store-arguments.js';

/**
 * One file per object of the local store: MAGIC, the length of a JSON header (uint32 big-endian), the header, then
 * the data. Data and metadata live in one file so that one rename replaces both.
 */

const MAGIC = Buffer.from('SGWOBJ01', 'latin1');
const PREAMBLE_BYTES = MAGIC.length + 4;

export interface ObjectHeader {
  etag: string;
  size: number;
  metadata: Record<string, string>;
  contentType?: string;
  storageClass?: string;
}

export interface StoredObject {
  header: ObjectHeader;
  lastModified: Date;
}

function damaged(path: string, why: string): BackendError {
  return new BackendError('SGW_BACKEND_FAILED', `the local store's file ${path} is damaged (${why}); restore it from a backup or delete it`);
}

export async function writeObjectFile(path: string, header: ObjectHeader, data: Iterable<Buffer> | AsyncIterable<Buffer>): Promise<void> {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const preamble = Buffer.alloc(PREAMBLE_BYTES);
  MAGIC.copy(preamble);
  preamble.writeUInt32BE(json.length, MAGIC.length);
  await writeFileAtomically(path, async (file) => {
    let position = await writeFully(file, Buffer.concat([preamble, json]), 0);
    for await (const chunk of data) position = await writeFully(file, chunk, position);
  });
}

/** Returns the position after the data. */
async function writeFully(file: FileHandle, data: Buffer, position: number): Promise<number> {
  for (let written = 0; written < data.length;) {
    const { bytesWritten } = await file.write(data, written, data.length - written, position + written);
    written += bytesWritten;
  }
  return position + data.length;
}

async function readExactly(file: FileHandle, path: string, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await file.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) throw damaged(path, 'it ends early');
    filled += bytesRead;
  }
  return buffer;
}

interface OpenObject extends StoredObject {
  file: FileHandle;
  dataOffset: number;
}

async function openObject(path: string): Promise<OpenObject | null> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
  try {
    const preamble = await readExactly(file, path, PREAMBLE_BYTES, 0);
    if (!preamble.subarray(0, MAGIC.length).equals(MAGIC)) throw damaged(path, 'it is not an sgw object file');
    const jsonBytes = preamble.readUInt32BE(MAGIC.length);
    const header = JSON.parse((await readExactly(file, path, jsonBytes, PREAMBLE_BYTES)).toString('utf8')) as ObjectHeader;
    const { mtime } = await file.stat();
    return { file, header, lastModified: mtime, dataOffset: PREAMBLE_BYTES + jsonBytes };
  } catch (err) {
    await file.close();
    throw err instanceof SyntaxError ? damaged(path, 'its header is not JSON') : err;
  }
}

export async function readObjectInfo(path: string): Promise<StoredObject | null> {
  const opened = await openObject(path);
  if (opened === null) return null;
  await opened.file.close();
  return { header: opened.header, lastModified: opened.lastModified };
}

/**
 * The object's data, or the part of it in `range` (end clamped to the object's end) read at its offset alone.
 * `name` is what to call the object in the error for a range that starts past its end.
 */
export async function readObjectData(path: string, name: string, range?: ByteRange): Promise<(StoredObject & { body: Buffer }) | null> {
  const opened = await openObject(path);
  if (opened === null) return null;
  const { file, header, lastModified, dataOffset } = opened;
  try {
    if (range !== undefined && range.start >= header.size) throw rangeBeyondEnd(range, header.size, name);
    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? header.size - 1, header.size - 1);
    const body = await readExactly(file, path, end - start + 1, dataOffset + start);
    return { header, lastModified, body };
  } finally {
    await file.close();
  }
}
