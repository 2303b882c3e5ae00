/**
 * How the local store lays keys out as paths, so that "a", "a/" and "a/b" can all exist at once and any UTF-8 key
 * (with "..", "%", spaces, very long segments) maps to safe file names.
 *
 * The key's bytes are split at "/" into segments. A segment is stored as a file (last segment, suffix ".o") or a
 * directory (suffix ".d"). A segment of SEGMENT_PIECE_BYTES or more is cut into pieces of exactly that many bytes,
 * each a directory with suffix ".c" (continuation), followed by the remaining, possibly empty, final piece: that
 * keeps every name under the 255-byte limit of file systems. In a piece, bytes other than [A-Za-z0-9._~-] are written
 * as %XX, so a name never contains "/" and never is "." or ".." (it always has a suffix).
 *
 * "a" -> "a.o", "a/" -> "a.d/.o", "a/b" -> "a.d/b.o".
 */

export type EntryKind = 'object' | 'segment' | 'continuation';

const SUFFIX: Record<EntryKind, string> = { object: '.o', segment: '.d', continuation: '.c' };
const KIND_OF_SUFFIX = new Map(Object.entries(SUFFIX).map(([kind, suffix]) => [suffix, kind as EntryKind]));

/** 84 bytes escape to at most 252 characters, which with a suffix fits a 255-byte file name. */
const SEGMENT_PIECE_BYTES = 84;

const SLASH = 0x2f;

function isSafeByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
    || b === 0x2e || b === 0x5f || b === 0x7e || b === 0x2d;
}

function escapePiece(piece: Buffer): string {
  let out = '';
  for (const b of piece) out += isSafeByte(b) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** The bytes a piece name stands for, or null for a name this layout never produces (foreign or temporary files). */
function unescapePiece(text: string): Buffer | null {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return null;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (isSafeByte(c)) {
      bytes.push(c);
    } else {
      return null;
    }
  }
  return Buffer.from(bytes);
}

function splitSegments(key: Buffer): Buffer[] {
  const segments: Buffer[] = [];
  let start = 0;
  for (let slash = key.indexOf(SLASH); slash !== -1; slash = key.indexOf(SLASH, start)) {
    segments.push(key.subarray(start, slash));
    start = slash + 1;
  }
  segments.push(key.subarray(start));
  return segments;
}

/** The path of a key's file relative to the store's root, with "/" separators. */
export function keyToRelativePath(key: string): string {
  const segments = splitSegments(Buffer.from(key, 'utf8'));
  const names: string[] = [];
  segments.forEach((segment, i) => {
    let rest = segment;
    while (rest.length >= SEGMENT_PIECE_BYTES) {
      names.push(escapePiece(rest.subarray(0, SEGMENT_PIECE_BYTES)) + SUFFIX.continuation);
      rest = rest.subarray(SEGMENT_PIECE_BYTES);
    }
    names.push(escapePiece(rest) + (i === segments.length - 1 ? SUFFIX.object : SUFFIX.segment));
  });
  return names.join('/');
}

export interface ParsedEntry {
  kind: EntryKind;
  /** The key bytes this entry adds to its directory's: a segment directory's include the "/" after it. */
  keyBytes: Buffer;
}

export function parseEntryName(name: string): ParsedEntry | null {
  const kind = KIND_OF_SUFFIX.get(name.slice(-2));
  if (kind === undefined) return null;
  const piece = unescapePiece(name.slice(0, -2));
  if (piece === null || piece.includes(SLASH)) return null;
  if (kind === 'continuation' && piece.length !== SEGMENT_PIECE_BYTES) return null;
  if (kind !== 'continuation' && piece.length >= SEGMENT_PIECE_BYTES) return null;
  return { kind, keyBytes: kind === 'segment' ? Buffer.concat([piece, Buffer.from('/')]) : piece };
}
