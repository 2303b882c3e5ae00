import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { TestDaemon, type Teardown } from '../harness/daemon.js';

interface Recorder {
  env: NodeJS.ProcessEnv;
  /** One entry per systemd-notify run: NOTIFY_SOCKET, then each argument. */
  calls(): Promise<string[][]>;
}

/**
 * A systemd-notify earlier on PATH that records how sgwd runs it. The real one needs a service manager on the
 * other end; here what matters is what sgwd sends and when.
 */
async function recordingNotify(t: Teardown): Promise<Recorder> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-notify-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const log = path.join(dir, 'calls');
  await writeFile(path.join(dir, 'systemd-notify'), `#!/bin/sh\nprintf '%s\\t' "$NOTIFY_SOCKET" "$@" >> '${log}'\necho >> '${log}'\n`, { mode: 0o755 });
  return {
    env: { PATH: `${dir}:${process.env.PATH ?? ''}`, NOTIFY_SOCKET: path.join(dir, 'notify') },
    calls: async () => (await readFile(log, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((line) => line.split('\t').slice(0, -1)),
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

t.test('READY with a status once serving, WATCHDOG at half WATCHDOG_USEC, STOPPING before it exits', async (t) => {
  const notify = await recordingNotify(t);
  const d = await TestDaemon.start(t, { ...notify.env, WATCHDOG_USEC: '400000' });
  const ready = await until('READY=1', async () => (await notify.calls()).find((c) => c.includes('READY=1')));
  t.equal(ready[0], notify.env.NOTIFY_SOCKET, 'systemd-notify is told the socket systemd gave sgwd');
  t.match(ready.find((a) => a.startsWith('STATUS=')), /^STATUS=serving iSCSI on 127\.0\.0\.1:0, NFS on 127\.0\.0\.1:0; control socket \S+sgw\.sock$/);
  // 200 ms apart: in 1.5 s several pings, and not one per event-loop turn.
  await new Promise((r) => setTimeout(r, 1500));
  const pings = (await notify.calls()).filter((c) => c.includes('WATCHDOG=1')).length;
  t.ok(pings >= 3 && pings <= 9, `${pings} watchdog pings in 1.5 s`);
  t.equal(await d.stop('SIGTERM'), 0);
  const calls = await notify.calls();
  const stopping = calls.findIndex((c) => c.includes('STOPPING=1'));
  t.ok(stopping > 0, 'STOPPING=1 was sent before the process exited');
  t.match(calls[stopping], [notify.env.NOTIFY_SOCKET, 'STOPPING=1', /^STATUS=stopping on SIGTERM/]);
  t.equal(calls.findIndex((c) => c.includes('READY=1')), 0, 'READY=1 came first');
});

t.test('no watchdog pings when WATCHDOG_PID names another process', async (t) => {
  const notify = await recordingNotify(t);
  const d = await TestDaemon.start(t, { ...notify.env, WATCHDOG_USEC: '200000', WATCHDOG_PID: String(process.pid) });
  await until('READY=1', async () => (await notify.calls()).find((c) => c.includes('READY=1')));
  await new Promise((r) => setTimeout(r, 600));
  t.same((await notify.calls()).filter((c) => c.includes('WATCHDOG=1')), []);
  t.equal(await d.stop('SIGTERM'), 0);
});

t.test('without NOTIFY_SOCKET systemd-notify is never run', async (t) => {
  const notify = await recordingNotify(t);
  const d = await TestDaemon.start(t, { ...notify.env, NOTIFY_SOCKET: '', WATCHDOG_USEC: '200000' });
  await new Promise((r) => setTimeout(r, 600));
  t.equal(await d.stop('SIGTERM'), 0);
  t.same(await notify.calls(), []);
});

t.test('a systemd-notify that fails is logged and the daemon carries on', async (t) => {
  const d = await TestDaemon.start(t, { PATH: '/nonexistent', NOTIFY_SOCKET: '/nonexistent/notify' });
  await until('the warning', async () => (/could not run systemd-notify/.test(d.output) ? true : undefined));
  t.match(await d.client('ping', {}), { pong: true });
  t.equal(await d.stop('SIGTERM'), 0);
});
