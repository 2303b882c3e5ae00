/**
 * A tape written over iSCSI, archived to each kind of pool on a real S3/Glacier server (moto) and retrieved:
 * the GLACIER and DEEP_ARCHIVE storage classes in the gateway's bucket, and a Glacier vault.
 */
import { randomBytes } from 'node:crypto';
import { CreateVaultCommand, GlacierClient } from '@aws-sdk/client-glacier';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import t from 'tap';
import { changerTargetName, driveTargetName } from '../../src/daemon/tape-targets.js';
import type { GatewayInfo, TapeDetails } from '../../src/rpc/api.js';
import { TestDaemon } from '../harness/daemon.js';
import { ANY_CREDENTIALS, startMoto } from '../harness/moto.js';
import { Changer, elementStatus, ScsiSession, senseOf, Tape } from '../harness/tape-initiator.js';

t.setTimeout(300_000);
const moto = await startMoto();
t.teardown(() => moto.stop());
const clientConfig = { endpoint: moto.endpoint, region: 'us-east-1', credentials: ANY_CREDENTIALS };
const s3 = new S3Client({ ...clientConfig, forcePathStyle: true });
const glacier = new GlacierClient(clientConfig);
await s3.send(new CreateBucketCommand({ Bucket: 'tape-gateway' }));
await glacier.send(new CreateVaultCommand({ accountId: '-', vaultName: 'tape-vault' }));

const d = await TestDaemon.start(t, { AWS_ACCESS_KEY_ID: ANY_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: ANY_CREDENTIALS.secretAccessKey });
await d.sgwJson('activate', '--endpoint', moto.endpoint, '--bucket', 'tape-gateway', '--region', 'us-east-1');
const pools = { GLACIER: 'POOLG001', DEEP_ARCHIVE: 'POOLD001', 'vault:tape-vault': 'POOLV001' };
for (const [pool, barcode] of Object.entries(pools)) await d.sgwJson('tape', 'create', '--barcode', barcode, '--size', '100GiB', '--pool', pool);
const info = await d.sgwJson<GatewayInfo>('gateway', 'info');
const port = Number(info.daemon.iscsiPortal.split(':').pop());
const changer = await ScsiSession.open(port, changerTargetName(info.gateway!.name));
t.teardown(() => changer.close());
await changer.ready();
const elements = async (type: number) => elementStatus((await changer.run(Changer.readElementStatus(type, 0, 2000), { read: 0x40000 })).data);
const [drive] = await elements(4);
const [mailslot] = await elements(3);
const session = await ScsiSession.open(port, driveTargetName(info.gateway!.name, 0));
t.teardown(() => session.close());

const until = async (what: () => Promise<boolean>, ms = 120_000) => {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 250));
  }
};

for (const [pool, barcode] of Object.entries(pools)) {
  t.test(`${pool}: written, archived, retrieved, read back, writes refused`, async (t) => {
    const records = [randomBytes(20000), randomBytes(5000)];
    const slot = (await elements(2)).find((s) => s.barcode === barcode)!;
    t.equal((await changer.run(Changer.moveMedium(slot.address, drive!.address))).status, 0);
    await session.ready();
    for (const record of records) t.equal((await session.run(Tape.write(record.length), { write: record })).status, 0);
    t.equal((await session.run(Tape.writeFilemarks(1))).status, 0);
    t.equal((await changer.run(Changer.moveMedium(drive!.address, mailslot!.address))).status, 0, 'to a mailslot');
    await until(async () => (await d.sgwJson<TapeDetails>('tape', 'describe', barcode)).status === 'ARCHIVED');
    const listed = (await s3.send(new ListObjectsV2Command({ Bucket: 'tape-gateway' }))).Contents ?? [];
    t.notOk(listed.some((o) => o.Key!.startsWith(`tapes/${barcode}/`)), 'no segment left in the store');
    if (!pool.startsWith('vault:')) t.ok(listed.some((o) => o.Key!.includes(barcode) && o.StorageClass === pool), `archived in the ${pool} class`);

    t.match(await d.sgwJson<TapeDetails>('tape', 'retrieve', barcode), { status: 'RETRIEVING' });
    await until(async () => (await d.sgwJson<TapeDetails>('tape', 'describe', barcode)).status === 'RETRIEVED');
    const back = (await elements(2)).find((s) => s.barcode === barcode)!;
    t.equal((await changer.run(Changer.moveMedium(back.address, drive!.address))).status, 0);
    await session.ready();
    for (const record of records) t.ok((await session.run(Tape.read(65536), { read: 65536 })).data.equals(record), 'byte-identical');
    const refused = await session.run(Tape.write(10), { write: randomBytes(10) });
    t.match(senseOf(refused.sense), { key: 7 }, 'DATA PROTECT');
    t.equal((await changer.run(Changer.moveMedium(drive!.address, back.address))).status, 0);
  });
}
