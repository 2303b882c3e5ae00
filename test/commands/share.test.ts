import { execFile } from 'node:child_process';
import net from 'node:net';
import t from 'tap';
import { LineDecoder, encodeLine } from '../../src/rpc/line-framing.js';
import type { ShareDetails, ShareRefreshResult, ShareRefreshStatus, ShareSummary } from '../../src/rpc/api.js';
import { SGW, TestDaemon } from '../harness/daemon.js';

t.test('create, list, describe, update and delete shares; they survive a restart', async (t) => {
  const d = await TestDaemon.start(t);
  await d.sgwJson('activate');
  const plain = await d.sgwJson<ShareDetails>('share', 'create', 'photos', '--bucket', 'gw-photos');
  t.match(plain, {
    name: 'photos', exportPath: '/photos', bucket: 'gw-photos', prefix: '', location: 'gw-photos/', status: 'AVAILABLE',
    clientList: ['0.0.0.0/0'], squash: 'root', readOnly: false, fileMode: '0666', dirMode: '0777', ownerId: 65534, groupId: 65534,
    storageClass: 'STANDARD', objectAcl: 'private', cacheStaleTimeoutSeconds: 0, uploadSettleSeconds: 5,
  }, 'AWS defaults');
  t.match(plain.shareId, /^share-[0-9a-f]{8}$/);

  const tuned = await d.sgwJson<ShareDetails>('share', 'create', 'builds', '--bucket', 'gw-data', '--prefix', '/builds',
    '--client-list', '10.0.0.0/8, 192.168.1.7,fd00::/8', '--squash', 'all', '--read-only', '--file-mode', '644', '--dir-mode', '0755',
    '--owner', '1000', '--group', '100', '--storage-class', 'STANDARD_IA', '--object-acl', 'bucket-owner-full-control',
    '--cache-stale-timeout', '300', '--upload-settle', '30');
  t.match(tuned, {
    prefix: 'builds/', location: 'gw-data/builds/', clientList: ['10.0.0.0/8', '192.168.1.7', 'fd00::/8'], squash: 'all', readOnly: true,
    fileMode: '0644', dirMode: '0755', ownerId: 1000, groupId: 100, storageClass: 'STANDARD_IA', objectAcl: 'bucket-owner-full-control',
    cacheStaleTimeoutSeconds: 300, uploadSettleSeconds: 30,
  });
  t.same((await d.sgwJson<ShareSummary[]>('share', 'list')).map((s) => s.name), ['photos', 'builds']);

  const updated = await d.sgwJson<ShareDetails>('share', 'update', 'builds', '--no-read-only', '--squash', 'none');
  t.match(updated, { readOnly: false, squash: 'none', ownerId: 1000, prefix: 'builds/' }, 'only what was given changes');

  await d.stop();
  await d.restart();
  t.match(await d.sgwJson<ShareDetails>('share', 'describe', tuned.shareId), { name: 'builds', readOnly: false, squash: 'none', clientList: ['10.0.0.0/8', '192.168.1.7', 'fd00::/8'] });
  t.same(await d.sgwJson('share', 'sync', 'photos', '--wait'), { shareId: plain.shareId, pendingFiles: 0, pendingBytes: 0 }, 'nothing written, nothing to wait for');
  t.same(await d.sgwJson('share', 'delete', 'photos'), { deleted: plain.shareId });
  t.same((await d.sgwJson<ShareSummary[]>('share', 'list')).map((s) => s.name), ['builds']);
});

t.test('bad share input is one clear line and the right exit status', async (t) => {
  const d = await TestDaemon.start(t);
  await d.sgwJson('activate');
  await d.sgwJson('share', 'create', 'taken', '--bucket', 'gw-data');
  for (const [args, code, message] of [
    [['share', 'create', 'x', '--bucket', 'Bad_Bucket'], 2, /not a bucket name/],
    [['share', 'create', 'x', '--bucket', 'gw-data', '--client-list', '10.0.0.0/33'], 2, /not an IP address or CIDR block/],
    [['share', 'create', 'x', '--bucket', 'gw-data', '--client-list', 'example.com'], 2, /not an IP address or CIDR block/],
    [['share', 'create', 'x', '--bucket', 'gw-data', '--file-mode', '0999'], 2, /octal/],
    [['share', 'create', 'x', '--bucket', 'gw-data', '--cache-stale-timeout', '100'], 2, /0 \(off\) or 300 to 2592000/],
    [['share', 'create', 'x', '--bucket', 'gw-data', '--squash', 'some'], 2, /Expected --squash=some to be one of/],
    [['share', 'create', '../up', '--bucket', 'gw-data'], 2, /share name/],
    [['share', 'create', 'share-0000abcd', '--bucket', 'gw-data'], 2, /cannot look like a share ID/],
    [['share', 'create', 'x'], 2, /Missing required flag bucket/],
    [['share', 'create', 'taken', '--bucket', 'gw-data'], 1, /already exists/],
    [['share', 'describe', 'nope'], 1, /no share nope/],
    [['share', 'update', 'taken'], 2, /nothing to change/],
    [['share', 'delete', 'nope'], 1, /no share nope/],
    [['share', 'sync', 'nope', '--wait'], 1, /no share nope/],
    [['share', 'refresh', 'taken', '--recursive'], 2, /--folder/],
    [['share', 'restore', 'taken'], 2, /Missing 1 required arg/],
    [['share', 'restore', 'taken', '/x', '--days', '31'], 2, /31/],
    [['share', 'restore', 'taken', '/no-such-file'], 1, /not in the share/],
  ] as const) {
    const r = await d.sgw(...args);
    t.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    t.match(r.stderr, message, args.join(' '));
    t.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: one line`);
  }
});

/**
 * sgw on a terminal of 100 columns: script(1) gives it a pseudo-terminal as stdin, stdout and stderr. Colours
 * are left out of the output; ink's cursor moves stay. Not seen as CI, where ink would draw the last frame only.
 */
function sgwOnTerminal(d: TestDaemon, ...args: string[]): Promise<{ code: number; output: string }> {
  const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;
  const command = `stty cols 100 rows 30; ${[process.execPath, SGW, ...args].map(quote).join(' ')}`;
  const { CI: _ci, CONTINUOUS_INTEGRATION: _ci2, ...env } = process.env;
  return new Promise((resolve) => {
    execFile('script', ['-qec', command, '/dev/null'], { env: { ...env, SGW_SOCKET: d.socket, TERM: 'xterm' }, timeout: 60_000 }, (err, stdout) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: stdout.replace(/\u001B\[[0-9;]*m/g, '') });
    });
  });
}

interface RefreshAnswer {
  id: number;
  result?: ShareRefreshResult;
  error?: { data: { code: string } };
}

/** Sends the requests in one write, so that sgwd takes them all up before any refresh can end. */
function together(d: TestDaemon, requests: Array<{ method: string; params: unknown }>): Promise<RefreshAnswer[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(d.socket);
    const decoder = new LineDecoder();
    const answers = new Map<number, RefreshAnswer>();
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      for (const line of decoder.push(chunk)) {
        const answer = JSON.parse(line) as RefreshAnswer;
        answers.set(answer.id, answer);
      }
      if (answers.size === requests.length) {
        socket.end();
        resolve(requests.map((_, id) => answers.get(id)!));
      }
    });
    socket.write(requests.map((r, id) => encodeLine({ jsonrpc: '2.0', id, ...r })).join(''));
  });
}

async function ended(d: TestDaemon, refresh: ShareRefreshStatus): Promise<ShareRefreshStatus> {
  for (let status = refresh; ; await new Promise((r) => setTimeout(r, 50))) {
    status = await d.client('share.refresh.status', { share: refresh.shareId, refreshId: refresh.refreshId });
    if (!status.running) return status;
  }
}

t.test('share refresh runs in the background; --wait follows it to its end, as a bar on a terminal', async (t) => {
  const d = await TestDaemon.start(t);
  await d.sgwJson('activate');
  const share = await d.sgwJson<ShareDetails>('share', 'create', 'team', '--bucket', 'gw-data');
  t.notOk(share.refresh, 'no refresh yet');

  const started = await d.sgwJson<ShareRefreshResult>('share', 'refresh', 'team');
  t.match(started, { refreshed: share.shareId, refresh: { refreshId: /^refresh-[0-9a-f]{8}$/, shareId: share.shareId, folders: [], recursive: false, running: true, finishedAt: null, error: null } },
    'without --wait: started, and answered at once');
  t.match(await ended(d, started.refresh), { running: false, finishedAt: /^20/, error: null });
  t.match((await d.sgwJson<ShareDetails>('share', 'describe', 'team')).refresh, { refreshId: started.refresh.refreshId, running: false });
  const onTerminal = await sgwOnTerminal(d, 'share', 'refresh', 'team');
  t.equal(onTerminal.code, 0);
  t.match(onTerminal.output, /Refresh started[\s\S]*Status\s+running/, 'a person is told it started');

  // Without a terminal, --wait writes the lines it always did: text on stderr, the result alone on stdout.
  const waited = await d.sgw('share', 'refresh', 'team', '--folder', '/', '--wait');
  t.equal(waited.code, 0, waited.stderr);
  t.equal(waited.stderr, 'refreshing team: 0% (0 of 1)\n', 'one progress line');
  t.match(JSON.parse(waited.stdout), { refreshed: share.shareId, refresh: { folders: ['/'], running: false, foldersDone: 1, error: null } });
  t.match(await d.sgwJson<ShareRefreshResult>('share', 'refresh', 'team', '--folder', '/', '--recursive', '--wait'), { refresh: { recursive: true, running: false, foldersDone: 1 } },
    'with --json stdout is one document');

  const drawn = await sgwOnTerminal(d, 'share', 'refresh', 'team', '--folder', '/', '--folder', '/', '--wait');
  t.equal(drawn.code, 0);
  t.match(drawn.output, /refreshing team \[-{40}\]   0%  0 \/ 1/, 'a bar on the terminal (a folder given twice is listed once)');
  t.match(drawn.output, /\u001B\[1A[\s\S]*refreshing team \[#{40}\] 100%  1 \/ 1\r?\n/, 'drawn over, and left at 100%');
  t.notMatch(drawn.output, /refreshing team: /, 'no progress lines');
  t.match(drawn.output, /Status\s+done/);
});

t.test('a refresh that fails in the background says why; the same refresh running is joined, at most two others', async (t) => {
  const d = await TestDaemon.start(t);
  await d.sgwJson('activate');
  await d.sgwJson('share', 'create', 'team', '--bucket', 'gw-data');

  const missing = await d.sgwJson<ShareRefreshResult>('share', 'refresh', 'team', '--folder', '/missing');
  t.match(missing.refresh, { running: true, error: null }, 'started: the folder is looked for in the background');
  const failed = await ended(d, missing.refresh);
  t.match(failed, { running: false, foldersDone: 0, error: { code: 'SGW_NOT_FOUND', kind: 'user', message: '/missing is not in the share' } });
  t.match((await d.sgwJson<ShareDetails>('share', 'describe', 'team')).refresh, { refreshId: failed.refreshId, error: { message: /not in the share/ } }, 'describe shows how the latest ended');
  t.match((await sgwOnTerminal(d, 'share', 'describe', 'team')).output, /Latest refresh[\s\S]*Folders\s+\/missing[\s\S]*Status\s+failed: \/missing is not in the share/);
  const waited = await d.sgw('share', 'refresh', 'team', '--folder', '/missing', '--wait');
  t.equal(waited.code, 1, 'with --wait the failure is the command\'s');
  t.match(waited.stderr, /^refreshing team: 0% \(0 of 1\)\nError: \/missing is not in the share\n$/);
  const direct = await d.client('share.refresh', { share: 'team', folders: ['/missing'], wait: true }).catch((err: { code?: string }) => err);
  t.match(direct, { code: 'SGW_NOT_FOUND', message: /not in the share/ }, 'share.refresh with wait fails as the refresh failed');

  const refresh = (params: Record<string, unknown>) => ({ method: 'share.refresh', params: { share: 'team', ...params } });
  const [whole, folder, third, again] = await together(d, [refresh({}), refresh({ folders: ['/'] }), refresh({ folders: ['/', '/x'] }), refresh({})]);
  t.match(whole?.result?.refresh, { running: true });
  t.not(folder?.result?.refresh.refreshId, whole?.result?.refresh.refreshId, 'another folder list is another refresh');
  t.match(third?.error?.data, { code: 'SGW_LIMIT_EXCEEDED' }, 'a third while two run is refused, as by AWS');
  t.equal(again?.result?.refresh.refreshId, whole?.result?.refresh.refreshId, 'the same refresh again joins the one running');
  t.match(await ended(d, whole!.result!.refresh), { error: null });
  t.match(await ended(d, folder!.result!.refresh), { error: null, foldersDone: 1 });

  const unknown = await d.client('share.refresh.status', { share: 'team', refreshId: 'refresh-00000000' }).catch((err: { code?: string }) => err);
  t.match(unknown, { code: 'SGW_NOT_FOUND' });
  t.ok(await d.client('ping', {}), 'sgwd lives on');
  t.notMatch(d.output, /unhandled|uncaught/i, 'no failure went unhandled');
});
