import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEntryName, type EntryKind } from './local-key-path.js';

/**
 * S3 listing over the local store's directory tree, walked lazily in key order so that a page costs about what it
 * returns, not the size of the store.
 *
 * Within a directory, sorting entries by the key bytes they add (a file: its whole last piece; a directory: the
 * prefix shared by everything below it) is key order: no entry's prefix extends another's except where the shorter
 * is a file, whose one key precedes all longer ones.
 */

export interface ListQuery {
  prefix: string;
  delimiter?: string;
  /** Only entries after this key or common prefix (a continuation token). */
  after?: string;
  maxEntries: number;
}

export interface ListedEntries {
  keys: string[];
  commonPrefixes: string[];
  /** The last key or common prefix returned, when more follow it. */
  resumeAfter?: string;
}

interface WalkBounds {
  prefix: Buffer;
  after?: Buffer;
  /** With delimiter "/", a segment directory below the prefix is one common prefix: no need to descend. */
  collapseSegments: boolean;
}

interface Entry {
  name: string;
  kind: EntryKind;
  key: Buffer;
}

function startsWith(bytes: Buffer, prefix: Buffer): boolean {
  return bytes.length >= prefix.length && bytes.subarray(0, prefix.length).equals(prefix);
}

async function sortedEntries(dir: string, keyPrefix: Buffer): Promise<Entry[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    // A directory pruned by a concurrent delete holds nothing any more.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const entries: Entry[] = [];
  for (const name of names) {
    const parsed = parseEntryName(name);
    if (parsed !== null) entries.push({ name, kind: parsed.kind, key: Buffer.concat([keyPrefix, parsed.keyBytes]) });
  }
  return entries.sort((a, b) => Buffer.compare(a.key, b.key));
}

/** Whether a directory holds an object file anywhere below it (it may hold only leftovers of interrupted writes). */
async function holdsObject(dir: string): Promise<boolean> {
  for (const entry of await sortedEntries(dir, Buffer.alloc(0))) {
    if (entry.kind === 'object' || await holdsObject(join(dir, entry.name))) return true;
  }
  return false;
}

/** Keys in order; with collapseSegments, also the prefixes of segment directories passed over whole. */
async function* walk(dir: string, keyPrefix: Buffer, bounds: WalkBounds): AsyncGenerator<Buffer> {
  const { prefix, after } = bounds;
  for (const entry of await sortedEntries(dir, keyPrefix)) {
    if (entry.kind === 'object') {
      if (startsWith(entry.key, prefix) && (after === undefined || Buffer.compare(entry.key, after) > 0)) {
        yield entry.key;
      }
      continue;
    }
    const below = startsWith(entry.key, prefix);
    if (!below && !startsWith(prefix, entry.key)) continue;
    const wholeRangeBeforeAfter = after !== undefined && Buffer.compare(entry.key, after) < 0 && !startsWith(after, entry.key);
    if (wholeRangeBeforeAfter) continue;
    const path = join(dir, entry.name);
    if (bounds.collapseSegments && entry.kind === 'segment' && below && entry.key.length > prefix.length) {
      if (await holdsObject(path)) yield entry.key;
    } else {
      yield* walk(path, entry.key, bounds);
    }
  }
}

export async function listEntries(root: string, query: ListQuery): Promise<ListedEntries> {
  const prefix = Buffer.from(query.prefix, 'utf8');
  const after = query.after === undefined ? undefined : Buffer.from(query.after, 'utf8');
  const delimiter = query.delimiter ? Buffer.from(query.delimiter, 'utf8') : undefined;
  const result: ListedEntries = { keys: [], commonPrefixes: [] };
  let returned = 0;
  let last: Buffer | undefined;
  for await (const key of walk(root, Buffer.alloc(0), { prefix, after, collapseSegments: query.delimiter === '/' })) {
    const cut = delimiter === undefined ? -1 : key.indexOf(delimiter, prefix.length);
    const isPrefix = delimiter !== undefined && cut !== -1;
    const entry = isPrefix ? key.subarray(0, cut + delimiter.length) : key;
    if (after !== undefined && Buffer.compare(entry, after) <= 0) continue;
    if (isPrefix && last !== undefined && entry.equals(last)) continue;
    if (last !== undefined && returned === query.maxEntries) {
      result.resumeAfter = last.toString('utf8');
      return result;
    }
    (isPrefix ? result.commonPrefixes : result.keys).push(entry.toString('utf8'));
    returned++;
    last = entry;
  }
  return result;
}
