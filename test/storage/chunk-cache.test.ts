import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import fc from 'fast-check';
import t from 'tap';
import { ChunkCache } from '../../src/storage/chunk-cache.js';

const CHUNK = 64;

/** A zero-filled file standing in for a preallocated cache disk. */
async function disk(dir: string, name: string, sizeBytes: number): Promise<{ path: string; sizeBytes: number }> {
  const file = path.join(dir, name);
  await writeFile(file, Buffer.alloc(sizeBytes));
  return { path: file, sizeBytes };
}

async function cacheOf(t: { testdir(): string; teardown(fn: () => unknown): void }, slots: number, chunkSize = CHUNK): Promise<ChunkCache> {
  const cache = await ChunkCache.open([await disk(t.testdir(), 'cache', slots * chunkSize)], chunkSize);
  t.teardown(() => cache.close());
  return cache;
}

const chunk = (fill: number, size = CHUNK): Buffer => Buffer.alloc(size, fill);

/** Whether `p` is still unsettled after giving file I/O ample time to finish. */
async function stillPending(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  p.then(() => (settled = true), () => (settled = true));
  await delay(30);
  return !settled;
}

t.test('the least recently used clean chunk is evicted first, and evictions are counted', async (t) => {
  const cache = await cacheOf(t, 3);
  await cache.put('a', chunk(1), { dirty: false });
  await cache.put('b', chunk(2), { dirty: false });
  await cache.put('c', chunk(3), { dirty: false });
  t.same(await cache.get('a'), chunk(1), 'a is now the most recent');
  await cache.put('d', chunk(4), { dirty: false });
  t.same(['a', 'b', 'c', 'd'].filter((k) => cache.has(k)), ['a', 'c', 'd'], 'b was least recent');
  await cache.write('c', 0, Buffer.from([9]), { dirty: false });
  await cache.put('e', chunk(5), { dirty: false });
  t.same(['a', 'c', 'd', 'e'].filter((k) => cache.has(k)), ['c', 'd', 'e'], 'a write counts as a use too');
  t.equal(cache.stats().evictions, 2);
  t.same(cache.stats(), { capacityBytes: 3 * CHUNK, usedBytes: 3 * CHUNK, dirtyBytes: 0, hits: 1, misses: 0, evictions: 2 });
});

t.test('get and read count hits and misses', async (t) => {
  const cache = await cacheOf(t, 2);
  t.equal(await cache.get('x'), undefined);
  await cache.put('x', Buffer.from(Array.from({ length: CHUNK }, (_, i) => i)), { dirty: false });
  t.same(await cache.read('x', 10, 3), Buffer.from([10, 11, 12]));
  t.same((await cache.get('x'))?.length, CHUNK);
  t.equal(await cache.read('y', 0, 1), undefined);
  t.match(cache.stats(), { hits: 2, misses: 2 });
});

t.test('dirty chunks are never evicted; markClean makes them the most recent clean chunk', async (t) => {
  const cache = await cacheOf(t, 3);
  await cache.put('a', chunk(1), { dirty: true });
  await cache.put('b', chunk(2), { dirty: false });
  await cache.put('c', chunk(3), { dirty: true });
  for (let i = 0; i < 5; i++) await cache.put(`x${i}`, chunk(10 + i), { dirty: false });
  t.ok(cache.has('a') && cache.has('c'), 'both dirty chunks survive a stream of clean puts');
  t.equal(cache.stats().evictions, 5);
  t.equal(cache.stats().dirtyBytes, 2 * CHUNK);
  cache.markClean('a');
  t.notOk(cache.isDirty('a'));
  await cache.put('y', chunk(20), { dirty: false });
  t.ok(cache.has('a'), 'a became most recent, so the older x4 went first');
  t.notOk(cache.has('x4'));
  await cache.put('z', chunk(21), { dirty: false });
  t.notOk(cache.has('a'));
  t.same(await cache.get('c'), chunk(3));
});

t.test('a clean put never replaces bytes not yet uploaded', async (t) => {
  const cache = await cacheOf(t, 2);
  await cache.put('a', chunk(1), { dirty: true });
  await cache.put('a', chunk(2), { dirty: false });
  t.same(await cache.get('a'), chunk(1));
  t.ok(cache.isDirty('a'));
  await cache.write('a', 0, Buffer.from([7]), { dirty: false });
  t.ok(cache.isDirty('a'), 'only markClean or delete unpins');
});

t.test('put waits while every slot is dirty and goes ahead once one is marked clean or deleted', async (t) => {
  const cache = await cacheOf(t, 2);
  await cache.put('a', chunk(1), { dirty: true });
  await cache.put('b', chunk(2), { dirty: true });
  const room = cache.waitForRoom();
  const c = cache.put('c', chunk(3), { dirty: true });
  t.ok(await stillPending(c), 'no slot can be evicted');
  t.ok(await stillPending(room));
  t.notOk(cache.has('c'));
  cache.markClean('a');
  await room;
  await c;
  t.notOk(cache.has('a'), 'a was the only clean chunk');
  t.ok(cache.isDirty('c'));
  t.equal(cache.stats().evictions, 1);
  const d = cache.put('d', chunk(4), { dirty: false });
  t.ok(await stillPending(d));
  cache.delete('b');
  await d;
  t.same(await cache.get('d'), chunk(4));
  t.equal(cache.stats().evictions, 1, 'a deleted chunk is not an eviction');
  t.ok(cache.stats().usedBytes <= cache.stats().capacityBytes);
});

t.test('a put waiting for room rejects with SGW_CACHE_FULL when its signal aborts', async (t) => {
  const cache = await cacheOf(t, 1);
  await cache.put('a', chunk(1), { dirty: true });
  const controller = new AbortController();
  const b = cache.put('b', chunk(2), { dirty: false, signal: controller.signal });
  t.ok(await stillPending(b));
  controller.abort();
  await t.rejects(b, { code: 'SGW_CACHE_FULL', kind: 'user' });
  await t.rejects(cache.put('b', chunk(2), { dirty: false, signal: AbortSignal.abort() }), { code: 'SGW_CACHE_FULL' });
  const patience = new AbortController();
  setTimeout(() => patience.abort(), 10);
  await t.rejects(cache.waitForRoom(patience.signal), { code: 'SGW_CACHE_FULL' });
  t.notOk(cache.has('b'));
  t.same(await cache.get('a'), chunk(1));
  await cache.put('a', chunk(3), { dirty: true, signal: AbortSignal.abort() });
  t.same(await cache.get('a'), chunk(3), 'a cached key is overwritten in place and needs no room');
});

t.test('disks of different sizes: slots never straddle a disk, the tail of a disk stays unused', async (t) => {
  const dir = t.testdir();
  const first = await disk(dir, 'one', 3.5 * CHUNK);
  const second = await disk(dir, 'two', 2 * CHUNK);
  const cache = await ChunkCache.open([first, second], CHUNK);
  t.teardown(() => cache.close());
  t.equal(cache.stats().capacityBytes, 5 * CHUNK);
  for (let i = 1; i <= 5; i++) await cache.put(`k${i}`, chunk(i), { dirty: true });
  t.equal(cache.stats().usedBytes, 5 * CHUNK);
  for (let i = 1; i <= 5; i++) t.same(await cache.get(`k${i}`), chunk(i));
  const slotsOf = (file: Buffer, slots: number): number[] => Array.from({ length: slots }, (_, s) => file[s * CHUNK]!);
  const one = await readFile(first.path);
  const two = await readFile(second.path);
  t.same([...slotsOf(one, 3), ...slotsOf(two, 2)].sort(), [1, 2, 3, 4, 5], 'each chunk is in exactly one whole slot');
  t.ok(one.subarray(3 * CHUNK).every((b) => b === 0), 'the half slot at the end of the first disk is never written');
  await t.rejects(cache.put('k6', chunk(6), { dirty: false, signal: AbortSignal.abort() }), { code: 'SGW_CACHE_FULL' });
});

t.test('operations on one key take effect in call order', async (t) => {
  const cache = await cacheOf(t, 2);
  const put = cache.put('k', chunk(1), { dirty: false });
  const write = cache.write('k', 4, Buffer.from([9, 9]), { dirty: true });
  const read = cache.read('k', 3, 4);
  const overwrite = cache.put('k', chunk(2), { dirty: true });
  await Promise.all([put, write, overwrite]);
  t.same(await read, Buffer.from([1, 9, 9, 1]), 'the read saw the put and the write, not the later put');
  t.same(await cache.get('k'), chunk(2));
  t.ok(cache.isDirty('k'));

  const gone = cache.put('g', chunk(3), { dirty: true });
  const lateWrite = cache.write('g', 0, Buffer.from([4]), { dirty: true });
  cache.delete('g');
  await Promise.all([gone, lateWrite]);
  t.notOk(cache.has('g'), 'a delete called after a put wins even when the put had not landed yet');
  t.equal(cache.stats().usedBytes, CHUNK, 'and its slot is free again');
  await t.rejects(cache.write('g', 0, Buffer.from([4]), { dirty: true }), { code: 'SGW_NOT_FOUND' });
});

t.test('a slot being read is not handed to another chunk until the read is done', async (t) => {
  const size = 8 * 2 ** 20;
  const cache = await cacheOf(t, 1, size);
  await cache.put('a', chunk(1, size), { dirty: false });
  const read = cache.get('a');
  while (cache.stats().hits === 0) await new Promise((resolve) => setImmediate(resolve));
  cache.delete('a');
  const put = cache.put('b', chunk(2, size), { dirty: false });
  t.same(await read, chunk(1, size), 'the read got the old chunk whole');
  await put;
  t.same(await cache.get('b'), chunk(2, size));
  t.equal(cache.stats().usedBytes, size);
});

t.test('misuse and closing', async (t) => {
  await t.rejects(ChunkCache.open([]), { code: 'SGW_CACHE_NOT_CONFIGURED' });
  const tiny = await disk(t.testdir(), 'tiny', CHUNK - 1);
  await t.rejects(ChunkCache.open([tiny], CHUNK), { code: 'SGW_DISK_UNSUITABLE' });
  await t.rejects(ChunkCache.open([{ path: path.join(t.testdir(), 'absent'), sizeBytes: 4 * CHUNK }], CHUNK), { code: 'SGW_DISK_UNSUITABLE' });

  const cache = await ChunkCache.open([await disk(t.testdir(), 'c', CHUNK)], CHUNK);
  await t.rejects(cache.put('a', Buffer.alloc(CHUNK - 1), { dirty: false }), { code: 'SGW_INTERNAL' });
  await cache.put('a', chunk(1), { dirty: true });
  await t.rejects(cache.read('a', CHUNK - 1, 2), { code: 'SGW_INTERNAL' });
  await t.rejects(cache.write('a', -1, Buffer.from([1]), { dirty: true }), { code: 'SGW_INTERNAL' });
  const waiting = cache.put('b', chunk(2), { dirty: false });
  t.ok(await stillPending(waiting));
  await cache.close();
  await t.rejects(waiting, { code: 'SGW_SHUTTING_DOWN' }, 'a writer waiting for room is let go');
  await t.rejects(cache.get('a'), { code: 'SGW_SHUTTING_DOWN' });
  await cache.close();
});

type Command =
  | { op: 'put'; key: string; fill: number; dirty: boolean }
  | { op: 'get'; key: string }
  | { op: 'read'; key: string; start: number; length: number }
  | { op: 'write'; key: string; start: number; bytes: number[]; dirty: boolean }
  | { op: 'markClean'; key: string }
  | { op: 'delete'; key: string };

interface ModelEntry {
  data: Buffer;
  dirty: boolean;
  lastUse: number;
}

/** The cache as the spec describes it: a map plus LRU order over clean entries, in memory. */
class Model {
  readonly entries = new Map<string, ModelEntry>();
  hits = 0;
  misses = 0;
  evictions = 0;
  private clock = 0;

  constructor(readonly slots: number) {}

  /** false when the cache is full of dirty chunks, so the put has to wait. */
  put(key: string, data: Buffer, dirty: boolean): boolean {
    const entry = this.entries.get(key);
    if (entry) {
      if (entry.dirty && !dirty) return true;
      entry.data = Buffer.from(data);
      entry.dirty ||= dirty;
      entry.lastUse = ++this.clock;
      return true;
    }
    if (this.entries.size === this.slots) {
      const clean = [...this.entries].filter(([, e]) => !e.dirty).sort(([, x], [, y]) => x.lastUse - y.lastUse);
      const victim = clean[0];
      if (!victim) return false;
      this.entries.delete(victim[0]);
      this.evictions++;
    }
    this.entries.set(key, { data: Buffer.from(data), dirty, lastUse: ++this.clock });
    return true;
  }

  read(key: string): Buffer | undefined {
    const entry = this.entries.get(key);
    if (!entry) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    entry.lastUse = ++this.clock;
    return entry.data;
  }

  write(key: string, start: number, bytes: Buffer, dirty: boolean): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    bytes.copy(entry.data, start);
    entry.dirty ||= dirty;
    entry.lastUse = ++this.clock;
    return true;
  }

  markClean(key: string): void {
    const entry = this.entries.get(key);
    if (!entry?.dirty) return;
    entry.dirty = false;
    entry.lastUse = ++this.clock;
  }
}

const MODEL_CHUNK = 16;
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f'];
const keyArb = fc.constantFrom(...KEYS);
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ op: fc.constant('put' as const), key: keyArb, fill: fc.integer({ min: 0, max: 255 }), dirty: fc.boolean() }),
  fc.record({ op: fc.constant('get' as const), key: keyArb }),
  fc.integer({ min: 0, max: MODEL_CHUNK }).chain((start) =>
    fc.record({ op: fc.constant('read' as const), key: keyArb, start: fc.constant(start), length: fc.integer({ min: 0, max: MODEL_CHUNK - start }) })),
  fc.integer({ min: 0, max: MODEL_CHUNK - 1 }).chain((start) =>
    fc.record({ op: fc.constant('write' as const), key: keyArb, start: fc.constant(start), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: MODEL_CHUNK - start }), dirty: fc.boolean() })),
  fc.record({ op: fc.constant('markClean' as const), key: keyArb }),
  fc.record({ op: fc.constant('delete' as const), key: keyArb }),
);

t.test('model: random operation sequences match an in-memory LRU and never exceed capacity', async (t) => {
  const dir = t.testdir();
  // 2.5 + 2 slots: four usable slots over two disks, fewer than there are keys, so eviction and waiting both happen.
  const disks = [await disk(dir, 'one', 2.5 * MODEL_CHUNK), await disk(dir, 'two', 2 * MODEL_CHUNK)];
  let runs = 0;
  await fc.assert(fc.asyncProperty(fc.array(commandArb, { maxLength: 60 }), async (commands) => {
    runs++;
    const cache = await ChunkCache.open(disks, MODEL_CHUNK);
    const model = new Model(4);
    const same = (actual: unknown, expected: unknown, what: string): void => {
      if (!isDeepEqual(actual, expected)) throw new Error(`${what}: got ${JSON.stringify(actual)}, want ${JSON.stringify(expected)}`);
    };
    try {
      for (const [step, c] of commands.entries()) {
        const at = `step ${step} ${JSON.stringify(c)}`;
        switch (c.op) {
          case 'put': {
            const data = Buffer.alloc(MODEL_CHUNK, c.fill);
            if (model.put(c.key, data, c.dirty)) {
              // A put the model says fits must not wait; the timeout turns a wrong wait into a failure, not a hang.
              await cache.put(c.key, data, { dirty: c.dirty, signal: AbortSignal.timeout(2000) });
            } else {
              const error = await cache.put(c.key, data, { dirty: c.dirty, signal: AbortSignal.abort() }).then(() => undefined, (err: { code?: string }) => err.code);
              same(error, 'SGW_CACHE_FULL', `${at}: a put into a cache full of dirty chunks`);
            }
            break;
          }
          case 'get':
            same(await cache.get(c.key), model.read(c.key), at);
            break;
          case 'read':
            same(await cache.read(c.key, c.start, c.length), model.read(c.key)?.subarray(c.start, c.start + c.length), at);
            break;
          case 'write': {
            const bytes = Buffer.from(c.bytes);
            const expected = model.write(c.key, c.start, bytes, c.dirty);
            const outcome = await cache.write(c.key, c.start, bytes, { dirty: c.dirty }).then(() => true, (err: { code?: string }) => err.code);
            same(outcome, expected ? true : 'SGW_NOT_FOUND', at);
            break;
          }
          case 'markClean':
            model.markClean(c.key);
            cache.markClean(c.key);
            break;
          case 'delete':
            model.entries.delete(c.key);
            cache.delete(c.key);
            break;
        }
        const stats = cache.stats();
        if (stats.usedBytes > stats.capacityBytes) throw new Error(`${at}: ${stats.usedBytes} bytes used of ${stats.capacityBytes}`);
        const dirtyKeys = [...model.entries].filter(([, e]) => e.dirty).map(([k]) => k);
        for (const key of dirtyKeys) if (!cache.has(key) || !cache.isDirty(key)) throw new Error(`${at}: dirty ${key} is gone or clean`);
        same(KEYS.filter((k) => cache.has(k)), KEYS.filter((k) => model.entries.has(k)), `${at}: present keys`);
        same(KEYS.filter((k) => cache.isDirty(k)), KEYS.filter((k) => model.entries.get(k)?.dirty), `${at}: dirty keys`);
        same(stats, {
          capacityBytes: 4 * MODEL_CHUNK,
          usedBytes: model.entries.size * MODEL_CHUNK,
          dirtyBytes: dirtyKeys.length * MODEL_CHUNK,
          hits: model.hits,
          misses: model.misses,
          evictions: model.evictions,
        }, `${at}: stats`);
      }
      for (const key of KEYS) same(await cache.get(key), model.read(key), `final content of ${key}`);
    } finally {
      await cache.close();
    }
  }), { numRuns: 300 });
  t.equal(runs >= 300, true, `${runs} sequences checked`);
});

function isDeepEqual(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) && Buffer.isBuffer(b)) return a.equals(b);
  return JSON.stringify(a) === JSON.stringify(b);
}
