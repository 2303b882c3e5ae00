import { randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { readAt, writeAt } from '../../src/storage/positioned-io.js';

t.test('writes and reads back at any position, on the event loop and through the thread pool alike', async (t) => {
  const handle = await open(path.join(t.testdir(), 'disk'), 'w+');
  t.teardown(() => handle.close());
  for (const [position, length] of [[0, 1], [4096, 4096], [3, 64 * 1024], [100_000, 64 * 1024 + 1], [1 << 20, 3 << 20]] as const) {
    const data = randomBytes(length);
    await writeAt(handle, data, position);
    const back = Buffer.alloc(length);
    t.equal(await readAt(handle, back, position), length);
    t.ok(back.equals(data), `${length} bytes at ${position}`);
  }
});

t.test('a read past the end of the file returns what there is', async (t) => {
  const handle = await open(path.join(t.testdir(), 'disk'), 'w+');
  t.teardown(() => handle.close());
  await writeAt(handle, Buffer.alloc(1000, 7), 0);
  t.equal(await readAt(handle, Buffer.alloc(4096), 0), 1000, 'small read');
  t.equal(await readAt(handle, Buffer.alloc(1 << 20), 500), 500, 'large read');
  t.equal(await readAt(handle, Buffer.alloc(10), 5000), 0, 'wholly past the end');
});
