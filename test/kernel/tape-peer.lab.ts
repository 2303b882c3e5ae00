/**
 * Tape scenario against a peer (tgt's virtual tape library), the reference sgw's own lab (tape.lab.ts) is held
 * to: the Linux 6.1 kernel's st and ch drivers over open-iscsi with mtx status/load, tar to the non-rewinding tape
 * device, mt weof/fsf/tell/rewind, both archives read back and checked, and mtx unload to a mailslot.
 * LAB_QUIRKS excuses two faults of tgt: SendTargets names tgt's own bind address, and READ POSITION.
 */
import t from 'tap';
import { GUEST_INITIATOR } from './guest-image.js';
import { GUEST_GATEWAY_HOST } from './guest-runner.js';
import { boot, BOOT_TIMEOUT_MS, labImage, scenario } from './lab.js';
import { startTgtVtl } from './peers.js';

t.setTimeout(60 * 60_000);

t.test('Linux st/ch drivers with mtx, mt and tar against a VTL: load, write two archives, position, read back, unload to a mailslot', async (t) => {
  const image = await labImage(t);
  const vtl = await startTgtVtl(t, { drives: 2, slots: 6 });
  const result = await boot(t, 'tape', {
    image,
    scenario: await scenario('tape'),
    env: {
      LAB_PORTAL: `${GUEST_GATEWAY_HOST}:3260`,
      LAB_INITIATOR: GUEST_INITIATOR,
      LAB_TAPE_TARGETS: vtl.target,
      LAB_TAPE_SLOT: 2,
      LAB_TAPE_DRIVE: 0,
      LAB_QUIRKS: 'portal tell',
    },
    forwards: [{ guestPort: 3260, hostPort: vtl.port, netns: vtl.netns }],
    timeoutMs: BOOT_TIMEOUT_MS,
  });
  t.equal(result.status, 0, 'the scenario passed in the guest');
  t.match(result.console, new RegExp(`Storage Element \\d+ IMPORT/EXPORT:Full :VolumeTag=${vtl.barcodes[1]}`), `mtx status shows ${vtl.barcodes[1]} in the mailslot`);
  const quirks = result.console.split('\n').filter((line) => line.startsWith('known quirk'));
  t.comment(`peer faults excused by LAB_QUIRKS:\n${quirks.join('\n') || '(none)'}`);
  if (result.status !== 0) t.comment(await vtl.log());
});
