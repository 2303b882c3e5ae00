import { SgwError } from '../../errors.js';
import type { ObjectStore } from '../backends/object-store.js';
import type { Catalog } from '../catalog/catalog.js';
import { attributesFromMetadata, shareDefaults, type AttributeDefaults, type FileAttributes, type FileKind } from './file-attributes.js';
import type { ShareSettings } from './share-settings.js';

export interface NamespaceEntry {
  ino: number;
  name: string;
  attrs: FileAttributes;
}

interface Listed {
  ino: number;
  kind: FileKind;
}

interface Timed<T> {
  value: T;
  fetchedAt: number;
}

export interface ShareNamespaceOptions {
  shareId: string;
  settings: ShareSettings;
  /** The share's bucket with keys relative to its prefix: a file's key is its path. */
  store: ObjectStore;
  catalog: Catalog;
  /** When the share was created: the times of directories that no object stands for. */
  createdAt: Date;
  /** Directory listings and attributes kept in memory, at most (the least recently used go first). */
  maxCached?: number;
}

/** Requests a directory listing makes at once to fetch its entries' metadata. */
const HEAD_PARALLELISM = 16;
const DEFAULT_MAX_CACHED = 10_000;

/**
 * A file share as a tree of inodes over its bucket: one object is one file, its key the path; a `dir/` marker
 * object or any key below a prefix makes a directory. Listings and attributes are kept for the share's cache stale
 * timeout (0: until refresh), as AWS's file gateway keeps them, so browsing costs the bucket a listing per directory
 * and a HEAD per entry once.
 */
export class ShareNamespace {
  private readonly listings = new Map<number, Timed<Map<string, Listed>>>();
  private readonly attributes = new Map<number, Timed<FileAttributes>>();
  private readonly defaults: AttributeDefaults;

  constructor(private readonly o: ShareNamespaceOptions) {
    this.defaults = shareDefaults(o.settings);
  }

  async getattr(ino: number): Promise<FileAttributes> {
    const cached = this.fresh(this.attributes, ino);
    if (cached) return cached;
    const { path, kind } = this.inode(ino);
    const attrs = kind === 'dir' ? await this.directoryAttributes(path) : await this.fileAttributes(path);
    if (!attrs) throw new SgwError('SGW_NOT_FOUND', `${path} is no longer in the bucket`);
    this.remember(this.attributes, ino, attrs);
    return attrs;
  }

  async lookup(dirIno: number, name: string): Promise<NamespaceEntry> {
    const entry = (await this.listing(dirIno)).get(name);
    if (!entry) throw new SgwError('SGW_NOT_FOUND', `no ${name} in this directory`);
    return { ino: entry.ino, name, attrs: await this.getattr(entry.ino) };
  }

  /** The directory's entries in name order, each with its inode and attributes. */
  async readdir(dirIno: number): Promise<NamespaceEntry[]> {
    const listed = [...(await this.listing(dirIno)).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const entries: NamespaceEntry[] = [];
    for (let i = 0; i < listed.length; i += HEAD_PARALLELISM) {
      entries.push(...await Promise.all(listed.slice(i, i + HEAD_PARALLELISM).map(async ([name, { ino }]) => ({ ino, name, attrs: await this.getattr(ino) }))));
    }
    return entries;
  }

  /** Up to `length` bytes from `offset`; eof when they reach the end of the file. */
  async read(ino: number, offset: number, length: number): Promise<{ data: Buffer; eof: boolean }> {
    const { path, kind } = this.inode(ino);
    if (kind === 'dir') throw new SgwError('SGW_IS_A_DIRECTORY', `${path} is a directory`);
    const size = (await this.getattr(ino)).size;
    if (length === 0 || offset >= size) return { data: Buffer.alloc(0), eof: offset >= size };
    const end = Math.min(offset + length, size) - 1;
    const got = await this.o.store.get(path, { start: offset, end }).catch((err: unknown) => {
      if (err instanceof SgwError && err.code === 'SGW_OBJECT_NOT_FOUND') {
        this.attributes.delete(ino);
        throw new SgwError('SGW_NOT_FOUND', `${path} is no longer in the bucket`);
      }
      throw err;
    });
    return { data: got.body, eof: offset + got.body.length >= got.size };
  }

  /** The directory an inode is in (the root is its own parent). */
  parentOf(ino: number): number {
    return this.inode(ino).parent;
  }

  /** An inode's name in its directory, also once it is gone from the bucket; undefined for one never given. */
  nameOf(ino: number): string | undefined {
    const path = this.o.catalog.inode(this.o.shareId, ino)?.path;
    return path?.slice(path.lastIndexOf('/') + 1);
  }

  /** Forgets every listing and attribute fetched, so that the bucket is read again (sgw share refresh). */
  refresh(): void {
    this.listings.clear();
    this.attributes.clear();
  }

  private inode(ino: number): { path: string; parent: number; kind: FileKind } {
    const inode = this.o.catalog.inode(this.o.shareId, ino);
    if (!inode) throw new SgwError('SGW_NOT_FOUND', `inode ${ino} is not in share ${this.o.shareId}`);
    return inode;
  }

  private async listing(dirIno: number): Promise<Map<string, Listed>> {
    const cached = this.fresh(this.listings, dirIno);
    if (cached) return cached;
    const { path, kind } = this.inode(dirIno);
    if (kind !== 'dir') throw new SgwError('SGW_NOT_A_DIRECTORY', `${path} is not a directory`);
    const prefix = path === '' ? '' : `${path}/`;
    const found = new Map<string, FileKind>();
    let token: string | undefined;
    do {
      const page = await this.o.store.list({ prefix, delimiter: '/', ...(token ? { continuationToken: token } : {}) });
      for (const object of page.objects) {
        const name = object.key.slice(prefix.length);
        if (usableName(name)) found.set(name, 'file');
      }
      // A name that is both an object and a prefix shows as the directory: the files under it stay reachable.
      for (const common of page.commonPrefixes) {
        const name = common.slice(prefix.length, -1);
        if (usableName(name)) found.set(name, 'dir');
      }
      token = page.nextContinuationToken;
    } while (token);
    // A directory that no object stands for any more is gone, unless it is the root.
    if (found.size === 0 && path !== '' && !(await this.directoryAttributes(path))) {
      throw new SgwError('SGW_NOT_FOUND', `${path} is no longer in the bucket`);
    }
    const inos = this.o.catalog.childInodes(this.o.shareId, dirIno, [...found].map(([name, kind]) => ({ name, kind })));
    const entries = new Map([...found].map(([name, kind], i): [string, Listed] => [name, { ino: inos[i]!, kind }]));
    this.remember(this.listings, dirIno, entries);
    return entries;
  }

  private async fileAttributes(path: string): Promise<FileAttributes | undefined> {
    const info = await this.o.store.head(path);
    return info ? attributesFromMetadata('file', info.size, info.lastModified, info.metadata, this.defaults) : undefined;
  }

  /** A directory's marker object gives its attributes; a prefix with keys under it is one with the defaults. */
  private async directoryAttributes(path: string): Promise<FileAttributes | undefined> {
    const dir = (lastModified: Date, metadata: Record<string, string>) => attributesFromMetadata('dir', 4096, lastModified, metadata, this.defaults);
    if (path === '') return dir(this.o.createdAt, {});
    const marker = await this.o.store.head(`${path}/`);
    if (marker) return dir(marker.lastModified, marker.metadata);
    const below = await this.o.store.list({ prefix: `${path}/`, maxKeys: 1 });
    return below.objects.length > 0 || below.commonPrefixes.length > 0 ? dir(this.o.createdAt, {}) : undefined;
  }

  private fresh<T>(map: Map<number, Timed<T>>, ino: number): T | undefined {
    const hit = map.get(ino);
    if (!hit) return undefined;
    const timeout = this.o.settings.cacheStaleTimeoutSeconds * 1000;
    if (timeout > 0 && Date.now() - hit.fetchedAt >= timeout) {
      map.delete(ino);
      return undefined;
    }
    // Map order is insertion order: moving a hit to the end keeps the least recently used first.
    map.delete(ino);
    map.set(ino, hit);
    return hit.value;
  }

  private remember<T>(map: Map<number, Timed<T>>, ino: number, value: T): void {
    map.delete(ino);
    map.set(ino, { value, fetchedAt: Date.now() });
    if (map.size > (this.o.maxCached ?? DEFAULT_MAX_CACHED)) map.delete(map.keys().next().value!);
  }
}

/** Names a file system can show: keys with empty segments ("a//b") or dot names have no place in a tree. */
function usableName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..';
}
