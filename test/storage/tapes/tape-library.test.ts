import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import t from 'tap';
import { openArchive } from '../../../src/storage/backends/open-backend.js';
import { LocalObjectStore } from '../../../src/storage/backends/local-store.js';
import { Catalog } from '../../../src/storage/catalog/catalog.js';
import { DRIVE_BASE, MAILSLOT_BASE, SLOT_BASE } from '../../../src/storage/tapes/library-layout.js';
import { TapeLibrary, TapeMoveError } from '../../../src/storage/tapes/tape-library.js';

const GiB = 1024 ** 3;

async function setup(t: { teardown(fn: () => unknown): void }) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-library-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const catalog = Catalog.open(path.join(dir, 'catalog.db'));
  t.teardown(() => catalog.close());
  const store = new LocalObjectStore({ dir: path.join(dir, 'objects') });
  const archive = await openArchive({ kind: 'local', dir: path.join(dir, 'archive'), retrievalDelayMs: 300 });
  const open = async () => {
    const library = await TapeLibrary.open({
      catalog, stateDir: dir, log: pino({ level: 'silent' }),
      stores: { store: async () => store, archive: async () => archive, expectedRetrievalMs: () => 300 },
    });
    t.teardown(() => library.close());
    return library;
  };
  return { dir, catalog, store, open };
}

const until = async (what: () => boolean | Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

t.test('a tape loaded, written, unloaded, sent to a mailslot, archived, retrieved and read back read-only', async (t) => {
  const { dir, catalog, store, open } = await setup(t);
  const library = await open();
  const [tape] = library.createTapes({ sizeBytes: 100 * GiB, pool: 'GLACIER', count: 2, prefix: 'LIB' });
  t.equal(tape!.barcode, 'LIB00001');
  t.match(library.elements().find((e) => e.address === SLOT_BASE), { kind: 'slot', barcode: 'LIB00001', accessible: true });
  await t.rejects(library.move(SLOT_BASE + 5, DRIVE_BASE), TapeMoveError, 'an empty slot');
  const refusal = (move: Promise<void>) => move.then(() => 'moved', (err: TapeMoveError) => err.reason);
  t.equal(await refusal(library.move(SLOT_BASE, SLOT_BASE + 1)), 'destination-full');
  t.equal(await refusal(library.move(SLOT_BASE, 0x7777)), 'bad-address');

  await library.move(SLOT_BASE, DRIVE_BASE);
  t.match(library.elements().find((e) => e.address === DRIVE_BASE), { barcode: 'LIB00001', sourceAddress: SLOT_BASE });
  const medium = library.drive(0).medium()!;
  const records = [randomBytes(64 * 1024), randomBytes(1000)];
  await medium.write(0, records);
  await medium.writeFilemarks(2, 1);
  await medium.write(3, [Buffer.from('second file')]);
  library.drive(0).setRemovalPrevented(true);
  t.equal(await refusal(library.move(DRIVE_BASE, SLOT_BASE)), 'removal-prevented');
  library.drive(0).setRemovalPrevented(false);
  await library.move(DRIVE_BASE, SLOT_BASE);
  t.equal(library.drive(0).medium(), undefined, 'the drive is empty');
  await until(() => catalog.tapeSegments('LIB00001').length > 0);
  const [segment] = catalog.tapeSegments('LIB00001');
  t.same(segment!.objects, [65536, 1000, -1, 11], 'an unloaded tape\'s data goes up in a segment, with its object lengths');
  t.ok(await store.head(segment!.key!), 'in the gateway\'s store');

  await library.move(SLOT_BASE, MAILSLOT_BASE);
  t.equal(catalog.tape('LIB00001')!.status, 'IN TRANSIT TO VTS');
  await until(() => catalog.tape('LIB00001')!.status === 'ARCHIVED');
  t.equal(catalog.tape('LIB00001')!.element, null, 'out of the library');
  t.notOk(await store.head(segment!.key!), 'out of the store');
  t.notOk(existsSync(path.join(dir, 'tapes', 'LIB00001.log')), 'and off the local disk');

  const retrieving = library.retrieve('LIB00001');
  t.equal(retrieving.status, 'RETRIEVING');
  t.ok(retrieving.retrievalEta);
  await until(() => catalog.tape('LIB00001')!.status === 'RETRIEVED');
  const slot = catalog.tape('LIB00001')!.element!;
  await library.move(slot, DRIVE_BASE + 3);
  const retrieved = library.drive(3).medium()!;
  t.equal(retrieved.writeProtected, true);
  t.equal(retrieved.objectCount(), 4);
  t.same(retrieved.filemarks(), [2]);
  t.same(await retrieved.read(0), records[0]);
  t.equal((await retrieved.read(3)).toString(), 'second file');
  await t.rejects(retrieved.write(4, [Buffer.from('x')]));
  await library.move(DRIVE_BASE + 3, MAILSLOT_BASE + 1);
  t.equal(catalog.tape('LIB00001')!.status, 'ARCHIVED', 'a retrieved tape in a mailslot is back on the shelf');
  await library.deleteArchive('LIB00001');
  t.equal(catalog.tape('LIB00001'), undefined);
});

t.test('overwriting a tape drops the segments of what it overwrote; a restart keeps tapes in their drives', async (t) => {
  const { catalog, open } = await setup(t);
  let library = await open();
  library.createTapes({ sizeBytes: 100 * GiB, pool: 'GLACIER', barcode: 'OVER0001' });
  await library.move(SLOT_BASE, DRIVE_BASE + 1);
  await library.drive(1).medium()!.write(0, [randomBytes(100), randomBytes(200)]);
  await library.move(DRIVE_BASE + 1, SLOT_BASE);
  await until(() => catalog.tapeSegments('OVER0001').length === 1);
  await library.move(SLOT_BASE, DRIVE_BASE + 1);
  await library.drive(1).medium()!.write(1, [Buffer.from('rewritten')]);
  t.same(catalog.tapeSegments('OVER0001'), [], 'the segment holding object 1 is gone');
  await library.close();
  library = await open();
  const medium = library.drive(1).medium()!;
  t.equal(medium.objectCount(), 2, 'back in its drive after a restart');
  t.equal((await medium.read(1)).toString(), 'rewritten');
  await t.rejects(library.delete('OVER0001'), { code: 'SGW_IN_USE' }, 'not while in a drive');
});

t.test('eject and cancel-archival; limits', async (t) => {
  const { catalog, open } = await setup(t);
  const library = await open();
  t.throws(() => library.createTapes({ sizeBytes: 50 * GiB, pool: 'GLACIER', prefix: 'A' }), { code: 'SGW_INVALID_SIZE' });
  t.throws(() => library.createTapes({ sizeBytes: 100 * GiB, pool: 'GLACIER', prefix: 'lower' }), { code: 'SGW_INVALID_ARGUMENT' });
  t.throws(() => library.createTapes({ sizeBytes: 100 * GiB, pool: 'NEARLINE', prefix: 'A' }), { code: 'SGW_INVALID_ARGUMENT' });
  library.createTapes({ sizeBytes: 100 * GiB, pool: 'GLACIER', barcode: 'EJECT001' });
  t.throws(() => library.createTapes({ sizeBytes: 100 * GiB, pool: 'GLACIER', barcode: 'EJECT001' }), { code: 'SGW_ALREADY_EXISTS' });
  // The archiver runs at once; a cancel lands only while the tape is still in transit, so stop it first.
  await library.archiver.close();
  await library.eject('EJECT001');
  t.equal(catalog.tape('EJECT001')!.status, 'IN TRANSIT TO VTS');
  library.cancelArchival('EJECT001');
  t.match(catalog.tape('EJECT001'), { status: 'AVAILABLE', element: SLOT_BASE });
  t.throws(() => library.cancelArchival('EJECT001'), { code: 'SGW_IN_USE' });
  t.throws(() => library.retrieve('EJECT001'), { code: 'SGW_IN_USE' });
});
