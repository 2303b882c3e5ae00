/** What the lab tests share: reading scenarios, running a guest with its console streamed, reporting it. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { guestImage, type GuestImage } from './guest-image.js';
import { runGuest, summarize, type GuestResult, type RunGuestOptions } from './guest-runner.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

export function scenario(name: 'volume' | 'nfs' | 'tape'): Promise<string> {
  return readFile(path.join(HERE, 'scenarios', `${name}.sh`), 'utf8');
}

interface Comments {
  comment(...args: unknown[]): void;
}

export function labImage(t: Comments): Promise<GuestImage> {
  return guestImage((line) => t.comment(line)).then((image) => {
    t.comment(image.built ? `guest image built in ${image.buildSeconds} s` : `guest image from the cache (${image.dir}, built in ${image.buildSeconds} s)`);
    return image;
  });
}

/** A boot as runGuest does it, its console streamed to stderr as `[label] line` (SGW_LAB_QUIET=1: not). */
export async function boot(t: Comments, label: string, opts: Omit<RunGuestOptions, 'onConsole'> & { onConsole?: (line: string) => void }): Promise<GuestResult> {
  const quiet = process.env.SGW_LAB_QUIET === '1';
  const result = await runGuest({
    ...opts,
    onConsole: (line) => {
      if (!quiet) process.stderr.write(`[${label}] ${line}\n`);
      opts.onConsole?.(line);
    },
  });
  t.comment(`${label}: ${summarize(result)}`);
  return result;
}

/** Minutes for a boot's hard timeout: TCG on 2 shared cores is slow, and slower still on a busy machine. */
export const BOOT_TIMEOUT_MS = Number(process.env.SGW_LAB_BOOT_TIMEOUT_MS ?? 15 * 60_000);
