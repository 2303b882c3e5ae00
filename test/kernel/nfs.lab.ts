/**
 * NFS scenario against sgw: the Linux 6.1 kernel client mounts a file share twice, with NFSv3 over TCP (MOUNT on
 * sgw's NFS port, no portmapper, no locking) and with NFSv4.1 (through the pseudo-root, byte-range locks on). On
 * each mount it reads the objects that were in the bucket before, creates, renames and deletes a tree, writes a
 * large fsync'd file and fio verify jobs, and checks everything after remounting. In the middle of a write job on
 * each mount sgwd is SIGKILLed and restarted on the same ports and state directory: the hard mount must carry the
 * job through (for v4.1: a new session, the client's opens reclaimed in the grace period), the mount must stay
 * usable, and nothing the guest wrote may be lost. Finally the bucket, read with a plain S3 client, must hold
 * exactly the guest's trees: one object per file under the share's prefix, its key the file's path, with the
 * guest's SHA-256, and a marker object or a key below it for every directory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import t from 'tap';
import type { GatewayInfo, ShareSyncResult } from '../../src/rpc/api.js';
import { TestDaemon } from '../harness/daemon.js';
import { ANY_CREDENTIALS, startMoto } from '../harness/moto.js';
import { GUEST_GATEWAY_HOST } from './guest-runner.js';
import { freePort, logComplaints } from './host.js';
import { boot, BOOT_TIMEOUT_MS, labImage, scenario } from './lab.js';

const SHARE = 'lab';
const BUCKET = 'sgw-lab-files';
const PREFIX = 'share/';
/** scenarios/nfs.sh prints it while its write job runs, for the host to SIGKILL the server. */
const KILL_MARKER = 'SGW-LAB-KILL-SERVER';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const sorted = (items: Iterable<string>) => [...items].sort();

t.setTimeout(60 * 60_000);

interface Tree {
  /** Path → SHA-256. */
  files: Map<string, string>;
  dirs: Set<string>;
}

/** Every parent directory of a path ('a/b/c' → 'a', 'a/b'). */
function parents(file: string): string[] {
  const parts = file.split('/');
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** The whole bucket as a tree: objects are files; `dir/` markers and the parents of every key are directories. */
async function bucketTree(s3: S3Client): Promise<Tree> {
  const tree: Tree = { files: new Map(), dirs: new Set() };
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
    for (const { Key: key } of page.Contents ?? []) {
      if (key === undefined) continue;
      const name = key.endsWith('/') ? key.slice(0, -1) : key;
      if (key.endsWith('/')) tree.dirs.add(name);
      else tree.files.set(key, sha256(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray()));
      for (const dir of parents(name)) tree.dirs.add(dir);
    }
    token = page.NextContinuationToken;
  } while (token);
  return tree;
}

/** `sha256  ./path` lines (sha256sum) as path → SHA-256. */
function parseManifest(text: string): Map<string, string> {
  return new Map(text.trim().split('\n').map((line) => {
    const [sha, file] = line.split(/ {2}/);
    return [file!, sha!];
  }));
}

t.test('Linux NFSv3 and NFSv4.1 clients on an sgw share: a tree, fio verify jobs, a SIGKILL of sgwd mid-write on each; the bucket holds exactly the guest\'s files', async (t) => {
  const image = await labImage(t);
  const moto = await startMoto();
  t.teardown(() => moto.stop());
  const s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: ANY_CREDENTIALS });
  await s3.send(new CreateBucketCommand({ Bucket: 'sgw-lab' }));
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  // Objects put by a plain S3 client before the share exists: the guest must read them, and the key outside the
  // share's prefix must stay untouched and unseen.
  const seeded = new Map<string, Buffer>([
    ['seeded/hello.txt', Buffer.from('put with a plain S3 client before the mount\n')],
    ['seeded/deep/data.bin', randomBytes(3 * 2 ** 20 + 777)],
  ]);
  const outside = { key: 'outside.txt', body: Buffer.from('not under the share\'s prefix\n') };
  for (const [file, body] of seeded) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}${file}`, Body: body }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: outside.key, Body: outside.body }));

  const port = await freePort();
  const d = await TestDaemon.start(t, {
    SGW_NFS_LISTEN: `127.0.0.1:${port}`, SGW_PORTMAP_LISTEN: 'off', SGW_LOG_LEVEL: 'info',
    AWS_ACCESS_KEY_ID: ANY_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: ANY_CREDENTIALS.secretAccessKey,
  });
  await d.sgwJson('activate', '--name', 'lab', '--endpoint', moto.endpoint, '--bucket', 'sgw-lab', '--region', 'us-east-1');
  await d.sgwJson('share', 'create', SHARE, '--bucket', BUCKET, '--prefix', PREFIX);
  const info = await d.sgwJson<GatewayInfo>('gateway', 'info');
  t.equal(info.daemon.nfsServer, `127.0.0.1:${port}`, 'sgwd serves NFS on loopback only, on the port the guest is forwarded to');

  const runId = `${process.pid}`;
  // The one port carries NFS and MOUNT: both guest ports lead to it.
  const mounts: Record<string, string> = {
    v3: `${GUEST_GATEWAY_HOST}:/${SHARE} vers=3,proto=tcp,port=2049,mountport=20048,mountproto=tcp,nolock`,
    v41: `${GUEST_GATEWAY_HOST}:/${SHARE} vers=4.1,proto=tcp,port=2049`,
  };
  // One SIGKILL per mount's write job, in the order the guest asks for them.
  const outages: Array<Promise<{ killedAt: number; restartedAt: number; exit: number | null } | { error: string }>> = [];
  const jobsDoneAt: number[] = [];
  const result = await boot(t, 'nfs sgw', {
    image,
    scenario: await scenario('nfs'),
    env: { LAB_RUN_ID: runId, LAB_FIO: 1, LAB_KILL_MARKER: 1 },
    files: {
      mounts: Object.entries(mounts).map(([name, line]) => `${name} ${line}`).join('\n') + '\n',
      seeded: [...seeded].map(([file, body]) => `${sha256(body)}  ./${file}\n`).join(''),
    },
    forwards: [{ guestPort: 2049, hostPort: port }, { guestPort: 20048, hostPort: port }],
    timeoutMs: BOOT_TIMEOUT_MS,
    onConsole: (line) => {
      if (line === KILL_MARKER) {
        const previous = outages.at(-1);
        outages.push((async () => {
          await previous;
          const killedAt = Date.now();
          const exit = await d.stop('SIGKILL');
          await d.restart();
          return { killedAt, restartedAt: Date.now(), exit };
        })().catch((err: unknown) => ({ error: String(err) })));
      }
      if (/^SGW-LAB-STEP \S+ the write job finished/.test(line)) jobsDoneAt.push(Date.now());
    },
  });
  t.equal(result.status, 0, 'the scenario passed in the guest on both mounts (tree, fio verify, the write job through the restart, remount checks)');
  if (result.status !== 0) t.comment(`sgwd's log, last lines:\n${d.output.split('\n').slice(-80).join('\n')}`);

  const names = Object.keys(mounts);
  t.equal(outages.length, names.length, 'the guest asked for a SIGKILL in the middle of each mount\'s write job');
  for (const [i, name] of names.entries()) {
    const restart = await outages[i];
    if (!restart) continue;
    if ('error' in restart) {
      t.fail(`${name}: sgwd did not come back: ${restart.error}`);
      continue;
    }
    t.equal(restart.exit, null, `${name}: sgwd was SIGKILLed`);
    t.comment(`${name}: sgwd was back on 127.0.0.1:${port} ${((restart.restartedAt - restart.killedAt) / 1000).toFixed(1)} s after the SIGKILL`);
    const after = ((jobsDoneAt[i] ?? Number.NaN) - restart.restartedAt) / 1000;
    t.ok(after > 0, `${name}: the write job finished ${after.toFixed(1)} s after sgwd was back: the outage fell inside it`);
  }

  const expected: Tree = {
    files: new Map([...[...seeded].map(([file, body]): [string, string] => [`${PREFIX}${file}`, sha256(body)]), [outside.key, sha256(outside.body)]]),
    dirs: new Set([...seeded.keys()].flatMap((file) => parents(`${PREFIX}${file}`))),
  };
  let guestFileCount = 0;
  for (const name of names) {
    const listing = result.blocks.get(`listing-${name}`)?.toString();
    const manifest = result.blocks.get(`manifest-${name}`)?.toString();
    if (!t.ok(listing && manifest, `the guest reported its ${name} tree`) || !listing || !manifest) return;
    const work = `lab-${runId}-${name}`;
    const guestFiles = parseManifest(manifest);
    guestFileCount += guestFiles.size;
    const inWork = (entry: string) => (entry === '.' ? work : `${work}/${entry.slice(2)}`);
    for (const [file, sha] of guestFiles) expected.files.set(`${PREFIX}${inWork(file)}`, sha);
    for (const entry of listing.trim().split('\n').filter((e) => !guestFiles.has(e))) {
      for (const dir of [...parents(`${PREFIX}${inWork(entry)}`), `${PREFIX}${inWork(entry)}`]) expected.dirs.add(dir);
    }
  }

  const syncStarted = Date.now();
  const synced = await d.sgwJson<ShareSyncResult>('share', 'sync', SHARE, '--wait');
  t.match(synced, { pendingFiles: 0, pendingBytes: 0 }, `sgw share sync --wait: everything uploaded after ${((Date.now() - syncStarted) / 1000).toFixed(1)} s more`);
  const bucket = await bucketTree(s3);
  t.ok(guestFileCount > 80, `${guestFileCount} files of the guest, ${expected.dirs.size} directories in all`);
  t.same(sorted(bucket.dirs), sorted(expected.dirs), 'the bucket\'s directories (markers and key paths) are exactly the guest\'s: renames and deletes included, empty ones kept');
  t.same(Object.fromEntries([...bucket.files].sort()), Object.fromEntries([...expected.files].sort()), 'one object per file, key = prefix + path, with the guest\'s sha256; the key outside the prefix untouched');

  t.equal(await d.stop('SIGTERM'), 0, 'sgwd stops cleanly');
  t.comment(`sgwd warnings and errors: ${logComplaints(d.output)}`);
});
