import { readFile, rm } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { BackendError } from '../../errors.js';
import { ensureDirectory, writeFileAtomically } from './atomic-file.js';
import { multipartEtag, singlePartEtag } from './local-etag.js';
import { readObjectData, readObjectInfo, writeObjectFile, type ObjectHeader } from './local-object-file.js';
import { MIN_PART_SIZE, type CompletedPart, type PutOptions } from './object-store.js';
import { checkCompletedParts, checkPartNumber, invalidArgument } from './store-arguments.js';

/**
 * Multipart uploads of the local store. Each upload has a staging directory named by its id, holding a record of the
 * key and options and one object file per part (so a part carries its own ETag). Completing checks the parts as S3
 * does, hands their data in order to the caller that writes the object, then drops the staging directory.
 */

const RECORD_FILE = 'upload.json';
const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface UploadRecord {
  key: string;
  options: PutOptions;
}

export type ObjectWriter = (header: ObjectHeader, data: () => AsyncIterable<Buffer>) => Promise<void>;

function noSuchUpload(key: string, uploadId: string): BackendError {
  return new BackendError('SGW_OBJECT_NOT_FOUND', `there is no multipart upload ${uploadId} of "${key}": it was completed or aborted, or never started`);
}

function partFile(dir: string, partNumber: number): string {
  return join(dir, `${partNumber}.part`);
}

async function* partsData(paths: string[]): AsyncIterable<Buffer> {
  for (const path of paths) {
    const part = await readObjectData(path, path);
    if (part === null) throw new BackendError('SGW_BACKEND_FAILED', `part file ${path} vanished while completing its upload`);
    yield part.body;
  }
}

export class LocalUploads {
  constructor(private readonly dir: string) {}

  async create(key: string, options: PutOptions): Promise<string> {
    const uploadId = randomUUID();
    const dir = join(this.dir, uploadId);
    await ensureDirectory(dir);
    const record: UploadRecord = { key, options };
    await writeFileAtomically(join(dir, RECORD_FILE), (file) => file.writeFile(JSON.stringify(record)));
    return uploadId;
  }

  async putPart(key: string, uploadId: string, partNumber: number, body: Buffer): Promise<string> {
    checkPartNumber(partNumber);
    const { dir } = await this.open(key, uploadId);
    const etag = singlePartEtag(body);
    await writeObjectFile(partFile(dir, partNumber), { etag, size: body.length, metadata: {} }, [body]);
    return etag;
  }

  async complete(key: string, uploadId: string, parts: CompletedPart[], write: ObjectWriter): Promise<string> {
    checkCompletedParts(parts);
    const { dir, record } = await this.open(key, uploadId);
    let size = 0;
    for (const [i, { partNumber, etag }] of parts.entries()) {
      const stored = await readObjectInfo(partFile(dir, partNumber));
      if (stored === null || stored.header.etag !== etag) {
        throw invalidArgument(`part ${partNumber} of upload ${uploadId} was not uploaded with ETag ${etag}`);
      }
      if (i < parts.length - 1 && stored.header.size < MIN_PART_SIZE) {
        throw invalidArgument(`part ${partNumber} is ${stored.header.size} bytes; every part but the last needs at least ${MIN_PART_SIZE}`);
      }
      size += stored.header.size;
    }
    const etag = multipartEtag(parts.map((p) => p.etag));
    const { metadata = {}, contentType, storageClass } = record.options;
    await write({ etag, size, metadata, contentType, storageClass }, () => partsData(parts.map((p) => partFile(dir, p.partNumber))));
    await rm(dir, { recursive: true, force: true });
    return etag;
  }

  async abort(key: string, uploadId: string): Promise<void> {
    const { dir } = await this.open(key, uploadId);
    await rm(dir, { recursive: true, force: true });
  }

  private async open(key: string, uploadId: string): Promise<{ dir: string; record: UploadRecord }> {
    if (!UPLOAD_ID.test(uploadId)) throw noSuchUpload(key, uploadId);
    const dir = join(this.dir, uploadId);
    let record: UploadRecord;
    try {
      record = JSON.parse(await readFile(join(dir, RECORD_FILE), 'utf8')) as UploadRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw noSuchUpload(key, uploadId);
      throw err;
    }
    if (record.key !== key) throw noSuchUpload(key, uploadId);
    return { dir, record };
  }
}
