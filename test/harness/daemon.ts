import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DaemonClient } from '../../src/client/daemon-client.js';
import type { Method, Params, Result } from '../../src/rpc/api.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SGWD = path.join(ROOT, 'bin', 'sgwd.js');
export const SGW = path.join(ROOT, 'bin', 'sgw.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion with its exit status and output; never throws for a non-zero status. */
export function runCommand(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * A real sgwd in the foreground on a temporary state dir and socket, the way systemd runs it. Tests drive it
 * with the real CLI (`sgw`) or a control-socket client, and may kill it however they like.
 */
export class TestDaemon {
  proc: ChildProcess | undefined;
  output = '';

  private constructor(readonly stateDir: string, readonly socket: string, private readonly env: NodeJS.ProcessEnv) {}

  static async start(t: Teardown, env: NodeJS.ProcessEnv = {}): Promise<TestDaemon> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-test-'));
    const daemon = new TestDaemon(path.join(dir, 'state'), path.join(dir, 'sgw.sock'), env);
    t.teardown(async () => {
      daemon.proc?.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    });
    await daemon.restart();
    return daemon;
  }

  /** Starts sgwd again on the same state dir and waits until its socket answers. */
  async restart(): Promise<void> {
    const proc = spawn(process.execPath, [SGWD, '--foreground', '--state-dir', this.stateDir, '--socket', this.socket], {
      env: { ...process.env, SGW_LOG_LEVEL: 'debug', SGW_ISCSI_LISTEN: '127.0.0.1:0', SGW_NFS_LISTEN: '127.0.0.1:0', SGW_PORTMAP_LISTEN: 'off', ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    proc.stdout.on('data', (d: Buffer) => (this.output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (this.output += d.toString()));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`sgwd exited with ${proc.exitCode}: ${this.output}`);
      if (await this.client('ping', {}).then(() => true, () => false)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`sgwd did not answer within 20 s: ${this.output}`);
  }

  /**
   * Sends a signal and waits for the process to end and its output to be read; returns its exit code (null when
   * killed by the signal).
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return proc?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
    proc.kill(signal);
    return exited;
  }

  client = <M extends Method>(method: M, params: Params<M>): Promise<Result<M>> => DaemonClient.call(this.socket, method, params);

  sgw(...args: string[]): Promise<CliResult> {
    return runCommand(SGW, args, { SGW_SOCKET: this.socket });
  }

  /** `sgw ... --json` parsed; fails the caller with the CLI's stderr when the command fails. */
  async sgwJson<T = unknown>(...args: string[]): Promise<T> {
    const result = await this.sgw(...args, '--json');
    if (result.code !== 0) throw new Error(`sgw ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  }
}
