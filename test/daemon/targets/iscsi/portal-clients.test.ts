/**
 * The portal against real initiators: libiscsi's tools and conformance suite, and qemu's block driver. Each test is
 * skipped only when its client binary is not installed (Debian: libiscsi-bin, qemu-utils, qemu-block-extra).
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { startPortal, testTarget } from './test-directory.js';

const DISK = 'iqn.2026-01.test.sgw:disk';
const SECURE = 'iqn.2026-01.test.sgw:secure';
const CHAP_INITIATOR = 'iqn.2026-01.test:chap-initiator';
const INITIATOR_SECRET = 'initiator-secret-1';
const TARGET_SECRET = 'target-secret-22';
const SIZE = 32 * 1024 * 1024;

function installed(binary: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    try {
      accessSync(path.join(dir, binary), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

interface Run {
  code: number;
  output: string;
}

function run(binary: string, args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(binary, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

const disk = testTarget({ name: DISK, luns: [0, 1], sizeBytes: SIZE });
const secure = testTarget({ name: SECURE, sizeBytes: SIZE, chap: { [CHAP_INITIATOR]: { initiatorSecret: INITIATOR_SECRET, targetSecret: TARGET_SECRET } } });
const { portal } = await startPortal(t, [disk, secure]);
const base = `127.0.0.1:${portal.port}`;

function clientTest(name: string, binary: string, body: (t: Test) => Promise<void>): void {
  t.test(name, { skip: installed(binary) ? false : `${binary} is not installed` }, body);
}

clientTest('iscsi-ls discovers the targets this initiator may use, with their LUNs', 'iscsi-ls', async (t) => {
  const ls = await run('iscsi-ls', ['-s', `iscsi://${base}`]);
  t.equal(ls.code, 0, 'iscsi-ls succeeds', { output: ls.output });
  t.match(ls.output, `Target:${DISK} Portal:${base},1`, 'the portal advertises the address the connection came in on');
  t.match(ls.output, /Lun:0\s+Type:DIRECT_ACCESS \(Size:31M\)/);
  t.match(ls.output, /Lun:1\s+Type:DIRECT_ACCESS/);
  t.notMatch(ls.output, SECURE, 'a CHAP target that does not know this initiator stays hidden');
});

clientTest('iscsi-inq and iscsi-readcapacity16 log in and read the disk description', 'iscsi-inq', async (t) => {
  const inq = await run('iscsi-inq', [`iscsi://${base}/${DISK}/0`]);
  t.equal(inq.code, 0, 'iscsi-inq succeeds', { output: inq.output });
  t.match(inq.output, /Vendor:SGWTEST/);
  t.match(inq.output, /Product:RAMDISK/);
  const serial = await run('iscsi-inq', ['-e', '1', '-c', '128', `iscsi://${base}/${DISK}/1`]);
  t.match(serial.output, `Unit Serial Number:[${disk.disks.get(1)!.serialNumber}]`, 'VPD page 0x80 of LUN 1');
  const capacity = await run('iscsi-readcapacity16', [`iscsi://${base}/${DISK}/0`]);
  t.equal(capacity.code, 0, 'iscsi-readcapacity16 succeeds', { output: capacity.output });
  t.match(capacity.output, `Total size:${SIZE}`);
});

clientTest('CHAP: discovery and login prove the initiator secret; mutual CHAP proves ours', 'iscsi-ls', async (t) => {
  const url = (secret: string, target = '', query = '') => `iscsi://user%${secret}@${base}${target}${query}`;
  const mutual = (secret: string) => `?target_user=${SECURE}&target_password=${secret}`;
  const discovery = await run('iscsi-ls', ['-s', '-i', CHAP_INITIATOR, url(INITIATOR_SECRET)]);
  t.equal(discovery.code, 0, 'discovery with the right secret', { output: discovery.output });
  t.match(discovery.output, `Target:${SECURE}`);
  t.match(discovery.output, `Target:${DISK}`);
  t.not((await run('iscsi-ls', ['-i', CHAP_INITIATOR, url('wrong-secret')])).code, 0, 'discovery with a wrong secret fails');
  const mutualDiscovery = await run('iscsi-ls', ['-i', CHAP_INITIATOR, url(INITIATOR_SECRET, '', mutual(TARGET_SECRET))]);
  t.equal(mutualDiscovery.code, 0, 'discovery with mutual CHAP', { output: mutualDiscovery.output });

  const login = (secret: string, query = '') => run('iscsi-inq', ['-i', CHAP_INITIATOR, url(secret, `/${SECURE}/0`, query)]);
  const good = await login(INITIATOR_SECRET);
  t.equal(good.code, 0, 'login with the right secret', { output: good.output });
  const bad = await login('wrong-secret');
  t.not(bad.code, 0, 'login with a wrong secret fails');
  t.match(bad.output, /Authentication failure/);
  const both = await login(INITIATOR_SECRET, mutual(TARGET_SECRET));
  t.equal(both.code, 0, 'login with mutual CHAP', { output: both.output });
  const forged = await login(INITIATOR_SECRET, mutual('not-the-target-secret'));
  t.not(forged.code, 0, 'mutual CHAP with the wrong target secret fails');
  t.match(forged.output, /Invalid CHAP_R response from the target/, 'the initiator rejects our proof with its wrong secret');
  t.not((await run('iscsi-inq', [`iscsi://${base}/${SECURE}/0`])).code, 0, 'an initiator without CHAP is refused');
});

clientTest('qemu-io writes and reads 1 MiB back through R2Ts and immediate data', 'qemu-io', async (t) => {
  const io = await run('qemu-io', ['-f', 'raw', '-c', 'write -P 0xab 0 1M', '-c', 'read -P 0xab 0 1M', '-c', 'write -P 0x3c 5M 3M', '-c', 'read -P 0x3c 5M 3M', `iscsi://${base}/${DISK}/0`]);
  t.equal(io.code, 0, 'qemu-io succeeds', { output: io.output });
  t.notMatch(io.output, /Pattern verification failed/);
  const blocks = disk.disks.get(0)!.blocks;
  t.ok(blocks.subarray(0, 1 << 20).every((b) => b === 0xab) && blocks.subarray(5 << 20, 8 << 20).every((b) => b === 0x3c), 'the bytes are on the disk');
  const info = await run('qemu-img', ['info', `iscsi://${base}/${DISK}/0`]);
  t.match(info.output, `virtual size: 32 MiB (${SIZE} bytes)`);
});

clientTest('iscsi-perf keeps 32 commands in flight', 'iscsi-perf', async (t) => {
  const perf = await run('iscsi-perf', ['-m', '32', '-b', '8', '-r', '-t', '2', `iscsi://${base}/${DISK}/1`], 30_000);
  t.match(perf.output, /iops average \d+/, 'iscsi-perf completes its run', { output: perf.output });
});

/** libiscsi 1.19's iSCSI family: iSCSIcmdsn, iSCSIdatasn, iSCSIResiduals, iSCSITMF. */
const EXPECTED_TO_PASS = 14;
/**
 * iSCSIDataSnInvalid: after its first case drops the connection, libiscsi 1.19 logs in again and the new session
 * negotiates ImmediateData=Yes, so the next one-block write goes as immediate data with no Data-Out to corrupt and
 * succeeds (tgt fails it the same way; with ImmediateData=No the test passes here).
 */
const KNOWN_FAILURES = ['iSCSIDataSnInvalid'];

clientTest('iscsi-test-cu, iSCSI family', 'iscsi-test-cu', async (t) => {
  const suite = await run('iscsi-test-cu', ['--dataloss', '-t', 'iSCSI', `iscsi://${base}/${DISK}/0`], 120_000);
  const summary = /tests\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(suite.output);
  t.ok(summary, 'a CUnit run summary', { output: suite.output });
  const [total, ran, passed] = (summary ?? []).slice(1).map(Number);
  const failed = [...suite.output.matchAll(/Test: (\S+) \.\.\.(?:(?!Test:)[\s\S])*?FAILED/g)].map((m) => m[1]);
  t.comment(`iSCSI family: ${passed}/${total} passed; failed: ${failed.join(', ') || 'none'}`);
  t.equal(ran, total);
  t.ok(passed! >= EXPECTED_TO_PASS, `${passed} of ${total} passed`);
  t.same(failed.filter((name) => !KNOWN_FAILURES.includes(name!)), [], 'no failures beyond the known one');
});
