import type { BlockBackend } from '../../../../src/daemon/targets/scsi/scsi-disk.js';

export interface BackendCall {
  op: 'read' | 'write' | 'unmap' | 'flush';
  offset: number;
  length: number;
  /** For writes: whether the disk asked for it to be durable before its status. */
  durable?: boolean;
}

/**
 * A sparse in-memory BlockBackend: pages that were never written (or were unmapped whole) take no memory and
 * read as zeros. It records every call, refuses ranges past the end like the volume engine does, and can be
 * told to fail or to hold writes back.
 */
export class MemoryBackend implements BlockBackend {
  private readonly pages = new Map<number, Buffer>();
  readonly calls: BackendCall[] = [];
  /** When set, every call rejects with it. */
  failure: Error | undefined;
  /** When set, writes wait for it before they land. */
  writeGate: Promise<void> | undefined;

  constructor(
    public sizeBytes: number,
    private readonly pageSize = 4096,
  ) {}

  get allocatedPages(): number {
    return this.pages.size;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    this.begin('read', offset, length);
    const out = Buffer.alloc(length);
    this.eachPage(offset, length, (page, from, to, at) => this.pages.get(page)?.copy(out, at, from, to));
    return out;
  }

  async write(offset: number, data: Buffer, durable: boolean): Promise<void> {
    this.begin('write', offset, data.length, durable);
    const copy = Buffer.from(data);
    await this.writeGate;
    this.eachPage(offset, copy.length, (page, from, to, at) => {
      let bytes = this.pages.get(page);
      if (!bytes) this.pages.set(page, (bytes = Buffer.alloc(this.pageSize)));
      copy.copy(bytes, from, at, at + (to - from));
    });
  }

  async unmap(offset: number, length: number): Promise<void> {
    this.begin('unmap', offset, length);
    this.eachPage(offset, length, (page, from, to) => {
      if (from === 0 && to === this.pageSize) this.pages.delete(page);
      else this.pages.get(page)?.fill(0, from, to);
    });
  }

  async flush(): Promise<void> {
    this.begin('flush', 0, 0);
  }

  private begin(op: BackendCall['op'], offset: number, length: number, durable?: boolean): void {
    this.calls.push({ op, offset, length, ...(durable === undefined ? {} : { durable }) });
    if (this.failure) throw this.failure;
    if (offset < 0 || length < 0 || offset + length > this.sizeBytes) {
      throw Object.assign(new Error(`${op} ${offset}+${length} is outside ${this.sizeBytes} bytes`), { code: 'SGW_OUT_OF_RANGE' });
    }
  }

  /** Calls `visit(page, fromInPage, toInPage, offsetInRange)` for each page the range touches. */
  private eachPage(offset: number, length: number, visit: (page: number, from: number, to: number, at: number) => void): void {
    for (let at = 0; at < length; ) {
      const page = Math.floor((offset + at) / this.pageSize);
      const from = (offset + at) % this.pageSize;
      const to = Math.min(this.pageSize, from + (length - at));
      visit(page, from, to, at);
      at += to - from;
    }
  }
}
