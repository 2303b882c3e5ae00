import path from 'node:path';
import t from 'tap';
import { Catalog } from '../../../src/storage/catalog/catalog.js';
import { MIGRATIONS } from '../../../src/storage/catalog/migrations.js';

const tempCatalogPath = (t: { testdir(): string }) => path.join(t.testdir(), 'catalog.db');

t.test('migrations run once and the schema version records them', async (t) => {
  const file = tempCatalogPath(t);
  const catalog = Catalog.open(file);
  t.equal(catalog.schemaVersion, MIGRATIONS.length);
  catalog.close();
  const reopened = Catalog.open(file);
  t.equal(reopened.schemaVersion, MIGRATIONS.length, 'reopening applies nothing twice');
  reopened.close();
});

t.test('gateway settings and disks survive a reopen', async (t) => {
  const file = tempCatalogPath(t);
  const catalog = Catalog.open(file);
  const gateway = {
    gatewayId: 'sgw-0011aabb', name: 'gw', timezone: 'UTC',
    backend: { kind: 's3' as const, bucket: 'b-1', region: 'us-east-1', endpoint: 'http://127.0.0.1:9' },
    activatedAt: '2026-11-21T00:00:00.000Z',
  };
  catalog.saveGateway(gateway);
  catalog.saveGateway({ ...gateway, name: 'gw2' });
  const disk = { diskId: 'disk-1', path: '/tmp/x', kind: 'file' as const, role: 'cache' as const, sizeBytes: 1 << 30, addedAt: 'now' };
  catalog.addDisk(disk);
  t.throws(() => catalog.addDisk({ ...disk, diskId: 'disk-2' }), { code: 'SGW_ALREADY_EXISTS' });
  catalog.close();
  const reopened = Catalog.open(file);
  t.same(reopened.gateway(), { ...gateway, name: 'gw2' });
  t.same(reopened.disks(), [disk]);
  t.same(reopened.counts(), { disks: 1, volumes: 0, shares: 0, tapes: 0, snapshots: 0 });
  reopened.close();
});

t.test('a catalog from a newer sgw is refused, not damaged', async (t) => {
  const file = tempCatalogPath(t);
  const catalog = Catalog.open(file);
  catalog.close();
  const Database = (await import('better-sqlite3')).default;
  const raw = new Database(file);
  raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
  raw.close();
  t.throws(() => Catalog.open(file), { code: 'SGW_CATALOG_TOO_NEW' });
});
