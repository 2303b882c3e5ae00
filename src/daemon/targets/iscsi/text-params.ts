/**
 * Text keys (RFC 7143 §6.1): `key=value` strings, each NUL-terminated, carried by Login and Text PDUs. Decoding is
 * bounded in the number of pairs and the length of keys and values, whatever the initiator sends.
 */
import { ProtocolError } from './protocol-error.js';

export type TextPair = [key: string, value: string];

/** RFC 7143 §6.1: key names are at most 63 bytes; values at most 8192 (CHAP binaries are the long ones). */
const MAX_KEY_LENGTH = 63;
export const MAX_VALUE_LENGTH = 8192;
export const MAX_PAIRS = 256;

const KEY_NAME = /^[A-Za-z0-9.\-+@_]+$/;

export function decodeTextParams(data: Buffer): TextPair[] {
  const pairs: TextPair[] = [];
  for (let start = 0; start < data.length;) {
    let end = data.indexOf(0, start);
    if (end === -1) end = data.length;
    if (end > start) {
      if (pairs.length === MAX_PAIRS) throw new ProtocolError(`more than ${MAX_PAIRS} text keys`);
      pairs.push(decodePair(data.subarray(start, end)));
    }
    start = end + 1;
  }
  return pairs;
}

function decodePair(bytes: Buffer): TextPair {
  const equals = bytes.indexOf(0x3d);
  if (equals <= 0) throw new ProtocolError('a text key without "=" or without a name');
  if (equals > MAX_KEY_LENGTH) throw new ProtocolError(`a text key longer than ${MAX_KEY_LENGTH} bytes`);
  if (bytes.length - equals - 1 > MAX_VALUE_LENGTH) throw new ProtocolError(`a text value longer than ${MAX_VALUE_LENGTH} bytes`);
  const key = bytes.toString('latin1', 0, equals);
  if (!KEY_NAME.test(key)) throw new ProtocolError('a text key with characters outside the RFC 7143 key set');
  return [key, bytes.toString('utf8', equals + 1)];
}

export function encodeTextParams(pairs: readonly TextPair[]): Buffer {
  return Buffer.from(pairs.map(([key, value]) => `${key}=${value}\0`).join(''), 'utf8');
}
