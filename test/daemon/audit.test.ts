import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import type { AuditRecord } from '../../src/rpc/api.js';
import { startVolumeGateway } from '../harness/volume-gateway.js';

// Distinctive, so finding one anywhere can only mean it leaked. CHAP secrets are 12-16 printable characters.
const SECRETS = ['Zq7-AuditInit1', 'Zq7-AuditTgt22', 'Zq7-AuditInit3', 'Zq7-AuditSame4'];
const [INITIATOR_SECRET, TARGET_SECRET, SECOND_SECRET, SAME_SECRET] = SECRETS as [string, string, string, string];
const IQN1 = 'iqn.1993-08.org.debian:01:audit1';
const IQN2 = 'iqn.1993-08.org.debian:01:audit2';

async function auditLines(stateDir: string): Promise<AuditRecord[]> {
  const text = await readFile(path.join(stateDir, 'audit.log'), 'utf8');
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditRecord);
}

t.test('every state-changing call is in the audit log with its caller and result, and no secret is anywhere', async (t) => {
  const { d } = await startVolumeGateway(t);
  const before = await auditLines(d.stateDir);
  t.same(before.map((r) => r.action), ['gateway.activate', 'disk.addUploadBuffer', 'disk.addCache'], 'the harness\'s own setup calls are there');

  const changes: Array<[args: string[], action: string, result: 'ok' | string]> = [
    [['volume', 'create', 'audited', '--cached', '1GiB'], 'volume.create', 'ok'],
    [['volume', 'chap', 'set', 'audited', '--initiator', IQN1, '--secret', INITIATOR_SECRET, '--target-secret', TARGET_SECRET], 'volume.chap.set', 'ok'],
    [['volume', 'chap', 'set', 'audited', '--initiator', IQN2, '--secret', SECOND_SECRET], 'volume.chap.set', 'ok'],
    [['volume', 'delete', 'no-such-volume'], 'volume.delete', 'SGW_NOT_FOUND'],
    [['volume', 'chap', 'set', 'audited', '--initiator', IQN2, '--secret', SAME_SECRET, '--target-secret', SAME_SECRET], 'volume.chap.set', 'SGW_INVALID_ARGUMENT'],
    [['gateway', 'bandwidth', 'set', '--upload', '100Mbit'], 'gateway.bandwidth.set', 'ok'],
    [['volume', 'chap', 'delete', 'audited', '--initiator', IQN2], 'volume.chap.delete', 'ok'],
  ];
  const reads = [['volume', 'list'], ['volume', 'describe', 'audited'], ['gateway', 'info'], ['volume', 'chap', 'list'], ['disk', 'list'], ['gateway', 'bandwidth', 'show'], ['gateway', 'audit']];
  for (const [i, [args, , result]] of changes.entries()) {
    const r = await d.sgw(...args, '--json');
    t.equal(r.code, result === 'ok' ? 0 : result === 'SGW_NOT_FOUND' ? 1 : 2, `${args.join(' ')}: ${r.stderr}`);
    // Read-only calls in between must leave no trace.
    const read = await d.sgw(...reads[i % reads.length]!, '--json');
    t.equal(read.code, 0, read.stderr);
  }

  const after = await auditLines(d.stateDir);
  const added = after.slice(before.length);
  t.equal(after.length - before.length, changes.length, 'exactly one line per state-changing call');
  t.same(added.map((r) => r.action), changes.map(([, action]) => action), 'in the order made');
  t.same(added.map((r) => (r.result === 'ok' ? 'ok' : r.result.error)), changes.map(([, , result]) => result), 'with how each ended');
  for (const r of added) {
    t.equal(r.uid, process.getuid!(), `${r.action}: the caller's uid`);
    t.type(r.pid, 'number', `${r.action}: the caller's pid`);
    t.not(r.pid, d.proc!.pid, 'the CLI\'s pid, not the daemon\'s');
    t.ok(Date.parse(r.time) >= Date.parse(before.at(-1)!.time), 'a time after the setup');
  }
  t.match(added[1], { params: { volume: 'audited', initiatorName: IQN1, secret: '***', targetSecret: '***' } }, 'secrets are redacted, the rest kept');
  t.match(added[3], { params: { volume: 'no-such-volume' }, result: { error: 'SGW_NOT_FOUND', message: /no-such-volume/ } });
  t.match(added[4], { params: { secret: '***', targetSecret: '***' }, result: { error: 'SGW_INVALID_ARGUMENT', message: /must differ/ } });

  const listed = await d.sgwJson<AuditRecord[]>('gateway', 'audit');
  t.same(listed, after, 'sgw gateway audit shows the log');
  t.same(await d.sgwJson<AuditRecord[]>('gateway', 'audit', '--limit', '2'), after.slice(-2), '--limit keeps the newest');
  t.same(await d.sgwJson<AuditRecord[]>('gateway', 'audit', '--since', '1h'), after, '--since a duration');
  t.same(await d.sgwJson<AuditRecord[]>('gateway', 'audit', '--since', added[0]!.time), added, '--since an ISO time, inclusive');
  t.same(await d.sgwJson<AuditRecord[]>('gateway', 'audit', '--since', new Date(Date.now() + 3600_000).toISOString()), [], '--since in the future: none');
  for (const [args, message] of [
    [['--since', 'yesterday'], /"yesterday" is not a time: give a duration back from now/],
    [['--since', '5y'], /"5y" is not a time/],
    [['--limit', '0'], /--limit/],
    [['--limit', '10001'], /--limit/],
  ] as const) {
    const r = await d.sgw('gateway', 'audit', ...args);
    t.equal(r.code, 2, `${args.join(' ')}: a usage error`);
    t.match(r.stderr, message);
    t.equal(r.stderr.trim().split('\n').length, 1, 'in one line');
  }
  t.equal((await auditLines(d.stateDir)).length, after.length, 'reading the audit log is not recorded');

  // Records survive a restart, and the stop closes the log cleanly.
  t.equal(await d.stop(), 0, 'sgwd stops cleanly');
  await d.restart();
  await d.sgwJson('volume', 'delete', 'audited');
  const restarted = await d.sgwJson<AuditRecord[]>('gateway', 'audit');
  t.same(restarted.slice(0, -1), after);
  t.match(restarted.at(-1), { action: 'volume.delete', params: { volume: 'audited' }, result: 'ok', uid: process.getuid!() });

  const auditFiles = (await readdir(d.stateDir)).filter((f) => f.startsWith('audit'));
  t.ok(auditFiles.includes('audit.log'));
  for (const file of auditFiles) {
    const content = await readFile(path.join(d.stateDir, file), 'utf8');
    for (const secret of SECRETS) t.notOk(content.includes(secret), `${secret} is not in ${file}`);
  }
  t.ok(d.output.length > 0, 'the daemon logged');
  for (const secret of SECRETS) t.notOk(d.output.includes(secret), `${secret} is not in the daemon's output`);
});
