import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, DeleteArchiveCommand, DescribeVaultCommand, GetJobOutputCommand,
  GlacierClient, InitiateJobCommand, InitiateMultipartUploadCommand, ListJobsCommand, UploadArchiveCommand,
  UploadMultipartPartCommand, type GlacierJobDescription,
} from '@aws-sdk/client-glacier';
import { BackendError } from '../../errors.js';
import type { Archive, RetrievalStatus } from './archive.js';
import type { BackendDescription, ByteRange, RetrievalTier } from './object-store.js';
import { DEFAULT_REGION, endpointLabel, sdkClientOptions, type AwsConnectionConfig } from './sdk-client-config.js';
import { backendErrorFromSdk, type SdkCallContext } from './sdk-errors.js';
import { checkRange, invalidArgument } from './store-arguments.js';
import { TREE_HASH_CHUNK, chunkHashes, treeHashOfChunks } from './tree-hash.js';

export interface GlacierVaultConfig extends AwsConnectionConfig {
  vault: string;
  /** Default Standard. */
  tier?: RetrievalTier;
  /** Part size of multipart uploads: a power of two from 1 MiB to 4 GiB; default 16 MiB, raised if a blob needs it. */
  partSizeBytes?: number;
}

/** Glacier takes up to this much in one UploadArchive call here; bigger blobs go in parts. */
const SINGLE_UPLOAD_MAX = 1024 * 1024;
const MAX_PART_SIZE = 4 * 1024 * 1024 * 1024;
const MAX_PARTS = 10_000;
const DEFAULT_PART_SIZE = 16 * 1024 * 1024;
const PARALLEL_PARTS = 4;
/** Glacier's own name for "the account of the credentials". */
const ACCOUNT = '-';

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(Math.log2(n));
}

/** The configured part size, doubled until the blob fits in Glacier's part count. */
function partSizeFor(size: number, configured: number): number {
  let partSize = configured;
  while (Math.ceil(size / partSize) > MAX_PARTS && partSize < MAX_PART_SIZE) partSize *= 2;
  return partSize;
}

function newest(jobs: GlacierJobDescription[]): GlacierJobDescription | undefined {
  return jobs.reduce<GlacierJobDescription | undefined>((best, job) => (best === undefined || (job.CreationDate ?? '') > (best.CreationDate ?? '') ? job : best), undefined);
}

async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * The `glacier-vault` archive: archives in an S3 Glacier vault (the original Glacier API). Retrieval is an
 * archive-retrieval job; its state is read back from ListJobs, so nothing about it is kept locally.
 */
export class GlacierVaultArchive implements Archive {
  private readonly client: GlacierClient;
  private readonly vault: string;
  private readonly tier: RetrievalTier;
  private readonly partSize: number;
  private readonly endpoint: string;
  private readonly region: string;

  constructor(config: GlacierVaultConfig) {
    const partSize = config.partSizeBytes ?? DEFAULT_PART_SIZE;
    if (!isPowerOfTwo(partSize) || partSize < TREE_HASH_CHUNK || partSize > MAX_PART_SIZE) {
      throw invalidArgument(`Glacier part size ${partSize} is not a power of two from 1 MiB to 4 GiB`);
    }
    this.vault = config.vault;
    this.tier = config.tier ?? 'Standard';
    this.partSize = partSize;
    this.endpoint = endpointLabel(config, 'Glacier');
    this.region = config.region ?? DEFAULT_REGION;
    this.client = new GlacierClient(sdkClientOptions(config));
  }

  async check(): Promise<void> {
    await this.call('looking up the vault', undefined, 'container', () => this.client.send(new DescribeVaultCommand({ accountId: ACCOUNT, vaultName: this.vault })));
  }

  async put(name: string, body: Buffer): Promise<{ archiveId: string }> {
    // Descriptions are printable ASCII only.
    const archiveDescription = encodeURIComponent(name).slice(0, 1024);
    const hashes = chunkHashes(body);
    const archiveId = body.length <= SINGLE_UPLOAD_MAX
      ? await this.call(`uploading "${name}"`, undefined, 'container', async () => (await this.client.send(new UploadArchiveCommand({
        accountId: ACCOUNT, vaultName: this.vault, archiveDescription, checksum: treeHashOfChunks(hashes), body,
      }))).archiveId)
      : await this.uploadInParts(name, archiveDescription, body, hashes);
    if (!archiveId) throw new BackendError('SGW_BACKEND_FAILED', `${this.endpoint} stored "${name}" without returning an archive id`);
    return { archiveId };
  }

  async requestRetrieval(archiveId: string): Promise<void> {
    if ((await this.retrievalStatus(archiveId)) !== 'archived') return;
    await this.call('requesting the retrieval of', archiveId, 'subject', () => this.client.send(new InitiateJobCommand({
      accountId: ACCOUNT, vaultName: this.vault, jobParameters: { Type: 'archive-retrieval', ArchiveId: archiveId, Tier: this.tier },
    })));
  }

  /** A succeeded job means readable, one in progress means retrieving; none (or only failed ones) means archived. */
  async retrievalStatus(archiveId: string): Promise<RetrievalStatus> {
    const jobs = await this.retrievalJobs(archiveId);
    if (jobs.some((job) => job.StatusCode === 'Succeeded')) return 'available';
    if (jobs.some((job) => job.StatusCode === 'InProgress')) return 'retrieving';
    return 'archived';
  }

  async get(archiveId: string, range?: ByteRange): Promise<Buffer> {
    if (range !== undefined) checkRange(range);
    const job = newest((await this.retrievalJobs(archiveId)).filter((j) => j.StatusCode === 'Succeeded'));
    if (job === undefined) {
      throw new BackendError('SGW_OBJECT_ARCHIVED', `archive "${archiveId}" in vault "${this.vault}" has no completed retrieval: request one and wait until it is available`);
    }
    return this.call('reading', archiveId, 'subject', async () => {
      const out = await this.client.send(new GetJobOutputCommand({
        accountId: ACCOUNT, vaultName: this.vault, jobId: job.JobId, range: range && `bytes=${range.start}-${range.end}`,
      }));
      const body = Buffer.from((await out.body?.transformToByteArray()) ?? []);
      // A server that honours the range answers 206; one that ignores it sends everything.
      return range === undefined || out.status === 206 ? body : body.subarray(range.start, range.end + 1);
    });
  }

  async delete(archiveId: string): Promise<void> {
    await this.call('deleting', archiveId, 'subject', () => this.client.send(new DeleteArchiveCommand({ accountId: ACCOUNT, vaultName: this.vault, archiveId })));
  }

  describe(): BackendDescription {
    return { kind: 'glacier-vault', endpoint: this.endpoint, vault: this.vault, region: this.region, tier: this.tier };
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /** Parts of a power-of-two size, each with its tree hash, which is the root over its 1 MiB chunk hashes. */
  private async uploadInParts(name: string, archiveDescription: string, body: Buffer, hashes: Buffer[]): Promise<string | undefined> {
    const partSize = partSizeFor(body.length, this.partSize);
    const chunksPerPart = partSize / TREE_HASH_CHUNK;
    const { uploadId } = await this.call(`starting the upload of "${name}"`, undefined, 'container', () => this.client.send(new InitiateMultipartUploadCommand({
      accountId: ACCOUNT, vaultName: this.vault, archiveDescription, partSize: String(partSize),
    })));
    const offsets = Array.from({ length: Math.ceil(body.length / partSize) }, (_, i) => i * partSize);
    try {
      await inParallel(offsets, PARALLEL_PARTS, async (start) => {
        const part = body.subarray(start, start + partSize);
        const firstChunk = start / TREE_HASH_CHUNK;
        await this.call(`uploading "${name}" at ${start}`, undefined, 'container', () => this.client.send(new UploadMultipartPartCommand({
          accountId: ACCOUNT, vaultName: this.vault, uploadId,
          range: `bytes ${start}-${start + part.length - 1}/*`,
          checksum: treeHashOfChunks(hashes.slice(firstChunk, firstChunk + chunksPerPart)),
          body: part,
        })));
      });
      const out = await this.call(`completing the upload of "${name}"`, undefined, 'container', () => this.client.send(new CompleteMultipartUploadCommand({
        accountId: ACCOUNT, vaultName: this.vault, uploadId, archiveSize: String(body.length), checksum: treeHashOfChunks(hashes),
      })));
      return out.archiveId;
    } catch (err) {
      await this.client.send(new AbortMultipartUploadCommand({ accountId: ACCOUNT, vaultName: this.vault, uploadId })).catch(() => undefined);
      throw err;
    }
  }

  private async retrievalJobs(archiveId: string): Promise<GlacierJobDescription[]> {
    const jobs: GlacierJobDescription[] = [];
    let marker: string | undefined;
    do {
      const page = await this.call('listing the retrieval jobs of', archiveId, 'container', () => this.client.send(new ListJobsCommand({
        accountId: ACCOUNT, vaultName: this.vault, marker,
      })));
      jobs.push(...(page.JobList ?? []).filter((job) => job.Action === 'ArchiveRetrieval' && job.ArchiveId === archiveId));
      marker = page.Marker ?? undefined;
    } while (marker);
    return jobs;
  }

  private async call<T>(doing: string, archiveId: string | undefined, notFound: SdkCallContext['notFound'], action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (err) {
      const subject = archiveId === undefined ? undefined : `archive "${archiveId}"`;
      throw backendErrorFromSdk(err, {
        endpoint: this.endpoint,
        container: `vault "${this.vault}"`,
        doing,
        subject,
        notFound,
      });
    }
  }
}
