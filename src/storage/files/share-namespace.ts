import type { Logger } from 'pino';
import type { IoCounters } from '../../rpc/api.js';
import { countedRead, countedWrite } from '../io-counters.js';
import { SgwError } from '../../errors.js';
import { MAX_KEY_BYTES, type ObjectStore, type RestoreOptions } from '../backends/object-store.js';
import type { Catalog, ShareRename } from '../catalog/catalog.js';
import {
  attributesFromMetadata, metadataFromAttributes, ROOT_INO, shareDefaults, type AttributeDefaults, type FileAttributes, type FileKind,
} from './file-attributes.js';
import { FileCache } from './file-cache.js';
import { LocalFiles, nowNs } from './local-files.js';
import { copyObject } from './object-copy.js';
import type { ShareSettings } from './share-settings.js';
import { ShareUploader } from './share-uploader.js';

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

/** What SETATTR may change; a size truncates or extends. */
export type AttributeChange = Partial<Pick<FileAttributes, 'mode' | 'uid' | 'gid' | 'mtimeNs' | 'atimeNs' | 'size'>>;

/** NFS's CREATE modes: replace nothing (guarded), open what is there (unchecked), or once per verifier (exclusive). */
export type CreateHow = { mode: 'unchecked' | 'guarded'; attrs: AttributeChange } | { mode: 'exclusive'; verifier: string };

export interface ShareNamespaceOptions {
  shareId: string;
  /** The share's current settings (they change under a running share). */
  settings: () => ShareSettings;
  /** The share's bucket with keys relative to its prefix: a file's key is its path. */
  store: ObjectStore;
  catalog: Catalog;
  /** When the share was created: the times of directories that no object stands for. */
  createdAt: Date;
  /** Directory listings and attributes kept in memory, at most (the least recently used go first). */
  maxCached?: number;
  /** The share's cache files. */
  cacheDir: string;
  /** Bytes of clean files the cache keeps; beyond, the least recently used go. */
  cacheBytes: number;
  /** Where reads and writes of clients are counted. */
  io: IoCounters;
  log: Logger;
}

/** Requests a directory listing makes at once to fetch its entries' metadata. */
const HEAD_PARALLELISM = 16;
const DEFAULT_MAX_CACHED = 10_000;

/**
 * A file share as a tree of inodes over its bucket: one object is one file, its key the path; a `dir/` marker
 * object or any key below a prefix makes a directory. Listings and attributes are kept for the share's cache stale
 * timeout (0: until refresh), as AWS's file gateway keeps them, so browsing costs the bucket a listing per directory
 * and a HEAD per entry once.
 *
 * Files are written into local cache files and uploaded later (ShareUploader); until then their local state is
 * what the share shows. Directories and removals go to the bucket at once, renames by server-side copy.
 */
export class ShareNamespace {
  private readonly listings = new Map<number, Timed<Map<string, Listed>>>();
  private readonly attributes = new Map<number, Timed<FileAttributes>>();
  /**
   * When directories last gained or lost an entry here. No object records it, but clients judge by a directory's
   * mtime whether their cached listing of it still holds.
   */
  private readonly dirTimes = new Map<number, bigint>();
  private files!: LocalFiles;
  private cache!: FileCache;
  private uploader!: ShareUploader;

  private constructor(private readonly o: ShareNamespaceOptions) {}

  /** Opens the share's local files, finishes directory renames a stop interrupted and starts uploading. */
  static async open(o: ShareNamespaceOptions): Promise<ShareNamespace> {
    const ns = new ShareNamespace(o);
    const cache = await FileCache.open(o.cacheDir);
    ns.cache = cache;
    ns.files = await LocalFiles.open({
      shareId: o.shareId, catalog: o.catalog, cache, cacheBytes: o.cacheBytes,
      fetch: async (ino, start, end) => (await o.store.get(ns.inode(ino).path, { start, end: end - 1 })).body,
    });
    ns.uploader = new ShareUploader({
      files: ns.files, cache, store: o.store, settings: o.settings, log: o.log,
      pathOf: (ino) => o.catalog.inode(o.shareId, ino)?.path,
      shareLock: (fn) => ns.files.locks.shared('share', fn),
    });
    for (const rename of o.catalog.shareRenames(o.shareId)) await ns.finishRename(rename);
    ns.uploader.start();
    return ns;
  }

  private get defaults(): AttributeDefaults {
    return shareDefaults(this.o.settings());
  }

  async getattr(ino: number): Promise<FileAttributes> {
    const local = this.files.get(ino);
    if (local) return local.attrs;
    let attrs = this.fresh(this.attributes, ino);
    if (!attrs) {
      const { path, kind } = this.inode(ino);
      attrs = kind === 'dir' ? await this.directoryAttributes(path) : await this.fileAttributes(path);
      if (!attrs) throw new SgwError('SGW_NOT_FOUND', `${path} is no longer in the bucket`);
      this.remember(this.attributes, ino, attrs);
    }
    const touched = this.dirTimes.get(ino);
    return touched !== undefined && touched > attrs.mtimeNs ? { ...attrs, mtimeNs: touched } : attrs;
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
  read(ino: number, offset: number, length: number): Promise<{ data: Buffer; eof: boolean }> {
    return countedRead(this.o.io, (r) => r.data.length, () => this.readRange(ino, offset, length));
  }

  private async readRange(ino: number, offset: number, length: number): Promise<{ data: Buffer; eof: boolean }> {
    const { path, kind } = this.inode(ino);
    if (kind === 'dir') throw new SgwError('SGW_IS_A_DIRECTORY', `${path} is a directory`);
    const file = this.files.get(ino) ?? this.files.adopt(ino, await this.getattr(ino));
    const data = await this.files.read(ino, offset, length).catch((err: unknown) => {
      if (err instanceof SgwError && err.code === 'SGW_OBJECT_NOT_FOUND') {
        this.attributes.delete(ino);
        void this.files.drop(ino);
        throw new SgwError('SGW_NOT_FOUND', `${path} is no longer in the bucket`);
      }
      throw err;
    });
    return { data, eof: offset + data.length >= file.attrs.size };
  }

  /**
   * A new file, empty and only local until its first upload, or for an unchecked create the file already there.
   * An exclusive create sent again with the same verifier gets the file it made.
   */
  async create(dirIno: number, name: string, how: CreateHow, owner: { uid: number; gid: number }): Promise<NamespaceEntry> {
    const existing = await this.find(dirIno, name);
    if (existing) {
      const attrs = await this.getattr(existing.ino);
      if (how.mode === 'exclusive' && existing.kind === 'file' && this.files.get(existing.ino)?.verifier === how.verifier) return { ino: existing.ino, name, attrs };
      if (how.mode !== 'unchecked' || existing.kind === 'dir') throw new SgwError('SGW_ALREADY_EXISTS', `${name} exists`);
      return { ino: existing.ino, name, attrs: how.attrs.size === undefined ? attrs : await this.setattr(existing.ino, { size: how.attrs.size }) };
    }
    const path = this.childPath(dirIno, name);
    const now = nowNs();
    const requested = how.mode === 'exclusive' ? {} : how.attrs;
    const attrs: FileAttributes = {
      kind: 'file', mode: this.defaults.fileMode, ...owner, size: 0, mtimeNs: now, atimeNs: now, ...requested,
    };
    const [ino] = this.o.catalog.childInodes(this.o.shareId, dirIno, [{ name, kind: 'file' }]);
    await this.files.create(ino!, attrs, how.mode === 'exclusive' ? how.verifier : undefined);
    if (requested.size) await this.files.setAttributes(ino!, { size: requested.size });
    this.listed(dirIno, name, { ino: ino!, kind: 'file' });
    this.o.log.debug({ path }, 'file created');
    return { ino: ino!, name, attrs: this.files.get(ino!)!.attrs };
  }

  /** A directory, made in the bucket at once as a `dir/` marker object carrying its attributes. */
  async mkdir(dirIno: number, name: string, change: AttributeChange, owner: { uid: number; gid: number }): Promise<NamespaceEntry> {
    if (await this.find(dirIno, name)) throw new SgwError('SGW_ALREADY_EXISTS', `${name} exists`);
    const path = this.childPath(dirIno, name);
    const now = nowNs();
    const attrs: FileAttributes = { kind: 'dir', mode: this.defaults.dirMode, ...owner, mtimeNs: now, atimeNs: now, ...change, size: 4096 };
    await this.o.store.put(`${path}/`, Buffer.alloc(0), { metadata: metadataFromAttributes(attrs) });
    const [ino] = this.o.catalog.childInodes(this.o.shareId, dirIno, [{ name, kind: 'dir' }]);
    this.remember(this.attributes, ino!, attrs);
    this.remember(this.listings, ino!, new Map());
    this.listed(dirIno, name, { ino: ino!, kind: 'dir' });
    return { ino: ino!, name, attrs };
  }

  async remove(dirIno: number, name: string): Promise<void> {
    const entry = await this.mustFind(dirIno, name);
    if (entry.kind === 'dir') throw new SgwError('SGW_IS_A_DIRECTORY', `${name} is a directory`);
    const path = this.childPath(dirIno, name);
    await this.files.locks.exclusive(`op:${entry.ino}`, async () => {
      if (this.files.get(entry.ino)?.stored !== false) await this.o.store.delete(path);
      await this.forget(dirIno, name, entry.ino);
    });
  }

  async rmdir(dirIno: number, name: string): Promise<void> {
    const entry = await this.mustFind(dirIno, name);
    if (entry.kind !== 'dir') throw new SgwError('SGW_NOT_A_DIRECTORY', `${name} is not a directory`);
    await this.requireEmpty(entry.ino, name);
    await this.o.store.delete(`${this.childPath(dirIno, name)}/`);
    await this.forget(dirIno, name, entry.ino);
  }

  /**
   * Moves a file by copying its object (if the bucket has one yet) and deleting the old key, a directory by
   * copying every object under it; journaled, so that a restart finishes the move. The inode keeps its number, so
   * file handles still work.
   */
  async rename(fromDir: number, fromName: string, toDir: number, toName: string): Promise<void> {
    const source = await this.mustFind(fromDir, fromName);
    const target = await this.find(toDir, toName);
    if (target?.ino === source.ino) return;
    const toPath = this.childPath(toDir, toName);
    const fromPath = this.childPath(fromDir, fromName);
    if (target) {
      if (source.kind === 'file' && target.kind === 'dir') throw new SgwError('SGW_IS_A_DIRECTORY', `${toName} is a directory`);
      if (source.kind === 'dir' && target.kind === 'file') throw new SgwError('SGW_NOT_A_DIRECTORY', `${toName} is not a directory`);
      if (target.kind === 'dir') await this.requireEmpty(target.ino, toName);
    }
    if (source.kind === 'dir' && `${toPath}/`.startsWith(`${fromPath}/`)) throw new SgwError('SGW_INVALID_ARGUMENT', 'a directory cannot move into itself');
    const move = async () => {
      if (target?.kind === 'dir') await this.o.store.delete(`${toPath}/`);
      // A file not uploaded yet leaves the replaced file's object standing in for it until its upload.
      else if (target && this.files.get(source.ino)?.stored === false) await this.o.store.delete(toPath);
      if (target) await this.dropTarget(target.ino);
      const rename: ShareRename = { ino: source.ino, fromPath, toParent: toDir, toName };
      this.o.catalog.beginShareRename(this.o.shareId, rename);
      await this.finishRename(rename);
    };
    // A file waits for its own upload; a directory for every upload, since any of them may be below it.
    if (source.kind === 'file') await this.files.locks.shared('share', () => this.files.locks.exclusive(`op:${source.ino}`, move));
    else await this.files.locks.exclusive('share', move);
    this.unlisted(fromDir, fromName);
    if (target) this.unlisted(toDir, toName);
    this.listed(toDir, toName, source);
  }

  /** Changes a file's attributes (kept locally until its upload) or a directory's (its marker, at once). */
  async setattr(ino: number, change: AttributeChange): Promise<FileAttributes> {
    const current = await this.getattr(ino);
    if (current.kind === 'dir') {
      const { size: _size, ...rest } = change;
      const attrs = { ...current, ...rest };
      if (ino !== ROOT_INO) await this.o.store.put(`${this.inode(ino).path}/`, Buffer.alloc(0), { metadata: metadataFromAttributes(attrs) });
      this.remember(this.attributes, ino, attrs);
      return attrs;
    }
    this.files.get(ino) ?? this.files.adopt(ino, current);
    return this.files.setAttributes(ino, change);
  }

  /** Writes into the file's cache file; `stable` makes it durable before returning (FILE_SYNC, DATA_SYNC). */
  write(ino: number, offset: number, data: Buffer, stable: boolean): Promise<FileAttributes> {
    return countedWrite(this.o.io, data.length, () => this.writeRange(ino, offset, data, stable));
  }

  private async writeRange(ino: number, offset: number, data: Buffer, stable: boolean): Promise<FileAttributes> {
    const current = await this.getattr(ino);
    if (current.kind === 'dir') throw new SgwError('SGW_IS_A_DIRECTORY', 'a directory');
    this.files.get(ino) ?? this.files.adopt(ino, current);
    const attrs = await this.files.write(ino, offset, data);
    if (stable) await this.files.save(ino);
    return attrs;
  }

  /** Makes every write to the file durable (NFS COMMIT). */
  async commit(ino: number): Promise<FileAttributes> {
    if (this.files.get(ino)) return (await this.files.save(ino)).attrs;
    return this.getattr(ino);
  }

  /** Resolves once everything changed before the call is in the bucket. */
  sync(): Promise<void> {
    return this.uploader.sync();
  }

  backlog(): { files: number; bytes: number } {
    return this.uploader.backlog();
  }

  async close(): Promise<void> {
    await this.uploader.close();
    await this.files.close();
  }

  /** Deletes the share's cache files; the namespace is closed. */
  async destroy(): Promise<void> {
    await this.cache.destroy();
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

  /** Forgets every listing, attribute and clean copy fetched, so that the bucket is read again (sgw share refresh). */
  async refresh(): Promise<void> {
    this.listings.clear();
    this.attributes.clear();
    await this.files.dropClean();
  }

  /**
   * Lists folders again now (sgw share refresh --folder): their listings, the attributes of their entries and the
   * clean copies of their files are dropped and fetched anew; with `recursive`, every folder below too.
   */
  async refreshFolders(folders: string[], recursive: boolean): Promise<void> {
    for (const folder of folders) {
      const top = await this.resolve(folder);
      if (top.kind !== 'dir') throw new SgwError('SGW_NOT_A_DIRECTORY', `${folder} is not a folder of the share`);
      const pending = [top.ino];
      while (pending.length > 0) {
        const dirIno = pending.pop()!;
        const before = this.listings.get(dirIno)?.value;
        this.listings.delete(dirIno);
        for (const { ino } of before?.values() ?? []) {
          this.attributes.delete(ino);
          const local = this.files.get(ino);
          if (local && local.generation === local.uploaded && local.stored) await this.files.drop(ino);
        }
        for (const [, entry] of await this.listing(dirIno)) if (recursive && entry.kind === 'dir') pending.push(entry.ino);
      }
    }
  }

  /** Starts bringing back a file whose object is in an archive storage class; reads answer "try later" until then. */
  async restore(path: string, opts: RestoreOptions): Promise<string> {
    const { ino, kind } = await this.resolve(path);
    if (kind === 'dir') throw new SgwError('SGW_IS_A_DIRECTORY', `${path} is a folder; restore files one by one`);
    const key = this.inode(ino).path;
    await this.o.store.restore(key, opts);
    return key;
  }

  /** The inode at a path of the share ('/' or '' is the root). */
  async resolve(path: string): Promise<Listed> {
    let at: Listed = { ino: ROOT_INO, kind: 'dir' };
    for (const name of path.split('/').filter((n) => n !== '')) {
      if (at.kind !== 'dir') throw new SgwError('SGW_NOT_FOUND', `${path} is not in the share`);
      const next = await this.find(at.ino, name).catch(() => undefined);
      if (!next) throw new SgwError('SGW_NOT_FOUND', `${path} is not in the share`);
      at = next;
    }
    return at;
  }

  private async find(dirIno: number, name: string): Promise<Listed | undefined> {
    return (await this.listing(dirIno)).get(name);
  }

  private async mustFind(dirIno: number, name: string): Promise<Listed> {
    const found = await this.find(dirIno, name);
    if (!found) throw new SgwError('SGW_NOT_FOUND', `no ${name} in this directory`);
    return found;
  }

  /** The key of a new name in a directory, refused when S3 could not hold it. */
  private childPath(dirIno: number, name: string): string {
    const dir = this.inode(dirIno).path;
    const path = dir === '' ? name : `${dir}/${name}`;
    if (Buffer.byteLength(this.o.settings().prefix + path) + 1 > MAX_KEY_BYTES) throw new SgwError('SGW_INVALID_ARGUMENT', `${name}: the path would be longer than S3's 1024-byte keys`);
    return path;
  }

  private async requireEmpty(dirIno: number, name: string): Promise<void> {
    this.listings.delete(dirIno);
    if ((await this.listing(dirIno).catch(() => new Map())).size > 0) throw new SgwError('SGW_NOT_EMPTY', `${name} is not empty`);
  }

  /** A name replaced by a rename: its local state and inode go. */
  private async dropTarget(ino: number): Promise<void> {
    if (this.files.get(ino)) await this.files.drop(ino);
    this.attributes.delete(ino);
    this.listings.delete(ino);
  }

  private async forget(dirIno: number, name: string, ino: number): Promise<void> {
    if (this.files.get(ino)) await this.files.drop(ino);
    this.o.catalog.removeInode(this.o.shareId, ino);
    this.attributes.delete(ino);
    this.listings.delete(ino);
    this.unlisted(dirIno, name);
  }

  /**
   * Moves a journaled rename's objects: a file's object, or every object under a directory, is copied to the new
   * path and the old ones deleted; then the inode is renamed and the journal entry goes, in one transaction. Run
   * again after a crash, it picks up where it stopped (what was moved is no longer under the old path).
   */
  private async finishRename(r: ShareRename): Promise<void> {
    const toPath = this.childPath(r.toParent, r.toName);
    const moved: string[] = [];
    const move = async (key: string, size: number, to: string) => {
      await copyObject(this.o.store, key, to, size, { storageClass: this.o.settings().storageClass });
      moved.push(key);
    };
    if (this.inode(r.ino).kind === 'file') {
      const object = await this.o.store.head(r.fromPath);
      if (object) await move(r.fromPath, object.size, toPath);
    } else {
      const from = `${r.fromPath}/`;
      let token: string | undefined;
      do {
        const page = await this.o.store.list({ prefix: from, ...(token ? { continuationToken: token } : {}) });
        for (const object of page.objects) await move(object.key, object.size, `${toPath}/${object.key.slice(from.length)}`);
        token = page.nextContinuationToken;
      } while (token);
    }
    for (const key of moved) await this.o.store.delete(key);
    this.o.catalog.moveInode(this.o.shareId, r.ino, r.toParent, r.toName);
    this.o.log.debug({ from: r.fromPath, to: toPath, objects: moved.length }, 'renamed');
  }

  /** Puts a name into a directory's listing, if that listing is held. */
  private listed(dirIno: number, name: string, entry: Listed): void {
    this.listings.get(dirIno)?.value.set(name, entry);
    this.touch(dirIno);
  }

  private unlisted(dirIno: number, name: string): void {
    this.listings.get(dirIno)?.value.delete(name);
    this.touch(dirIno);
  }

  /** A directory's entries changed: its mtime moves on, past any time it showed before. */
  private touch(dirIno: number): void {
    const last = this.dirTimes.get(dirIno) ?? 0n;
    const now = nowNs();
    this.dirTimes.set(dirIno, now > last ? now : last + 1n);
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
    // Files created here and not uploaded yet are only in the catalog.
    for (const local of this.o.catalog.localChildren(this.o.shareId, dirIno)) if (!found.has(local.name)) found.set(local.name, local.kind);
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
    const timeout = this.o.settings().cacheStaleTimeoutSeconds * 1000;
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
