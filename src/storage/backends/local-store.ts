import { rmdir, unlink } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { BackendError, SgwError } from '../../errors.js';
import { ensureDirectory, syncDirectory } from './atomic-file.js';
import { singlePartEtag } from './local-etag.js';
import { keyToRelativePath } from './local-key-path.js';
import { listEntries } from './local-listing.js';
import { LocalUploads } from './local-multipart.js';
import { readObjectData, readObjectInfo, writeObjectFile, type ObjectHeader, type StoredObject } from './local-object-file.js';
import type {
  BackendDescription, ByteRange, CompletedPart, CopyOptions, GetResult, ListOptions, ListPage, ObjectInfo, ObjectStore,
  PutOptions, RestoreOptions,
} from './object-store.js';
import { KeyPrefix, checkRange, listPageSize } from './store-arguments.js';

export interface LocalStoreConfig {
  dir: string;
  prefix?: string;
}

/** Not a name the key layout produces, so staging never collides with an object. */
const UPLOADS_DIR = '.sgw-uploads';
/** A write racing a delete that prunes the directory it writes into is retried this often. */
const PRUNE_RACE_ATTEMPTS = 3;

function lowerCaseKeys(metadata: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k.toLowerCase(), v]));
}

/**
 * The `local` backend: objects as files under a directory, the store a gateway uses when it has no S3. Writes are
 * atomic (temporary file, fsync, rename, fsync of the directory); reads of a range read only that range.
 */
export class LocalObjectStore implements ObjectStore {
  private readonly root: string;
  private readonly prefix: KeyPrefix;
  private readonly uploads: LocalUploads;

  constructor(config: LocalStoreConfig) {
    this.root = resolve(config.dir);
    this.prefix = new KeyPrefix(config.prefix);
    this.uploads = new LocalUploads(join(this.root, UPLOADS_DIR));
  }

  async check(): Promise<void> {
    const probe = `.sgw-check/${randomUUID()}`;
    await this.put(probe, Buffer.from('sgw'));
    await this.delete(probe);
  }

  async put(key: string, body: Buffer, opts: PutOptions = {}): Promise<{ etag: string }> {
    const full = this.prefix.key(key);
    return this.run(`writing "${full}"`, async () => {
      const etag = singlePartEtag(body);
      await this.writeObject(full, this.header(etag, body.length, opts), () => [body]);
      return { etag };
    });
  }

  async get(key: string, range?: ByteRange): Promise<GetResult> {
    const full = this.prefix.key(key);
    if (range !== undefined) checkRange(range);
    return this.run(`reading "${full}"`, async () => {
      const found = await readObjectData(this.pathOf(full), full, range);
      if (found === null) throw notFound(full);
      const { header, body } = found;
      return { body, size: header.size, etag: header.etag, metadata: header.metadata };
    });
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const full = this.prefix.key(key);
    return this.run(`reading "${full}"`, async () => {
      const found = await readObjectInfo(this.pathOf(full));
      return found === null ? null : toObjectInfo(key, found);
    });
  }

  async delete(key: string): Promise<void> {
    const full = this.prefix.key(key);
    return this.run(`deleting "${full}"`, async () => {
      const path = this.pathOf(full);
      try {
        await unlink(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR') return;
        throw err;
      }
      await syncDirectory(dirname(path));
      await this.pruneEmptyDirectories(dirname(path));
    });
  }

  async list(opts: ListOptions = {}): Promise<ListPage> {
    const maxEntries = listPageSize(opts.maxKeys);
    return this.run('listing', async () => {
      const entries = await listEntries(this.root, {
        prefix: this.prefix.listPrefix(opts.prefix),
        delimiter: opts.delimiter,
        after: opts.continuationToken,
        maxEntries,
      });
      const page: ListPage = { objects: [], commonPrefixes: entries.commonPrefixes.map((p) => this.prefix.strip(p)) };
      for (const full of entries.keys) {
        // Deleted since the walk saw it: as if the listing had come a moment later.
        const found = await readObjectInfo(this.pathOf(full));
        if (found !== null) page.objects.push(toObjectInfo(this.prefix.strip(full), found));
      }
      if (entries.resumeAfter !== undefined) page.nextContinuationToken = entries.resumeAfter;
      return page;
    });
  }

  async copy(srcKey: string, dstKey: string, opts: CopyOptions = {}): Promise<{ etag: string }> {
    const src = this.prefix.key(srcKey);
    const dst = this.prefix.key(dstKey);
    return this.run(`copying "${src}" to "${dst}"`, async () => {
      const found = await readObjectData(this.pathOf(src), src);
      if (found === null) throw notFound(src);
      const { header, body } = found;
      const replaced = opts.metadata !== undefined;
      const etag = singlePartEtag(body);
      await this.writeObject(dst, this.header(etag, body.length, {
        metadata: replaced ? opts.metadata : header.metadata,
        contentType: replaced ? opts.contentType : header.contentType,
        storageClass: opts.storageClass,
      }), () => [body]);
      return { etag };
    });
  }

  async createMultipartUpload(key: string, opts: PutOptions = {}): Promise<string> {
    const full = this.prefix.key(key);
    return this.run(`starting an upload of "${full}"`, () => this.uploads.create(full, { ...opts, metadata: lowerCaseKeys(opts.metadata) }));
  }

  async uploadPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<{ etag: string }> {
    const full = this.prefix.key(key);
    return this.run(`uploading part ${partNumber} of "${full}"`, async () => ({
      etag: await this.uploads.putPart(full, uploadId, partNumber, body),
    }));
  }

  async uploadPartCopy(key: string, uploadId: string, partNumber: number, srcKey: string, range?: ByteRange): Promise<{ etag: string }> {
    const full = this.prefix.key(key);
    const src = this.prefix.key(srcKey);
    if (range !== undefined) checkRange(range);
    return this.run(`copying "${src}" into part ${partNumber} of "${full}"`, async () => {
      const found = await readObjectData(this.pathOf(src), src, range);
      if (found === null) throw notFound(src);
      return { etag: await this.uploads.putPart(full, uploadId, partNumber, found.body) };
    });
  }

  async completeMultipartUpload(key: string, uploadId: string, parts: CompletedPart[]): Promise<{ etag: string }> {
    const full = this.prefix.key(key);
    return this.run(`completing the upload of "${full}"`, async () => ({
      etag: await this.uploads.complete(full, uploadId, parts, (header, data) => this.writeObject(full, header, data)),
    }));
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    const full = this.prefix.key(key);
    return this.run(`aborting the upload of "${full}"`, () => this.uploads.abort(full, uploadId));
  }

  /** Nothing local is cold; the object must exist all the same. */
  async restore(key: string, _opts: RestoreOptions): Promise<void> {
    if ((await this.head(key)) === null) throw notFound(this.prefix.key(key));
  }

  describe(): BackendDescription {
    return { kind: 'local', dir: this.root, prefix: this.prefix.value || undefined };
  }

  async close(): Promise<void> {}

  private pathOf(fullKey: string): string {
    return join(this.root, keyToRelativePath(fullKey));
  }

  private header(etag: string, size: number, opts: PutOptions): ObjectHeader {
    return { etag, size, metadata: lowerCaseKeys(opts.metadata), contentType: opts.contentType, storageClass: opts.storageClass };
  }

  /** `data` is called once per attempt: a delete may prune the directory between our mkdir and our write. */
  private async writeObject(fullKey: string, header: ObjectHeader, data: () => Iterable<Buffer> | AsyncIterable<Buffer>): Promise<void> {
    const path = this.pathOf(fullKey);
    for (let attempt = 1; ; attempt++) {
      await ensureDirectory(dirname(path));
      try {
        await writeObjectFile(path, header, data());
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === PRUNE_RACE_ATTEMPTS) throw err;
      }
    }
  }

  /** Removes directories a delete left empty, so listings need not look into them. */
  private async pruneEmptyDirectories(from: string): Promise<void> {
    for (let dir = from; dir !== this.root && dir.startsWith(this.root); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return; // not empty (or gone already): its ancestors are not empty either
      }
    }
  }

  /** File-system failures as the backend errors the gateway reports; everything else as it is. */
  private async run<T>(what: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (err) {
      if (err instanceof SgwError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
        throw new BackendError('SGW_BACKEND_ACCESS_DENIED', `sgwd may not write in the local store ${this.root} (${code}) while ${what}: fix the directory's ownership and permissions`, { cause: err });
      }
      if (code === 'ENOSPC' || code === 'EDQUOT') {
        throw new BackendError('SGW_BACKEND_FAILED', `the local store ${this.root} is out of space (${code}) while ${what}: free space or move the store`, { cause: err });
      }
      throw err;
    }
  }
}

function notFound(fullKey: string): BackendError {
  return new BackendError('SGW_OBJECT_NOT_FOUND', `object "${fullKey}" does not exist`);
}

function toObjectInfo(key: string, { header, lastModified }: StoredObject): ObjectInfo {
  return {
    key,
    size: header.size,
    etag: header.etag,
    lastModified,
    metadata: header.metadata,
    contentType: header.contentType,
    storageClass: header.storageClass,
  };
}
