/**
 * The lab's guest: a minimal Debian (debootstrap minbase) with the Linux kernel, open-iscsi, nfs-common, mt-st,
 * mtx, sg3-utils, fio, e2fsprogs and tar, as a raw ext4 image plus its kernel and initrd.
 *
 * The image is cached under `${SGW_LAB_CACHE:-${XDG_CACHE_HOME:-~/.cache}/sgw-lab}/<recipe hash>/` and built only
 * when no entry for the current recipe exists: once per machine, and again whenever RECIPE below changes. At boot a
 * systemd oneshot runs /usr/local/sbin/sgw-lab-boot, which copies the files qemu passes in fw_cfg (opt/io.sgw.lab/*)
 * to /run/lab, runs /run/lab/main with its output on ttyS0, prints `SGW-LAB-EXIT <status>` and powers off. What the
 * guest does is therefore never part of the image: see guest-runner.ts.
 *
 *   npx tsx test/kernel/guest-image.ts      # build (or find) the image; prints its directory and the build time
 */
import { createHash } from 'node:crypto';
import { chmod, copyFile, mkdir, open, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensurePrograms, HOST_PROGRAMS, must, runStreaming, sleep } from './host.js';

/** Where the fw_cfg files appear in the guest (`-fw_cfg name=opt/io.sgw.lab/NAME,file=...`). */
export const FW_CFG_PREFIX = 'opt/io.sgw.lab';
/** The marker line the guest prints last; the runner takes the scenario's exit status from it. */
export const EXIT_MARKER = 'SGW-LAB-EXIT';
/** The initiator name the image starts with (scenarios may write another before iscsid starts). */
export const GUEST_INITIATOR = 'iqn.2026-11.io.sgw.lab:guest';

const BOOT_HOOK = `#!/bin/sh
# sgw lab: run the scenario qemu hands over in fw_cfg, print its exit status, power off.
exec </dev/null >/dev/ttyS0 2>&1
dmesg -n 1   # kernel messages would interleave with the lines the host parses; main prints them at the end
modprobe qemu_fw_cfg
src=/sys/firmware/qemu_fw_cfg/by_name/${FW_CFG_PREFIX}
status=125
mkdir -p /run/lab
if [ -d "$src" ]; then
  for entry in "$src"/*; do cat "$entry/raw" > "/run/lab/\${entry##*/}"; done
  if [ -f /run/lab/main ]; then
    cd /run/lab && bash /run/lab/main
    status=$?
  fi
else
  echo "sgw-lab-boot: no fw_cfg entries under $src"
fi
echo "${EXIT_MARKER} $status"
sync
poweroff -f
`;

const BOOT_UNIT = `[Unit]
Description=sgw lab scenario (fw_cfg opt/io.sgw.lab/main)
After=local-fs.target systemd-modules-load.service systemd-udevd.service systemd-udev-trigger.service iscsid.socket

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/sgw-lab-boot
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0

[Install]
WantedBy=multi-user.target
`;

/** Everything that determines the image; its hash names the cache entry. */
export const RECIPE = {
  version: 1,
  suite: 'bookworm',
  variant: 'minbase',
  packages: [
    'linux-image-amd64', 'open-iscsi', 'nfs-common', 'mt-st', 'mtx', 'sg3-utils', 'lsscsi', 'fio', 'e2fsprogs', 'tar',
    // netbase: /etc/protocols, without which mount.nfs fails with "Failed to find 'tcp' protocol"
    'netbase', 'iproute2', 'kmod', 'udev', 'systemd-sysv', 'procps',
  ],
  imageSize: '2G',
  files: {
    '/etc/hostname': { mode: 0o644, text: 'sgw-lab\n' },
    '/etc/fstab': { mode: 0o644, text: '/dev/vda / ext4 rw 0 1\n' },
    // No DNS in the guest (debootstrap copies the host's resolv.conf); nfsidmap must not wait for one: with the
    // host's unreachable nameserver the first NFSv4 mount hung 20 s in its upcall.
    '/etc/resolv.conf': { mode: 0o644, text: '# the lab guest has no DNS\n' },
    '/etc/hosts': { mode: 0o644, text: '127.0.0.1 localhost\n127.0.1.1 sgw-lab\n' },
    '/etc/idmapd.conf': { mode: 0o644, text: '[General]\nDomain = localdomain\n\n[Mapping]\nNobody-User = nobody\nNobody-Group = nogroup\n' },
    '/etc/iscsi/initiatorname.iscsi': { mode: 0o600, text: `InitiatorName=${GUEST_INITIATOR}\n` },
    '/usr/local/sbin/sgw-lab-boot': { mode: 0o755, text: BOOT_HOOK },
    '/etc/systemd/system/sgw-lab.service': { mode: 0o644, text: BOOT_UNIT },
  },
  symlinks: {
    '/etc/systemd/system/multi-user.target.wants/sgw-lab.service': '/etc/systemd/system/sgw-lab.service',
    // A getty on ttyS0 would vhangup the console the scenario writes to; nobody logs in anyway.
    '/etc/systemd/system/serial-getty@ttyS0.service': '/dev/null',
    '/etc/systemd/system/getty@tty1.service': '/dev/null',
    // Nothing periodic may start in the middle of a scenario.
    '/etc/systemd/system/apt-daily.timer': '/dev/null',
    '/etc/systemd/system/apt-daily-upgrade.timer': '/dev/null',
    '/etc/systemd/system/e2scrub_all.timer': '/dev/null',
    '/etc/systemd/system/fstrim.timer': '/dev/null',
    // Boot-time chores that only compete with the scenario for the two emulated CPUs.
    '/etc/systemd/system/getty-static.service': '/dev/null',
    '/etc/systemd/system/e2scrub_reap.service': '/dev/null',
  },
};

export interface GuestImage {
  dir: string;
  kernel: string;
  initrd: string;
  rootfs: string;
  /** Seconds the build took (measured when it was built). */
  buildSeconds: number;
  /** Whether this call built it (false: found in the cache). */
  built: boolean;
}

export function recipeHash(): string {
  return createHash('sha256').update(JSON.stringify(RECIPE)).digest('hex').slice(0, 16);
}

export function cacheRoot(): string {
  if (process.env.SGW_LAB_CACHE) return process.env.SGW_LAB_CACHE;
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'sgw-lab');
}

/** The Debian mirror apt uses on this host (deb822 or one-line sources); SGW_LAB_MIRROR overrides it. */
async function debianMirror(): Promise<string> {
  if (process.env.SGW_LAB_MIRROR) return process.env.SGW_LAB_MIRROR;
  const texts: string[] = [];
  for (const dir of ['/etc/apt/sources.list.d']) {
    for (const file of await readdir(dir).catch(() => [])) {
      if (file.endsWith('.sources') || file.endsWith('.list')) texts.push(await readFile(path.join(dir, file), 'utf8').catch(() => ''));
    }
  }
  texts.push(await readFile('/etc/apt/sources.list', 'utf8').catch(() => ''));
  for (const text of texts) {
    for (const line of text.split('\n')) {
      const uri = /^URIs:\s*(\S+)/.exec(line)?.[1] ?? /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line)?.[1];
      if (uri && !uri.includes('security')) return uri;
    }
  }
  return 'http://deb.debian.org/debian';
}

async function pidAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One builder per cache entry across processes: an O_EXCL lock file holding the builder's pid. */
async function withLock<T>(lockPath: string, log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30 * 60_000;
  let said = false;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(await readFile(lockPath, 'utf8').catch(() => ''));
      if (!holder || !(await pidAlive(holder))) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`${lockPath} is held by pid ${holder} for over 30 minutes`);
      if (!said) log(`waiting for pid ${holder}, which is building the guest image`);
      said = true;
      await sleep(2000);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lockPath, { force: true });
  }
}

async function loadEntry(dir: string): Promise<GuestImage | undefined> {
  try {
    const info = JSON.parse(await readFile(path.join(dir, 'build.json'), 'utf8')) as { seconds: number };
    return { dir, kernel: path.join(dir, 'vmlinuz'), initrd: path.join(dir, 'initrd.img'), rootfs: path.join(dir, 'rootfs.img'), buildSeconds: info.seconds, built: false };
  } catch {
    return undefined;
  }
}

/** The guest image for the current recipe: from the cache, or built into it (about 100 s) when absent. */
export async function guestImage(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<GuestImage> {
  const root = cacheRoot();
  const key = recipeHash();
  const dir = path.join(root, key);
  const cached = await loadEntry(dir);
  if (cached) return cached;
  await mkdir(root, { recursive: true });
  return withLock(path.join(root, `${key}.lock`), log, async () => {
    const raced = await loadEntry(dir);
    if (raced) return raced;
    await ensurePrograms(HOST_PROGRAMS.image, log);
    return build(dir, log);
  });
}

async function build(dir: string, log: (line: string) => void): Promise<GuestImage> {
  const started = Date.now();
  const work = `${dir}.building`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    const rootfs = path.join(work, 'rootfs');
    const mirror = await debianMirror();
    log(`building the lab guest image (recipe ${path.basename(dir)}): debootstrap ${RECIPE.suite} from ${mirror}`);
    const code = await runStreaming('debootstrap', [
      `--variant=${RECIPE.variant}`, `--include=${RECIPE.packages.join(',')}`, RECIPE.suite, rootfs, mirror,
    ], (line) => {
      // Phases and problems only: debootstrap prints a line per package otherwise.
      if (/^[EW]:/.test(line) || /^I: (Retrieving Release|Installing core|Unpacking required|Configuring required|Unpacking the base|Configuring the base|Base system)/.test(line)) log(`  ${line}`);
    });
    if (code !== 0) throw new Error(`debootstrap exited ${code}; see ${path.join(rootfs, 'debootstrap', 'debootstrap.log')}`);
    const debootstrapSeconds = (Date.now() - started) / 1000;

    for (const [file, { mode, text }] of Object.entries(RECIPE.files)) {
      const target = path.join(rootfs, file);
      await mkdir(path.dirname(target), { recursive: true });
      // Never write through a symlink: an absolute one would point into the host.
      await rm(target, { force: true });
      await writeFile(target, text);
      await chmod(target, mode);
    }
    for (const [link, target] of Object.entries(RECIPE.symlinks)) {
      const at = path.join(rootfs, link);
      await mkdir(path.dirname(at), { recursive: true });
      await rm(at, { force: true });
      await symlink(target, at);
    }
    const boot = await readdir(path.join(rootfs, 'boot'));
    const kernel = boot.filter((f) => f.startsWith('vmlinuz-')).sort().pop();
    const initrd = boot.filter((f) => f.startsWith('initrd.img-')).sort().pop();
    if (!kernel || !initrd) throw new Error(`no kernel or initrd in ${rootfs}/boot: ${boot.join(' ')}`);
    await copyFile(path.join(rootfs, 'boot', kernel), path.join(work, 'vmlinuz'));
    await copyFile(path.join(rootfs, 'boot', initrd), path.join(work, 'initrd.img'));
    await must('mkfs.ext4', ['-q', '-F', '-L', 'sgw-lab', '-d', rootfs, path.join(work, 'rootfs.img'), RECIPE.imageSize], { timeoutMs: 600_000 });
    await rm(rootfs, { recursive: true, force: true });
    const seconds = Math.round((Date.now() - started) / 100) / 10;
    await writeFile(path.join(work, 'recipe.json'), `${JSON.stringify(RECIPE, null, 2)}\n`);
    await writeFile(path.join(work, 'build.json'), `${JSON.stringify({ seconds, debootstrapSeconds, kernel, mirror, builtAt: new Date().toISOString() }, null, 2)}\n`);
    await rename(work, dir);
    log(`built the lab guest image in ${seconds} s (debootstrap ${debootstrapSeconds.toFixed(1)} s): ${dir}`);
    const image = await loadEntry(dir);
    if (!image) throw new Error(`${dir} is incomplete right after its build`);
    return { ...image, built: true };
  } catch (err) {
    await rm(work, { recursive: true, force: true });
    throw err;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const image = await guestImage();
  console.log(image.built
    ? `guest image built in ${image.buildSeconds} s: ${image.dir}`
    : `guest image cached (built in ${image.buildSeconds} s): ${image.dir}`);
}
