import { SgwError } from '../../errors.js';
import { MAX_KEY_BYTES, MAX_LIST_KEYS, MAX_PART_NUMBER, type ByteRange, type CompletedPart } from './object-store.js';

/**
 * Checks of what callers hand a store, shared by every backend so that they all refuse the same things (S3's rules).
 */

export function invalidArgument(message: string): SgwError {
  return new SgwError('SGW_INVALID_ARGUMENT', message);
}

/** The store's namespace inside its bucket or directory: prepended to every key, stripped from every listed one. */
export class KeyPrefix {
  /** Empty, or ends with "/" so that prefix "gw1" cannot capture keys of a sibling "gw10". */
  readonly value: string;

  constructor(prefix = '') {
    this.value = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  }

  /** The full key of an object, after checking it is one S3 would accept. */
  key(key: string): string {
    if (key === '') throw invalidArgument('an object key must not be empty');
    const full = this.value + key;
    const bytes = Buffer.byteLength(full, 'utf8');
    if (bytes > MAX_KEY_BYTES) {
      throw invalidArgument(`object key "${key.slice(0, 64)}…" is ${bytes} bytes with its prefix; keys are limited to ${MAX_KEY_BYTES} bytes`);
    }
    if (Buffer.from(full, 'utf8').toString('utf8') !== full) throw invalidArgument(`object key "${key}" is not valid Unicode`);
    return full;
  }

  /** The full form of a listing prefix, which may be empty. */
  listPrefix(prefix = ''): string {
    return this.value + prefix;
  }

  strip(fullKey: string): string {
    return fullKey.slice(this.value.length);
  }
}

export function checkRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw invalidArgument(`byte range ${start}-${end} is not a range: start and end are inclusive offsets with 0 <= start <= end`);
  }
}

export function checkPartNumber(partNumber: number): void {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
    throw invalidArgument(`part number ${partNumber} is out of range 1..${MAX_PART_NUMBER}`);
  }
}

export function checkCompletedParts(parts: CompletedPart[]): void {
  if (parts.length === 0) throw invalidArgument('a multipart upload needs at least one part to complete');
  parts.forEach((part, i) => {
    checkPartNumber(part.partNumber);
    const previous = parts[i - 1];
    if (previous !== undefined && part.partNumber <= previous.partNumber) {
      throw invalidArgument(`parts must be listed in ascending order without repeats; part ${part.partNumber} follows ${previous.partNumber}`);
    }
  });
}

export function listPageSize(maxKeys: number | undefined): number {
  if (maxKeys === undefined) return MAX_LIST_KEYS;
  if (!Number.isInteger(maxKeys) || maxKeys < 1) throw invalidArgument(`maxKeys must be a positive integer, not ${maxKeys}`);
  return Math.min(maxKeys, MAX_LIST_KEYS);
}

export function rangeBeyondEnd(range: ByteRange, size: number, key: string): SgwError {
  return invalidArgument(`byte range ${range.start}-${range.end} starts beyond the end of "${key}" (${size} bytes)`);
}
