/**
 * Appends to an upload buffer until killed, printing "ack <seq>" once each append resolves and "released <seq>" once
 * each release does; the crash test in upload-buffer.test.ts kills it with SIGKILL and checks what survives.
 */
import { UploadBuffer, type UploadBufferDisk } from '../../src/storage/upload-buffer.js';
import { crashRecord } from './upload-buffer-fixtures.js';

const disks = JSON.parse(process.argv[2] ?? '[]') as UploadBufferDisk[];
const buffer = await UploadBuffer.open(disks);
let releasing = false;

async function writer(): Promise<void> {
  for (;;) {
    if (!releasing && buffer.usedBytes > buffer.capacityBytes / 2) {
      releasing = true;
      const upto = buffer.tailSeq + Math.ceil((buffer.headSeq - buffer.tailSeq) / 2);
      await buffer.release(upto);
      process.stdout.write(`released ${upto}\n`);
      releasing = false;
    }
    const seq = buffer.headSeq + 1;
    const rec = crashRecord(seq);
    if (!buffer.fits(rec.length)) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      continue;
    }
    const acked = await buffer.append(rec);
    if (acked !== seq) throw new Error(`append of seq ${seq} resolved as ${acked}`);
    process.stdout.write(`ack ${acked}\n`);
  }
}

process.stdout.write('ready\n');
await Promise.all(Array.from({ length: 8 }, writer));
