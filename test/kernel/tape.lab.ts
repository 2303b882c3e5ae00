/**
 * Tape scenario against sgw's tape library: the Linux 6.1 kernel's st and ch drivers over open-iscsi, mtx status
 * (barcodes), mtx load, tar of two archives to the non-rewinding device, mt weof/fsf/tell/rewind (tell must give the
 * exact block: records plus filemarks), both archives read back and checked, mtx unload to a mailslot. No quirks are
 * excused. On the host the tape moved to the mailslot must then archive.
 */
import t from 'tap';
import { changerTargetName, driveTargetName } from '../../src/daemon/tape-targets.js';
import type { GatewayInfo, TapeDetails } from '../../src/rpc/api.js';
import { TestDaemon } from '../harness/daemon.js';
import { GUEST_INITIATOR } from './guest-image.js';
import { GUEST_GATEWAY_HOST } from './guest-runner.js';
import { freePort, waitFor } from './host.js';
import { boot, BOOT_TIMEOUT_MS, labImage, scenario } from './lab.js';

t.setTimeout(60 * 60_000);
const PORTAL = `${GUEST_GATEWAY_HOST}:3260`;

t.test('Linux st/ch drivers with mtx, mt and tar against sgw: load, two archives, positions, read back, unload to a mailslot, archived', async (t) => {
  const image = await labImage(t);
  const port = await freePort();
  const d = await TestDaemon.start(t, {
    SGW_ISCSI_LISTEN: `127.0.0.1:${port}`, SGW_ISCSI_ADVERTISE: PORTAL, SGW_NFS_LISTEN: '127.0.0.1:0', SGW_PORTMAP_LISTEN: 'off', SGW_LOG_LEVEL: 'info',
    SGW_LOCAL_RETRIEVAL_MS: '100',
  });
  await d.sgwJson('activate', '--name', 'lab');
  await d.sgwJson('tape', 'create', '--count', '3', '--size', '100GiB', '--barcode-prefix', 'LAB');
  const gateway = (await d.sgwJson<GatewayInfo>('gateway', 'info')).gateway!.name;
  const result = await boot(t, 'tape', {
    image,
    scenario: await scenario('tape'),
    env: {
      LAB_PORTAL: PORTAL, LAB_INITIATOR: GUEST_INITIATOR, LAB_TAPE_TARGETS: `${changerTargetName(gateway)} ${driveTargetName(gateway, 0)}`,
      LAB_TAPE_SLOT: 2, LAB_TAPE_DRIVE: 0,
    },
    forwards: [{ guestPort: 3260, hostPort: port }],
    timeoutMs: BOOT_TIMEOUT_MS,
  });
  t.equal(result.status, 0, 'the scenario passed in the guest, mt tell exact at every step');
  t.match(result.console, /Storage Element \d+ IMPORT\/EXPORT:Full :VolumeTag=LAB00002/, 'mtx status shows LAB00002 in the mailslot');
  t.notMatch(result.console, /known quirk/, 'no fault excused');
  await waitFor('LAB00002 archived', async () => (await d.sgwJson<TapeDetails>('tape', 'describe', 'LAB00002')).status === 'ARCHIVED', 60_000);
  t.match(await d.sgwJson<TapeDetails>('tape', 'describe', 'LAB00002'), { status: 'ARCHIVED', location: null }, 'the tape moved to the mailslot is archived');
  t.ok((await d.sgwJson<TapeDetails>('tape', 'describe', 'LAB00002')).usedBytes > 0, 'with the data tar wrote');
  if (result.status !== 0) t.comment(d.output.split('\n').slice(-40).join('\n'));
});
