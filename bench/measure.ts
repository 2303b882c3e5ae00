import { open } from 'node:fs/promises';

/** Seconds that `work` took. */
export async function timed(work: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/** Runs job(0) ... job(count - 1) with at most `concurrency` in flight. */
export async function pool(count: number, concurrency: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await job(next++);
  }));
}

/** A sparse file of `bytes`, as a cache or upload-buffer disk. */
export async function sizedFile(file: string, bytes: number): Promise<{ path: string; sizeBytes: number }> {
  const handle = await open(file, 'w');
  await handle.truncate(bytes);
  await handle.close();
  return { path: file, sizeBytes: bytes };
}
