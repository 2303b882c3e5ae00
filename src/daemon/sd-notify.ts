import { spawn } from 'node:child_process';
import type { Logger } from './logger.js';

const SEND_TIMEOUT_MS = 10_000;

/**
 * systemd's readiness, status and watchdog protocol (sd_notify). Node cannot send on an AF_UNIX datagram socket,
 * so each message goes through systemd-notify, which every systemd that sets NOTIFY_SOCKET ships. It waits until
 * the service manager has processed the message, so the message is attributed to this unit although it comes
 * from a short-lived child: the unit needs NotifyAccess=all. Without NOTIFY_SOCKET (started by hand, in tests,
 * under another init) nothing is spawned.
 */
export class SystemdNotify {
  private sending: Promise<void> = Promise.resolve();
  private pingInFlight = false;

  constructor(private readonly log: Logger, private readonly env: NodeJS.ProcessEnv = process.env) {}

  /** READY=1 with a status line, then WATCHDOG=1 pings when the unit has WatchdogSec=. */
  ready(status: string): void {
    void this.send({ READY: '1', STATUS: status });
    const interval = this.watchdogIntervalMs();
    if (interval === undefined) return;
    // A ping that has not come back is not doubled: a hung event loop or manager must show as missed pings.
    setInterval(() => {
      if (this.pingInFlight) return;
      this.pingInFlight = true;
      void this.send({ WATCHDOG: '1' }).finally(() => (this.pingInFlight = false));
    }, interval).unref();
  }

  stopping(status: string): void {
    void this.send({ STOPPING: '1', STATUS: status });
  }

  /** Resolves once every message so far has reached the manager or failed, so an exit does not cut one off. */
  settled(): Promise<void> {
    return this.sending;
  }

  /** In order, one at a time; a message that cannot be sent is logged, never fatal to the daemon. */
  private send(fields: Record<string, string>): Promise<void> {
    if (!this.env.NOTIFY_SOCKET) return Promise.resolve();
    // Fields are newline-separated on the wire, so a value must stay on one line.
    const args = Object.entries(fields).map(([key, value]) => `${key}=${value.replace(/\s+/g, ' ')}`);
    const sent = this.sending.then(() => new Promise<void>((resolve) => {
      const child = spawn('systemd-notify', args, { env: this.env, stdio: ['ignore', 'ignore', 'pipe'], timeout: SEND_TIMEOUT_MS });
      let stderr = '';
      let spawnError: Error | undefined;
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('error', (err) => (spawnError = err));
      child.once('close', (code, signal) => {
        if (spawnError) this.log.warn({ err: spawnError, fields: Object.keys(fields) }, 'could not run systemd-notify');
        else if (code !== 0) this.log.warn({ code, signal, stderr: stderr.trim(), fields: Object.keys(fields) }, 'systemd-notify failed');
        resolve();
      });
    }));
    this.sending = sent;
    return sent;
  }

  /** Half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises; none when it was meant for another process. */
  private watchdogIntervalMs(): number | undefined {
    const usec = Number(this.env.WATCHDOG_USEC);
    if (!Number.isInteger(usec) || usec <= 0) return undefined;
    const pid = this.env.WATCHDOG_PID;
    if (pid && Number(pid) !== process.pid) return undefined;
    return Math.max(1, Math.floor(usec / 2000));
  }
}
