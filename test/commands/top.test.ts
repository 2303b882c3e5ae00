import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import type { MetricsSnapshot } from '../../src/rpc/api.js';
import { SGW } from '../harness/daemon.js';
import { runClient, startVolumeGateway, volumeUrl } from '../harness/volume-gateway.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A tmux server of this test's own, with one 80x24 pane running a plain shell. */
class Tmux {
  private readonly server = `sgw-top-${process.pid}`;

  async start(dir: string, env: Record<string, string>): Promise<void> {
    const exports = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    await this.tmux('new-session', '-d', '-s', 'top', '-x', '80', '-y', '24', '-c', dir, 'env', ...exports, 'bash', '--norc', '--noprofile');
    await this.tmux('set-option', '-g', 'status', 'off');
  }

  type(text: string, enter = true): Promise<string> {
    return enter ? this.tmux('send-keys', '-t', 'top', '-l', text).then(() => this.tmux('send-keys', '-t', 'top', 'Enter')) : this.tmux('send-keys', '-t', 'top', '-l', text);
  }

  screen(): Promise<string> {
    return this.tmux('capture-pane', '-p', '-t', 'top');
  }

  display(format: string): Promise<string> {
    return this.tmux('display-message', '-p', '-t', 'top', format).then((s) => s.trim());
  }

  /** The screen once `ready` holds, or the last one seen after `ms`. */
  async waitFor(ready: (screen: string) => boolean, ms = 20_000): Promise<string> {
    const deadline = Date.now() + ms;
    let screen = await this.screen();
    while (!ready(screen) && Date.now() < deadline) {
      await sleep(200);
      screen = await this.screen();
    }
    return screen;
  }

  async kill(): Promise<void> {
    await this.tmux('kill-server').catch(() => undefined);
  }

  private async tmux(...args: string[]): Promise<string> {
    return (await run('tmux', ['-L', this.server, ...args])).stdout;
  }
}

/** The client chart's label: `Client  read 12.3  write 4.0 MiB/s`. */
function clientRates(screen: string): { read: number; write: number } | undefined {
  const match = /Client {2}read (\d+\.\d) {2}write (\d+\.\d) MiB\/s/.exec(screen);
  return match ? { read: Number(match[1]), write: Number(match[2]) } : undefined;
}

t.test('sgw top without a terminal prints one sample, as text or as JSON', async (t) => {
  const { d } = await startVolumeGateway(t);
  await d.sgwJson('volume', 'create', 'quiet', '--cached', '1GiB');
  const text = await d.sgw('top');
  t.equal(text.code, 0, text.stderr);
  for (const line of [/^sgw top {2}\d{4}-/m, /^Client: read 0 B\/s {2}write 0 B\/s$/m, /^Cloud: up 0 B\/s {2}down 0 B\/s$/m, /^Local disks: cache used 0\.0%, cache dirty 0\.0%, upload buffer 0\.0%$/m,
    /^Upload queue: volumes 0 B, shares 0 files \(0 B\), tapes archiving 0$/m, /^Bandwidth: upload unlimited, download unlimited$/m, /^Kind +Name +Status +Read\/s +Write\/s +Queued$/m, /^volume +quiet +AVAILABLE +0 B\/s +0 B\/s +0 B$/m]) {
    t.match(text.stdout, line);
  }
  const json = await d.sgw('top', '--json');
  t.equal(json.code, 0, json.stderr);
  const snapshot = JSON.parse(json.stdout) as MetricsSnapshot;
  t.same(snapshot.resources.map((r) => [r.kind, r.name]), [['volume', 'quiet']], '--json is the metrics snapshot');
  const bad = await d.sgw('top', '--interval', '0');
  t.equal(bad.code, 2, 'a bad interval is a usage error');
  t.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
});

t.test('sgw top in a terminal draws every panel, follows the load and gives the terminal back on q', async (t) => {
  const { d, dir } = await startVolumeGateway(t);
  await d.sgwJson('volume', 'create', 'busy', '--cached', '1GiB');
  await d.sgwJson('share', 'create', 'files', '--bucket', 'top-files');
  await d.sgwJson('gateway', 'bandwidth', 'set', '--upload', '200Mbit');
  const url = await volumeUrl(d, 'busy');

  // Load that changes over time: writes in bursts with pauses, until the test is done.
  let loading = true;
  const load = (async () => {
    for (let i = 0; loading && i < 200; i++) {
      await runClient('qemu-io', ['-f', 'raw', '-c', `write -P ${i % 256} 0 16M`, url], 30_000);
      await sleep(i % 2 === 0 ? 0 : 1500);
    }
  })();
  const tmux = new Tmux();
  t.teardown(async () => {
    loading = false;
    await tmux.kill();
    await load;
  });

  await tmux.start(dir, { SGW_SOCKET: d.socket, LANG: 'C.UTF-8', PS1: '$ ', PATH: process.env.PATH ?? '/usr/bin:/bin' });
  // The markers are printed by the shell, so they show only once the command has ended, never as typed text.
  await tmux.type(`stty -g > stty.before; ${process.execPath} ${SGW} top; echo TOP-EXIT=$?; echo "modes $(stty -g | cmp -s - stty.before && echo kept)"`);
  const first = await tmux.waitFor((s) => (clientRates(s)?.write ?? 0) > 0 && /volume +busy/.test(s));
  t.ok(clientRates(first), 'the client chart is drawn', { screen: first });

  const lines = first.replace(/\n$/, '').split('\n');
  t.equal(lines.length, 24, 'the pane is 24 lines');
  t.ok(lines.every((line) => [...line].length <= 80), 'and no line is wider than 80 columns');
  for (const panel of [/Client {2}read/, /Cloud {2}up \d+\.\d {2}down \d+\.\d MiB\/s/, /Cache used \d/, /Cache dirty \d/, /Upload buffer \d/, /Volumes, shares and tape drives/,
    /Kind +Name +Status +Read\/s +Write\/s +Queued/, /volume +busy +AVAILABLE +\d/, /share +files +AVAILABLE/, /Upload queue: volumes /, /Bandwidth: upload 200 Mbit\/s/, /q quits/]) {
    t.match(first, panel);
  }
  t.match(first, /[\u2800-\u28ff]/, 'the charts draw their lines in braille');
  t.notMatch(first, /lqq|qqk|mqq/, 'borders are box drawing, not raw line-drawing letters');
  t.equal(await tmux.display('#{alternate_on}'), '1', 'the dashboard runs on the alternate screen');

  // Different rates within a few seconds: the screen follows the daemon, it is not a still picture.
  const seen = new Set([JSON.stringify(clientRates(first))]);
  const deadline = Date.now() + 20_000;
  while (seen.size < 3 && Date.now() < deadline) {
    await sleep(700);
    const rates = clientRates(await tmux.screen());
    if (rates) seen.add(JSON.stringify(rates));
  }
  t.ok(seen.size >= 3, `the client rates change: ${[...seen].join(' ')}`);

  await tmux.type('q', false);
  const after = await tmux.waitFor((s) => /^modes /m.test(s), 10_000);
  t.match(after, /^TOP-EXIT=0$/m, 'q quits with status 0');
  t.match(after, /^modes kept$/m, 'the terminal modes are as before');
  t.notMatch(after, /Cache dirty|Volumes, shares/, 'the dashboard is gone');
  t.equal(await tmux.display('#{alternate_on}'), '0', 'the normal screen is back');
  t.equal(await tmux.display('#{cursor_flag}'), '1', 'with the cursor shown');
});
