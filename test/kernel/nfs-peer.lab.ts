/**
 * The NFS scenario against a peer server (nfs-ganesha, VFS backend), the reference sgw's own lab (nfs.lab.ts) is
 * held to: the Linux 6.1 kernel client mounts with vers=3 and vers=4.1, creates, renames and deletes a tree, writes
 * a large file with fsync, and checks every file after remounting; the host then finds exactly that tree, byte for
 * byte, in the exported directory. It keeps the scenario honest for v4.1, which sgw does not serve yet.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { GUEST_GATEWAY_HOST } from './guest-runner.js';
import { boot, BOOT_TIMEOUT_MS, labImage, scenario } from './lab.js';
import { startGanesha } from './peers.js';

t.setTimeout(60 * 60_000);

/** `find . | sort` and `sha256sum` of every file, as the guest lists them, of a directory on the host. */
async function describeTree(root: string): Promise<{ listing: string[]; files: Map<string, string> }> {
  const listing = ['.'];
  const files = new Map<string, string>();
  const walk = async (rel: string) => {
    for (const entry of await readdir(path.join(root, rel), { withFileTypes: true })) {
      const child = `${rel}/${entry.name}`;
      listing.push(child);
      if (entry.isDirectory()) await walk(child);
      else files.set(child, createHash('sha256').update(await readFile(path.join(root, child))).digest('hex'));
    }
  };
  await walk('.');
  return { listing: listing.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), files };
}

function parseManifest(text: string): Map<string, string> {
  return new Map(text.trim().split('\n').map((line) => {
    const [sha, file] = line.split(/ {2}/);
    return [file!, sha!];
  }));
}

t.test('Linux NFS v3 and v4.1 clients: a tree created, renamed and deleted, a large fsync\'d file, checksums; the server holds exactly that', async (t) => {
  const image = await labImage(t);
  const ganesha = await startGanesha(t);
  const runId = `${process.pid}`;
  const mounts = {
    v3: `${GUEST_GATEWAY_HOST}:${ganesha.v3Path} vers=3,proto=tcp,port=${ganesha.nfsPort},mountport=${ganesha.mountPort},mountproto=tcp,nolock`,
    v41: `${GUEST_GATEWAY_HOST}:${ganesha.v4Path} vers=4.1,proto=tcp,port=${ganesha.nfsPort}`,
  };
  const result = await boot(t, 'nfs', {
    image,
    scenario: await scenario('nfs'),
    env: { LAB_RUN_ID: runId },
    files: { mounts: Object.entries(mounts).map(([name, line]) => `${name} ${line}`).join('\n') + '\n' },
    forwards: [
      { guestPort: 2049, hostPort: ganesha.nfsPort, netns: ganesha.netns },
      { guestPort: 20048, hostPort: ganesha.mountPort, netns: ganesha.netns },
    ],
    timeoutMs: BOOT_TIMEOUT_MS,
  });
  t.equal(result.status, 0, 'the scenario passed in the guest (both mounts, remount checks)');
  if (result.status !== 0) t.comment(await ganesha.log());

  for (const name of Object.keys(mounts)) {
    const listing = result.blocks.get(`listing-${name}`)?.toString();
    const manifest = result.blocks.get(`manifest-${name}`)?.toString();
    if (!t.ok(listing && manifest, `${name}: the guest reported its tree`) || !listing || !manifest) continue;
    const server = await describeTree(path.join(ganesha.exportDir, `lab-${runId}-${name}`));
    t.same(server.listing, listing.trim().split('\n'), `${name}: the export holds exactly the tree the guest left (renames and deletes included)`);
    const expected = parseManifest(manifest);
    t.ok(expected.size > 10, `${name}: ${expected.size} files checked`);
    t.same(Object.fromEntries(server.files), Object.fromEntries(expected), `${name}: every file on the server has the guest's checksum`);
  }
});
