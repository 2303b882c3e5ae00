import { execFile } from 'node:child_process';
import path from 'node:path';
import type { GatewayInfo } from '../../src/rpc/api.js';
import { TestDaemon, type CliResult } from './daemon.js';

/** A daemon with an activated gateway, an upload buffer and a cache: ready for volumes. */
export async function startVolumeGateway(
  t: Parameters<typeof TestDaemon.start>[0],
  { buffer = '64MiB', cache = '128MiB', env = {} }: { buffer?: string; cache?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ d: TestDaemon; dir: string }> {
  const d = await TestDaemon.start(t, env);
  const dir = path.dirname(d.stateDir);
  await d.sgwJson('activate', '--name', 'lab');
  await d.sgwJson('disk', 'add-upload-buffer', path.join(dir, 'buffer'), '--size', buffer);
  await d.sgwJson('disk', 'add-cache', path.join(dir, 'cache'), '--size', cache);
  return { d, dir };
}

/** The iSCSI URL of a volume's LUN 0 on the daemon's portal, as libiscsi and qemu take it. */
export async function volumeUrl(d: TestDaemon, volumeName: string, chap?: { user: string; secret: string }): Promise<string> {
  const info = await d.sgwJson<GatewayInfo>('gateway', 'info');
  const credentials = chap ? `${chap.user}%${chap.secret}@` : '';
  return `iscsi://${credentials}${info.daemon.iscsiPortal}/iqn.2026-11.io.sgw:lab:${volumeName}/0`;
}

export async function portalUrl(d: TestDaemon): Promise<string> {
  return `iscsi://${(await d.sgwJson<GatewayInfo>('gateway', 'info')).daemon.iscsiPortal}`;
}

/** Runs a client program (libiscsi's tools, qemu-io) to completion; never throws for a non-zero status. */
export function runClient(file: string, args: string[], timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
