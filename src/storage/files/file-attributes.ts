/**
 * POSIX attributes of files and directories kept in object metadata (design.md §3): sgw's own keys
 * (`file-permissions` as an octal st_mode, `file-owner`, `file-group`, `file-mtime`/`file-atime` as
 * `<nanoseconds>ns`, as AWS's file gateway writes them), else s3fs's (`mode` as a decimal st_mode, `uid`, `gid`,
 * `mtime` in seconds) and rclone's (`mtime` in fractional seconds), else the share's defaults.
 */
export type FileKind = 'file' | 'dir';

/** A share's root directory, as NFS clients see it (inode 1 has no row in the catalog). */
export const ROOT_INO = 1;

export interface FileAttributes {
  kind: FileKind;
  /** Permission bits only (07777): the kind says the rest. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeNs: bigint;
  atimeNs: bigint;
}

export interface AttributeDefaults {
  fileMode: number;
  dirMode: number;
  uid: number;
  gid: number;
}

const PERMISSION_BITS = 0o7777;
const MAX_ID = 4294967294;

export function attributesFromMetadata(
  kind: FileKind, size: number, lastModified: Date, metadata: Record<string, string>, defaults: AttributeDefaults,
): FileAttributes {
  const m = lowerKeys(metadata);
  const mode = parseMode(m['file-permissions'], 8) ?? parseMode(m.mode, 10) ?? (kind === 'dir' ? defaults.dirMode : defaults.fileMode);
  const mtimeNs = parseNanoseconds(m['file-mtime']) ?? parseSeconds(m.mtime) ?? BigInt(lastModified.getTime()) * 1_000_000n;
  return {
    kind, size, mode,
    uid: parseId(m['file-owner']) ?? parseId(m.uid) ?? defaults.uid,
    gid: parseId(m['file-group']) ?? parseId(m.gid) ?? defaults.gid,
    mtimeNs,
    atimeNs: parseNanoseconds(m['file-atime']) ?? mtimeNs,
  };
}

/** The metadata sgw writes with an object, so that any gateway (or AWS's) reads the same attributes back. */
export function metadataFromAttributes(a: FileAttributes): Record<string, string> {
  const type = a.kind === 'dir' ? 0o040000 : 0o100000;
  return {
    'file-permissions': `0${(type | (a.mode & PERMISSION_BITS)).toString(8)}`,
    'file-owner': String(a.uid),
    'file-group': String(a.gid),
    'file-mtime': `${a.mtimeNs}ns`,
    'file-atime': `${a.atimeNs}ns`,
    'user-agent': 'sgw',
  };
}

// S3 returns user metadata keys in lower case, other stores as they were written.
function lowerKeys(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k.toLowerCase(), v]));
}

function parseMode(text: string | undefined, radix: 8 | 10): number | undefined {
  if (text === undefined || !(radix === 8 ? /^[0-7]{1,7}$/ : /^\d{1,7}$/).test(text.trim())) return undefined;
  return Number.parseInt(text.trim(), radix) & PERMISSION_BITS;
}

function parseId(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,10}$/.test(text.trim())) return undefined;
  const id = Number(text.trim());
  return id <= MAX_ID ? id : undefined;
}

function parseNanoseconds(text: string | undefined): bigint | undefined {
  const match = text === undefined ? null : /^(\d{1,20})ns$/.exec(text.trim());
  return match ? BigInt(match[1]!) : undefined;
}

/** Whole or fractional seconds since the epoch, to the nanosecond without going through a float. */
function parseSeconds(text: string | undefined): bigint | undefined {
  const match = text === undefined ? null : /^(\d{1,12})(?:\.(\d{1,9}))?$/.exec(text.trim());
  if (!match) return undefined;
  return BigInt(match[1]!) * 1_000_000_000n + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/** A share's defaults as numbers. */
export function shareDefaults(s: { fileMode: string; dirMode: string; ownerId: number; groupId: number }): AttributeDefaults {
  return { fileMode: Number.parseInt(s.fileMode, 8), dirMode: Number.parseInt(s.dirMode, 8), uid: s.ownerId, gid: s.groupId };
}
