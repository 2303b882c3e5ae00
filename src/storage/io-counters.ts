import type { IoCounters } from '../rpc/api.js';

export function emptyIoCounters(): IoCounters {
  return { readBytes: 0, writeBytes: 0, reads: 0, writes: 0, readTimeMs: 0, writeTimeMs: 0 };
}

/** Sums counters of several resources into one (the gateway's line). */
export function addIoCounters(into: IoCounters, from: IoCounters): IoCounters {
  into.readBytes += from.readBytes;
  into.writeBytes += from.writeBytes;
  into.reads += from.reads;
  into.writes += from.writes;
  into.readTimeMs += from.readTimeMs;
  into.writeTimeMs += from.writeTimeMs;
  return into;
}

/** Runs a read and counts it, with the bytes it returned, once it has succeeded. */
export async function countedRead<T>(counters: IoCounters, bytesOf: (result: T) => number, read: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await read();
  counters.reads += 1;
  counters.readBytes += bytesOf(result);
  counters.readTimeMs += performance.now() - started;
  return result;
}

/** Runs a write of `bytes` and counts it once it has succeeded. */
export async function countedWrite<T>(counters: IoCounters, bytes: number, write: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await write();
  counters.writes += 1;
  counters.writeBytes += bytes;
  counters.writeTimeMs += performance.now() - started;
  return result;
}
