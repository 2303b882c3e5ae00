import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Where sgwd keeps its state and its socket. systemd runs it as root with /var/lib/sgw and /run/sgw; a developer
 * running it as another user gets per-user places, so no root is needed to try it.
 */
function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SGW_STATE_DIR) return path.resolve(env.SGW_STATE_DIR);
  if (isRoot()) return '/var/lib/sgw';
  const base = env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'sgw');
}

/** Where the packaged service's sgwd listens. */
export const SERVICE_SOCKET = '/run/sgw/sgw.sock';

/**
 * The service's socket once it exists, also for members of the sgw group, who are not root: they drive the
 * installed gateway without --socket.
 */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env, serviceRunning = () => existsSync(SERVICE_SOCKET)): string {
  if (env.SGW_SOCKET) return path.resolve(env.SGW_SOCKET);
  if (isRoot() || serviceRunning()) return SERVICE_SOCKET;
  const runtime = env.XDG_RUNTIME_DIR || path.join(os.tmpdir(), `sgw-${process.getuid?.() ?? 'user'}`);
  return path.join(runtime, 'sgw', 'sgw.sock');
}
