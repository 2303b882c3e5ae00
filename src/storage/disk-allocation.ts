import { execFile } from 'node:child_process';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { SgwError, UsageError } from '../errors.js';
import { formatSize } from '../sizes.js';

const run = promisify(execFile);

/** Smaller disks cannot hold even a few volumes' working set; larger ones exceed what AWS allows per disk. */
export const MIN_DISK_BYTES = 64 * 2 ** 20;
export const MAX_DISK_BYTES = 64 * 2 ** 40;

export interface AllocatedDisk {
  path: string;
  kind: 'file' | 'block';
  sizeBytes: number;
  /** True when the file did not exist and was made here, so a failed registration can take it back. */
  created: boolean;
}

/**
 * Makes `target` ready to serve as a cache or upload-buffer disk. A block device is used whole. A file is
 * preallocated (fallocate), so the space is the gateway's from now on and a full file system shows up here, at
 * allocation, rather than later as failed writes.
 */
export async function allocateDisk(target: string, sizeBytes: number | undefined): Promise<AllocatedDisk> {
  if (!path.isAbsolute(target)) {
    throw new UsageError(`"${target}" is not an absolute path`, 'SGW_INVALID_ARGUMENT');
  }
  if (sizeBytes !== undefined) checkSize(sizeBytes);
  const info = await stat(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw new SgwError('SGW_DISK_UNSUITABLE', `cannot use ${target}: ${err.message}`);
  });
  if (info?.isBlockDevice()) {
    if (sizeBytes !== undefined) {
      throw new UsageError(`${target} is a block device and is used whole; leave out --size`, 'SGW_INVALID_ARGUMENT');
    }
    const deviceBytes = await blockDeviceSize(target);
    checkSize(deviceBytes);
    return { path: target, kind: 'block', sizeBytes: deviceBytes, created: false };
  }
  if (info && !info.isFile()) {
    throw new SgwError('SGW_DISK_UNSUITABLE', `${target} is neither a regular file nor a block device`);
  }
  if (!info && sizeBytes === undefined) {
    throw new SgwError('SGW_PATH_NOT_FOUND', `${target} does not exist; give --size to create a file of that size there`);
  }
  const size = sizeBytes ?? info!.size;
  checkSize(size);
  if (info && size < info.size) {
    throw new UsageError(`${target} already holds ${formatSize(info.size)}; a disk is never shrunk`, 'SGW_INVALID_ARGUMENT');
  }
  if (!info) await createEmptyFile(target);
  try {
    await run('fallocate', ['--length', String(size), target]);
  } catch (err) {
    if (!info) await unlink(target).catch(() => undefined);
    const detail = ((err as { stderr?: string }).stderr ?? String(err)).trim().split('\n')[0];
    throw new SgwError('SGW_DISK_UNSUITABLE', `cannot reserve ${formatSize(size)} for ${target}: ${detail}`);
  }
  return { path: target, kind: 'file', sizeBytes: size, created: !info };
}

function checkSize(bytes: number): void {
  if (bytes < MIN_DISK_BYTES || bytes > MAX_DISK_BYTES) {
    throw new UsageError(`a disk must hold between ${formatSize(MIN_DISK_BYTES)} and ${formatSize(MAX_DISK_BYTES)}, not ${formatSize(bytes)}`, 'SGW_INVALID_SIZE');
  }
}

async function createEmptyFile(target: string): Promise<void> {
  const handle = await open(target, 'wx', 0o600).catch((err: NodeJS.ErrnoException) => {
    const reason = err.code === 'ENOENT' ? `its directory ${path.dirname(target)} does not exist` : err.message;
    throw new SgwError('SGW_PATH_NOT_FOUND', `cannot create ${target}: ${reason}`);
  });
  await handle.close();
}

export async function blockDeviceSize(device: string): Promise<number> {
  const { rdev } = await stat(device);
  // sysfs reports the size in 512-byte sectors whatever the device's logical block size.
  const major = Math.floor(rdev / 256) & 0xfff;
  const minor = (rdev & 0xff) | ((Math.floor(rdev / 2 ** 20) & 0xfff) << 8);
  const sectors = await readFile(`/sys/dev/block/${major}:${minor}/size`, 'utf8');
  return Number(sectors.trim()) * 512;
}
