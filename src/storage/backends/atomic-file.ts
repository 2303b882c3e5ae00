import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';

/** Names of files being written end with this, which no object file name does. */
const TEMP_SUFFIX = '.t';

/**
 * Writes `path` so that, even across a crash, it holds either its old content or all of the new: the data goes to a
 * temporary file in the same directory, which is fsynced, renamed over `path`, and the directory fsynced so the
 * rename itself is durable.
 */
export async function writeFileAtomically(path: string, write: (file: FileHandle) => Promise<void>): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${randomBytes(8).toString('hex')}${TEMP_SUFFIX}`);
  const file = await open(temp, 'wx', 0o600);
  try {
    await write(file);
    await file.sync();
  } catch (err) {
    await file.close();
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await file.close();
  try {
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await syncDirectory(dir);
}

/** mkdir -p that also makes the new directory entries durable, so a file renamed into them survives a crash. */
export async function ensureDirectory(path: string): Promise<void> {
  const firstCreated = await mkdir(path, { recursive: true });
  if (firstCreated === undefined) return;
  for (let dir = path; ; dir = dirname(dir)) {
    await syncDirectory(dirname(dir));
    if (dir === firstCreated) return;
  }
}

export async function syncDirectory(path: string): Promise<void> {
  const dir = await open(path, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
