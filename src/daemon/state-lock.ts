import { createHash } from 'node:crypto';
import { readFile, realpath, unlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { SgwError } from '../errors.js';

/**
 * One sgwd per state directory. The lock is a Linux abstract-namespace socket named after the state dir: the
 * kernel frees it when the holder dies, even by kill -9, so a crash never leaves a stale lock behind. The pid
 * file only serves the message that names the other daemon.
 */
export interface StateLock {
  release(): Promise<void>;
}

export async function acquireStateLock(stateDir: string): Promise<StateLock> {
  const dir = await realpath(stateDir);
  const pidFile = path.join(dir, 'sgwd.pid');
  const name = `\0sgwd-lock-${createHash('sha256').update(dir).digest('hex').slice(0, 32)}`;
  const server = net.createServer((conn) => conn.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(name, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch(async (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EADDRINUSE') throw err;
    const pid = (await readFile(pidFile, 'utf8').catch(() => '')).trim();
    const who = pid ? `pid ${pid}` : 'pid unknown';
    throw new SgwError('SGW_STATE_LOCKED', `another sgwd (${who}) is already running on ${dir}; stop it first or use another --state-dir`);
  });
  server.unref();
  await writeFile(pidFile, `${process.pid}\n`);
  return {
    async release() {
      await unlink(pidFile).catch(() => undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
