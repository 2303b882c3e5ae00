import fc from 'fast-check';
import t from 'tap';
import { decodeHandle, encodeHandle, FILE_HANDLE_BYTES } from '../../../../src/daemon/targets/nfs/file-handle.js';

t.test('handles round-trip and fit NFS3_FHSIZE', async (t) => {
  fc.assert(fc.property(fc.stringMatching(/^[0-9a-f]{8}$/), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (hex, ino) => {
    const fh = encodeHandle({ shareId: `share-${hex}`, ino });
    return fh.length === FILE_HANDLE_BYTES && fh.length <= 64 && JSON.stringify(decodeHandle(fh)) === JSON.stringify({ shareId: `share-${hex}`, ino });
  }));
});

t.test('any other bytes decode to nothing, never throw', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
    const decoded = decodeHandle(Buffer.from(bytes));
    return decoded === undefined || encodeHandle(decoded).equals(Buffer.from(bytes));
  }));
  t.equal(decodeHandle(Buffer.alloc(FILE_HANDLE_BYTES)), undefined, 'format 0');
  t.throws(() => encodeHandle({ shareId: 'vol-12345678', ino: 5 }));
  t.throws(() => encodeHandle({ shareId: 'share-12345678', ino: 0 }));
});
