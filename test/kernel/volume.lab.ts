/**
 * Volume scenario against sgw: an unmodified Linux 6.1 kernel (open-iscsi) in a qemu guest logs in with CHAP to a
 * cached and a stored volume, makes ext4 on them, writes files and a fio verify job, unmounts (fsck -n clean) and
 * logs out. Then sgwd is SIGKILLed on the host and restarted, and a second boot logs in again and checks every
 * file against the checksums the first boot reported, and fio's block checksums.
 *
 * The gateway's object store (moto, as in the rest of the suite) is cut off from before the first boot until after
 * the second, so at the SIGKILL everything the guest wrote exists only in sgw's upload buffer and cache: the restart
 * must recover it all from there. Then the store comes back and both volumes must drain.
 */
import { truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import t from 'tap';
import type { GatewayInfo, VolumeDetails } from '../../src/rpc/api.js';
import { TestDaemon } from '../harness/daemon.js';
import { ANY_CREDENTIALS, startMoto } from '../harness/moto.js';
import { OutageProxy } from '../harness/outage-proxy.js';
import { GUEST_INITIATOR } from './guest-image.js';
import { GUEST_GATEWAY_HOST } from './guest-runner.js';
import { freePort, logComplaints, waitFor } from './host.js';
import { boot, BOOT_TIMEOUT_MS, labImage, scenario } from './lab.js';

const GiB = 2 ** 30;
const PORTAL = `${GUEST_GATEWAY_HOST}:3260`;

interface LabVolume {
  name: string;
  secret: string;
  targetSecret?: string;
  digest?: 'CRC32C';
}

const VOLUMES: LabVolume[] = [
  { name: 'labcached', secret: 'cached-secret1' },
  { name: 'labstored', secret: 'stored-secret1', targetSecret: 'target-secret1', digest: 'CRC32C' },
];

const iqn = (volume: string) => `iqn.2026-11.io.sgw:lab:${volume}`;

t.setTimeout(90 * 60_000);

t.test('Linux writes ext4 on a cached and a stored volume over iSCSI with CHAP; every byte reads back after sgwd is SIGKILLed', async (t) => {
  const image = await labImage(t);
  const moto = await startMoto();
  t.teardown(() => moto.stop());
  const store = await OutageProxy.start(Number(new URL(moto.endpoint).port));
  t.teardown(() => store.cut());
  await new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: ANY_CREDENTIALS })
    .send(new CreateBucketCommand({ Bucket: 'sgw-lab' }));

  const port = await freePort();
  const d = await TestDaemon.start(t, {
    SGW_ISCSI_LISTEN: `127.0.0.1:${port}`, SGW_ISCSI_ADVERTISE: PORTAL, SGW_NFS_LISTEN: '127.0.0.1:0', SGW_PORTMAP_LISTEN: 'off', SGW_LOG_LEVEL: 'info',
    AWS_ACCESS_KEY_ID: ANY_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: ANY_CREDENTIALS.secretAccessKey,
  });
  const dir = path.dirname(d.stateDir);
  await d.sgwJson('activate', '--name', 'lab', '--endpoint', store.endpoint, '--bucket', 'sgw-lab', '--region', 'us-east-1');
  await d.sgwJson('disk', 'add-upload-buffer', path.join(dir, 'buffer'), '--size', '512MiB');
  await d.sgwJson('disk', 'add-cache', path.join(dir, 'cache'), '--size', '512MiB');
  await d.sgwJson('volume', 'create', 'labcached', '--cached', '1GiB');
  const storedDisk = path.join(dir, 'labstored.disk');
  await writeFile(storedDisk, '');
  await truncate(storedDisk, GiB);
  await d.sgwJson('volume', 'create', 'labstored', '--stored', '--disk', storedDisk);
  for (const v of VOLUMES) {
    await d.sgwJson('volume', 'chap', 'set', v.name, '--initiator', GUEST_INITIATOR, '--secret', v.secret, ...(v.targetSecret ? ['--target-secret', v.targetSecret] : []));
  }
  const info = await d.sgwJson<GatewayInfo>('gateway', 'info');
  t.equal(info.daemon.iscsiPortal, `127.0.0.1:${port}`, 'sgwd listens on loopback only, on the port the guest is forwarded to');

  const targets = VOLUMES.map((v) => [v.name, iqn(v.name), v.secret, v.targetSecret ?? '-', v.digest ?? '-'].join(' ')).join('\n');
  const common = {
    image,
    scenario: await scenario('volume'),
    forwards: [{ guestPort: 3260, hostPort: port }],
    timeoutMs: BOOT_TIMEOUT_MS,
  };
  const env = { LAB_PORTAL: PORTAL, LAB_INITIATOR: GUEST_INITIATOR };

  await store.cut();
  t.comment('the object store is cut off: until it comes back, what the guest writes lives only in sgw\'s buffer and cache');
  // While the guest is logged in, sgw must show it on both volumes.
  let seen: Promise<VolumeDetails[]> | undefined;
  const write = await boot(t, 'volume write', {
    ...common,
    env: { ...env, LAB_PHASE: 'write' },
    files: { targets: `${targets}\n` },
    onConsole: (line) => {
      if (line.startsWith('SGW-LAB-STEP logged in to')) seen = Promise.all(VOLUMES.map((v) => d.sgwJson<VolumeDetails>('volume', 'describe', v.name)));
    },
  });
  t.equal(write.status, 0, 'write phase: the scenario passed');
  if (write.status !== 0) t.comment(`sgwd's log, last lines:\n${d.output.split('\n').slice(-80).join('\n')}`);
  for (const details of (await seen) ?? []) {
    t.match(details.initiators, [{ initiatorName: GUEST_INITIATOR, address: /^127\.0\.0\.1/ }], `sgw volume describe ${details.name} showed the guest logged in`);
  }
  const files: Record<string, Buffer> = {};
  for (const v of VOLUMES) {
    const manifest = write.blocks.get(`manifest-${v.name}`);
    t.ok(manifest && manifest.length > 0, `the guest reported the checksums of ${v.name}`);
    if (manifest) files[`manifest-${v.name}`] = manifest;
  }
  if (write.status !== 0 || Object.keys(files).length !== VOLUMES.length) return;
  t.comment(`files written: ${VOLUMES.map((v) => `${v.name} ${files[`manifest-${v.name}`]!.toString().trim().split('\n').length}`).join(', ')}`);

  for (const v of VOLUMES) {
    const details = await d.sgwJson<VolumeDetails>('volume', 'describe', v.name);
    t.same(details.initiators, [], `${v.name}: the guest logged out`);
    t.ok(details.dirtyBytes > 0, `${v.name}: ${details.dirtyBytes} bytes not yet uploaded at the SIGKILL (${details.bytesUsed} used, ${details.uploadBacklogBytes} upload backlog)`);
  }
  t.equal(await d.stop('SIGKILL'), null, 'sgwd was SIGKILLed');
  await d.restart();

  const verify = await boot(t, 'volume verify', {
    ...common,
    env: { ...env, LAB_PHASE: 'verify' },
    files: { targets: `${targets}\n`, ...files },
  });
  t.equal(verify.status, 0, 'verify phase after SIGKILL and restart: fsck clean, every checksum matches, fio verifies');
  if (verify.status !== 0) t.comment(`sgwd's log, last lines:\n${d.output.split('\n').slice(-80).join('\n')}`);

  await store.restore();
  const drained = Date.now();
  await waitFor('both volumes to drain to the object store', async () => {
    const all = await Promise.all(VOLUMES.map((v) => d.sgwJson<VolumeDetails>('volume', 'describe', v.name)));
    return all.every((v) => v.dirtyBytes === 0);
  }, 10 * 60_000);
  t.pass(`with the object store back, both volumes drained in ${((Date.now() - drained) / 1000).toFixed(1)} s`);
  t.equal(await d.stop('SIGTERM'), 0, 'sgwd stops cleanly');
  t.comment(`sgwd warnings and errors: ${logComplaints(d.output)}`);
});
