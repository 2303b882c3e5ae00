/**
 * libnfs speaks NFSv4.0 only. Against sgw's NFSv4.1 it must get a clean answer it reports, at once: the server
 * refuses minor version 0 whole, and NFSv3 on the same port still serves the same client.
 */
import t from 'tap';
import { nfsUrl } from '../harness/file-gateway.js';
import { runClient, startVolumeGateway } from '../harness/volume-gateway.js';

t.test('libnfs with version=4 gets a minor-version error, not a hang; version=3 still lists', async (t) => {
  const { d } = await startVolumeGateway(t);
  await d.sgwJson('share', 'create', 'files', '--bucket', 'v4-files');
  const v3 = await nfsUrl(d, 'files');
  const v4 = v3.replace('version=3', 'version=4').replace(/&mountport=\d+/, '');
  const started = Date.now();
  const refused = await runClient('nfs-ls', [v4], 30_000);
  const seconds = (Date.now() - started) / 1000;
  t.not(refused.code, 0, 'nfs-ls fails');
  t.ok(seconds < 10, `and says so in ${seconds.toFixed(1)} s`);
  t.match(refused.stderr + refused.stdout, /MINOR_VERS_MISMATCH|minor ?version|NFS4ERR/i, refused.stderr.trim());
  const listed = await runClient('nfs-ls', [v3]);
  t.equal(listed.code, 0, listed.stderr);
  t.ok(d.proc && d.proc.exitCode === null, 'sgwd is still running');
});
