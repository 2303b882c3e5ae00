/**
 * XDR (RFC 4506): big-endian 4-byte units, opaque data and strings padded to 4 with zeros. The reader trusts no
 * length it reads: each one is checked against its declared maximum and against the bytes left before anything is
 * sliced or looped over, so a lying peer gets an XdrDecodeError instead of a huge allocation or a read past the end.
 * Hypers are bigints because NFS cookies, file ids and offsets use all 64 bits.
 */

/** The bytes do not decode as the XDR type asked for: truncated, over-long, or a value the type does not allow. */
export class XdrDecodeError extends Error {
  override readonly name = 'XdrDecodeError';
}

const UNIT = 4;

/** Arithmetic rather than `& ~3`, which wraps for lengths at or above 2^31. */
const padding = (length: number): number => (UNIT - (length % UNIT)) % UNIT;

export class XdrReader {
  private position = 0;

  constructor(private readonly buffer: Buffer) {}

  get remaining(): number {
    return this.buffer.length - this.position;
  }

  uint32(): number {
    this.need(UNIT);
    const value = this.buffer.readUInt32BE(this.position);
    this.position += UNIT;
    return value;
  }

  int32(): number {
    this.need(UNIT);
    const value = this.buffer.readInt32BE(this.position);
    this.position += UNIT;
    return value;
  }

  uint64(): bigint {
    this.need(8);
    const value = this.buffer.readBigUInt64BE(this.position);
    this.position += 8;
    return value;
  }

  int64(): bigint {
    this.need(8);
    const value = this.buffer.readBigInt64BE(this.position);
    this.position += 8;
    return value;
  }

  bool(): boolean {
    const value = this.uint32();
    if (value > 1) throw new XdrDecodeError(`bool ${value} is neither FALSE nor TRUE`);
    return value === 1;
  }

  /** An enum, which XDR encodes as a signed int; a value outside `values` does not decode. */
  enum<T extends number>(values: readonly T[]): T {
    const value = this.int32();
    if (!(values as readonly number[]).includes(value)) throw new XdrDecodeError(`enum value ${value} is not one of ${values.join(', ')}`);
    return value as T;
  }

  /** `opaque[length]`: a view of the bytes, not a copy; the padding is skipped unread. */
  fixedOpaque(length: number): Buffer {
    this.need(length + padding(length));
    const bytes = this.buffer.subarray(this.position, this.position + length);
    this.position += length + padding(length);
    return bytes;
  }

  /** `opaque<max>`: a view of the bytes, not a copy. */
  opaque(max: number): Buffer {
    const length = this.uint32();
    if (length > max) throw new XdrDecodeError(`opaque length ${length} exceeds its maximum ${max}`);
    return this.fixedOpaque(length);
  }

  /** `string<max>`, read as UTF-8. */
  string(max: number): string {
    return this.opaque(max).toString('utf8');
  }

  /**
   * `T<max>`. Every XDR item takes at least 4 bytes, so a count the remaining bytes cannot hold is refused before
   * the first item is read.
   */
  array<T>(max: number, item: (reader: XdrReader) => T): T[] {
    const count = this.uint32();
    if (count > max) throw new XdrDecodeError(`array count ${count} exceeds its maximum ${max}`);
    if (count * UNIT > this.remaining) throw new XdrDecodeError(`array count ${count} does not fit in the ${this.remaining} bytes left`);
    const items: T[] = [];
    for (let i = 0; i < count; i++) items.push(item(this));
    return items;
  }

  /** `*T`: a bool, then the item when TRUE. */
  optional<T>(item: (reader: XdrReader) => T): T | undefined {
    return this.bool() ? item(this) : undefined;
  }

  private need(length: number): void {
    if (length > this.remaining) {
      throw new XdrDecodeError(`truncated: ${length} bytes needed at offset ${this.position}, ${this.remaining} left`);
    }
  }
}

const INITIAL_CAPACITY = 256;

/** Builds one message in one growing Buffer. Methods chain; `toBuffer` ends the message. */
export class XdrWriter {
  private buffer: Buffer;
  private used = 0;

  constructor(initialCapacity = INITIAL_CAPACITY) {
    this.buffer = Buffer.allocUnsafe(Math.max(initialCapacity, UNIT));
  }

  get length(): number {
    return this.used;
  }

  uint32(value: number): this {
    this.ensure(UNIT);
    this.buffer.writeUInt32BE(value, this.used);
    this.used += UNIT;
    return this;
  }

  int32(value: number): this {
    this.ensure(UNIT);
    this.buffer.writeInt32BE(value, this.used);
    this.used += UNIT;
    return this;
  }

  /** A number must be a safe integer; bigints cover the whole range. */
  uint64(value: bigint | number): this {
    this.ensure(8);
    this.buffer.writeBigUInt64BE(toBigInt(value), this.used);
    this.used += 8;
    return this;
  }

  int64(value: bigint | number): this {
    this.ensure(8);
    this.buffer.writeBigInt64BE(toBigInt(value), this.used);
    this.used += 8;
    return this;
  }

  bool(value: boolean): this {
    return this.uint32(value ? 1 : 0);
  }

  /** `opaque[n]`: exactly these bytes, zero-padded; the caller owns getting n right. */
  fixedOpaque(data: Uint8Array): this {
    const pad = padding(data.length);
    this.ensure(data.length + pad);
    this.buffer.set(data, this.used);
    this.used += data.length;
    this.buffer.fill(0, this.used, this.used + pad);
    this.used += pad;
    return this;
  }

  opaque(data: Uint8Array): this {
    return this.uint32(data.length).fixedOpaque(data);
  }

  string(value: string): this {
    return this.opaque(Buffer.from(value, 'utf8'));
  }

  array<T>(items: readonly T[], write: (writer: XdrWriter, item: T) => void): this {
    this.uint32(items.length);
    for (const item of items) write(this, item);
    return this;
  }

  optional<T>(value: T | undefined, write: (writer: XdrWriter, item: T) => void): this {
    this.bool(value !== undefined);
    if (value !== undefined) write(this, value);
    return this;
  }

  /** A linked list the XDR way (`*next` pointers): TRUE item TRUE item … FALSE. */
  list<T>(items: Iterable<T>, write: (writer: XdrWriter, item: T) => void): this {
    for (const item of items) {
      this.bool(true);
      write(this, item);
    }
    return this.bool(false);
  }

  /** The message so far, as a view of the writer's memory: write nothing more once it is taken. */
  toBuffer(): Buffer {
    return this.buffer.subarray(0, this.used);
  }

  private ensure(length: number): void {
    if (this.used + length <= this.buffer.length) return;
    let capacity = this.buffer.length * 2;
    while (capacity < this.used + length) capacity *= 2;
    const grown = Buffer.allocUnsafe(capacity);
    this.buffer.copy(grown, 0, 0, this.used);
    this.buffer = grown;
  }
}

function toBigInt(value: bigint | number): bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`${value} is not a safe integer`);
  return BigInt(value);
}
