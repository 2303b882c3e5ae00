import t from 'tap';
import { CreateVaultCommand, DescribeJobCommand, GetJobOutputCommand, GlacierClient, InitiateJobCommand } from '@aws-sdk/client-glacier';
import { openArchive } from '../../../src/storage/backends/open-backend.js';
import { sdkClientOptions } from '../../../src/storage/backends/sdk-client-config.js';
import { ANY_CREDENTIALS, startMoto } from '../../harness/moto.js';
import { archiveContract } from './archive-contract.js';
import { startGlacierMultipartShim } from './glacier-multipart-shim.js';
import { pollUntil } from './poll.js';

const MiB = 1024 * 1024;

const moto = await startMoto();
t.teardown(() => moto.stop());
const shim = await startGlacierMultipartShim(moto.endpoint);
t.teardown(() => shim.stop());
const admin = new GlacierClient(sdkClientOptions({ endpoint: moto.endpoint, credentials: ANY_CREDENTIALS }));
t.teardown(() => admin.destroy());

/** The vault's inventory, from an (expedited) inventory-retrieval job: the one way Glacier lists archives. */
async function inventory(vaultName: string): Promise<string[]> {
  const { jobId } = await admin.send(new InitiateJobCommand({ accountId: '-', vaultName, jobParameters: { Type: 'inventory-retrieval', Tier: 'Expedited' } }));
  await pollUntil(async () => (await admin.send(new DescribeJobCommand({ accountId: '-', vaultName, jobId }))).Completed, (done) => done === true, 10_000, 250);
  const out = await admin.send(new GetJobOutputCommand({ accountId: '-', vaultName, jobId }));
  const { ArchiveList } = JSON.parse(await out.body!.transformToString()) as { ArchiveList: { ArchiveId: string }[] };
  return ArchiveList.map((a) => a.ArchiveId);
}

let vaults = 0;

t.test('contract', async (t) => {
  archiveContract(t, {
    retrievalTakesTime: true, // moto completes expedited jobs after 2 s
    retrievalTimeoutMs: 10_000,
    bodySizes: [1000, 3 * MiB + 7],
    backing: async () => {
      const vault = `vault-${++vaults}`;
      await admin.send(new CreateVaultCommand({ accountId: '-', vaultName: vault }));
      return {
        open: () => openArchive({ kind: 'glacier-vault', endpoint: shim.endpoint, vault, tier: 'Expedited', partSizeBytes: MiB, credentials: ANY_CREDENTIALS }),
        holds: async (archiveId) => (await inventory(vault)).includes(archiveId),
      };
    },
  });
});

t.test('blobs over 1 MiB went up in parts', async (t) => {
  t.ok(shim.completedUploads >= 1, `${shim.completedUploads} multipart uploads completed`);
});

t.test('a missing vault is SGW_BUCKET_NOT_FOUND', async (t) => {
  const archive = await openArchive({ kind: 'glacier-vault', endpoint: shim.endpoint, vault: 'no-such-vault', credentials: ANY_CREDENTIALS });
  t.teardown(() => archive.close());
  await t.rejects(archive.check(), { code: 'SGW_BUCKET_NOT_FOUND', message: /vault "no-such-vault".*create it first/ });
  await t.rejects(archive.put('x', Buffer.from('x')), { code: 'SGW_BUCKET_NOT_FOUND' });
});

t.test('a part size that is not a power of two is refused', async (t) => {
  await t.rejects(openArchive({ kind: 'glacier-vault', vault: 'v', partSizeBytes: 3 * MiB }), { code: 'SGW_INVALID_ARGUMENT' });
});
