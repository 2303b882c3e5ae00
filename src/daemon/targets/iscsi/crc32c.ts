/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the iSCSI header and data digest. Slicing-by-8 tables keep a
 * 256 KiB data segment well under a millisecond, so digests never stall the event loop.
 */
const POLYNOMIAL = 0x82f63b78;

function buildTables(): Uint32Array[] {
  const base = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLYNOMIAL : c >>> 1;
    base[n] = c >>> 0;
  }
  const tables = [base];
  for (let k = 1; k < 8; k++) {
    const previous = tables[k - 1]!;
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) table[n] = (previous[n]! >>> 8) ^ base[previous[n]! & 0xff]!;
    tables.push(table);
  }
  return tables;
}

const [T0, T1, T2, T3, T4, T5, T6, T7] = buildTables() as [
  Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array,
];

/** CRC32C of `data`; pass the CRC of the bytes before it as `previous` to continue over several buffers. */
export function crc32c(data: Uint8Array, previous = 0): number {
  let crc = ~previous >>> 0;
  let i = 0;
  const whole = data.length - (data.length % 8);
  for (; i < whole; i += 8) {
    const low = (crc ^ (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24))) >>> 0;
    crc = T7[low & 0xff]! ^ T6[(low >>> 8) & 0xff]! ^ T5[(low >>> 16) & 0xff]! ^ T4[low >>> 24]!
      ^ T3[data[i + 4]!]! ^ T2[data[i + 5]!]! ^ T1[data[i + 6]!]! ^ T0[data[i + 7]!]!;
  }
  for (; i < data.length; i++) crc = T0[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** The 4 digest bytes as they go on the wire: little-endian, unlike every other iSCSI field. */
export function digestBytes(...parts: Uint8Array[]): Buffer {
  let crc = 0;
  for (const part of parts) crc = crc32c(part, crc);
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32LE(crc, 0);
  return out;
}
