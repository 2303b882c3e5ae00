import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { AuditLog, DEFAULT_READ_LIMIT, MAX_READ_LIMIT } from '../../../src/daemon/audit/audit-log.js';
import type { AuditRecord } from '../../../src/rpc/api.js';

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-audit-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);

function record(i: number, over: Partial<AuditRecord> = {}): AuditRecord {
  return { time: new Date(T0 + i * 1000).toISOString(), uid: 1000, pid: 4000 + i, action: `volume.create`, params: { name: `v${i}` }, result: 'ok', ...over };
}

const names = (records: AuditRecord[]): unknown[] => records.map((r) => (r.params as { name: string }).name);

t.test('records are appended one JSON line each and read back oldest first', async (t) => {
  const dir = await tempDir(t);
  const log = await AuditLog.open(dir);
  t.teardown(() => log.close());
  await log.append(record(1));
  await log.append(record(2, { action: 'volume.delete', result: { error: 'SGW_NOT_FOUND', message: 'no volume v9' } }));
  const lines = (await readFile(path.join(dir, 'audit.log'), 'utf8')).split('\n');
  t.equal(lines.length, 3, 'two lines and the final newline');
  t.same(JSON.parse(lines[0]!), record(1));
  t.same(await log.read(), [record(1), record(2, { action: 'volume.delete', result: { error: 'SGW_NOT_FOUND', message: 'no volume v9' } })]);
});

t.test('appends made at once all land, whole', async (t) => {
  const dir = await tempDir(t);
  const log = await AuditLog.open(dir, { maxBytes: 2000, keep: 100 });
  t.teardown(() => log.close());
  await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(record(i))));
  t.same(names(await log.read({ limit: 1000 })), Array.from({ length: 200 }, (_, i) => `v${i}`));
});

t.test('a reopened log appends after what is there', async (t) => {
  const dir = await tempDir(t);
  const first = await AuditLog.open(dir);
  await first.append(record(1));
  await first.close();
  const second = await AuditLog.open(dir);
  t.teardown(() => second.close());
  await second.append(record(2));
  t.same(names(await second.read()), ['v1', 'v2']);
});

t.test('rotation by size keeps the newest files and reads across them', async (t) => {
  const dir = await tempDir(t);
  const lineBytes = Buffer.byteLength(`${JSON.stringify(record(10))}\n`);
  // Three records per file.
  const log = await AuditLog.open(dir, { maxBytes: lineBytes * 3, keep: 2 });
  t.teardown(() => log.close());
  for (let i = 10; i < 24; i++) await log.append(record(i));
  t.same((await readdir(dir)).sort(), ['audit.log', 'audit.log.1', 'audit.log.2']);
  for (const file of ['audit.log.1', 'audit.log.2']) {
    t.equal((await readFile(path.join(dir, file))).length, lineBytes * 3, `${file} is full and no bigger than the limit`);
  }
  t.same(names(await log.read()), ['v16', 'v17', 'v18', 'v19', 'v20', 'v21', 'v22', 'v23'], 'the oldest files were dropped');
  t.same(names(await log.read({ limit: 4 })), ['v20', 'v21', 'v22', 'v23'], 'limit keeps the newest');
  t.same(names(await log.read({ since: new Date(T0 + 17_000) })), ['v17', 'v18', 'v19', 'v20', 'v21', 'v22', 'v23'], 'since is inclusive');
  t.same(names(await log.read({ since: new Date(T0 + 17_000), limit: 2 })), ['v22', 'v23'], 'since and limit together');
  t.same(await log.read({ since: new Date(T0 + 3600_000) }), [], 'since in the future: none');
});

t.test('keep 0 rotates by starting over', async (t) => {
  const dir = await tempDir(t);
  const log = await AuditLog.open(dir, { maxBytes: 10, keep: 0 });
  t.teardown(() => log.close());
  for (let i = 0; i < 3; i++) await log.append(record(i));
  t.same(await readdir(dir), ['audit.log']);
  t.same(names(await log.read()), ['v2']);
});

t.test('a record bigger than the limit still gets a file of its own', async (t) => {
  const dir = await tempDir(t);
  const log = await AuditLog.open(dir, { maxBytes: 50, keep: 5 });
  t.teardown(() => log.close());
  await log.append(record(1));
  await log.append(record(2));
  t.same(names(await log.read()), ['v1', 'v2']);
  t.same((await readdir(dir)).sort(), ['audit.log', 'audit.log.1']);
});

t.test('limit defaults to 100 and stops at 10000', async (t) => {
  const dir = await tempDir(t);
  const log = await AuditLog.open(dir);
  t.teardown(() => log.close());
  const many = Array.from({ length: MAX_READ_LIMIT + 5 }, (_, i) => `${JSON.stringify(record(i))}\n`).join('');
  await appendFile(path.join(dir, 'audit.log'), many);
  const byDefault = await log.read();
  t.equal(byDefault.length, DEFAULT_READ_LIMIT);
  t.equal(names(byDefault).at(-1), `v${MAX_READ_LIMIT + 4}`);
  t.equal((await log.read({ limit: 1e9 })).length, MAX_READ_LIMIT);
  t.same(await log.read({ limit: 0 }), []);
});

t.test('lines that are not records are skipped', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'audit.log');
  await writeFile(file, [
    JSON.stringify(record(1)),
    '{"time": "2026-11-20T10:00:02.000Z", "action": "volume.cre',
    'not json at all',
    JSON.stringify({ time: 'yesterday', action: 'x', result: 'ok' }),
    JSON.stringify([1, 2]),
    JSON.stringify({ ...record(3), result: 42 }),
    '',
    JSON.stringify(record(4)),
  ].join('\n') + '\n');
  await writeFile(`${file}.1`, `${JSON.stringify(record(0))}\n{"torn`);
  const log = await AuditLog.open(dir);
  t.same(names(await log.read()), ['v0', 'v1', 'v4']);
  await log.close();
  // A crash mid-write leaves a torn last line; the next start ends it, so the next record is whole.
  await appendFile(file, '{"time":"2026');
  const reopened = await AuditLog.open(dir);
  t.teardown(() => reopened.close());
  await reopened.append(record(5));
  t.same(names(await reopened.read()), ['v0', 'v1', 'v4', 'v5']);
});

t.test('a closed log refuses appends', async (t) => {
  const dir = await tempDir(t);
  const log = await AuditLog.open(dir);
  await log.close();
  await log.close();
  await t.rejects(log.append(record(1)), /closed/);
});
