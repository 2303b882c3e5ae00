/**
 * MODE SENSE and MODE SELECT (SPC-4) for a disk: the mode parameter header, one block descriptor and the pages
 * below. Only the control page's SWP bit can change, which write-protects the whole unit until it is cleared or the
 * unit is reset. The other fields describe how the volume engine behaves (every write durable before status, no
 * reallocation, no exception reporting): changing them would be a lie. Nothing is saved: PC=3 and SP=1 are refused.
 */
import { Opcode } from './scsi-cdb.js';
import { invalidCdbField, invalidParameterField, Sense, ScsiCheckCondition } from './scsi-sense.js';

const ModePage = {
  READ_WRITE_ERROR_RECOVERY: 0x01,
  CACHING: 0x08,
  CONTROL: 0x0a,
  INFORMATIONAL_EXCEPTIONS: 0x1c,
  ALL: 0x3f,
} as const;

const ALL_SUBPAGES = 0xff;

const PageControl = { CURRENT: 0, CHANGEABLE: 1, DEFAULT: 2, SAVED: 3 } as const;

const SWP = 0x08;
/** Caching page byte 2: write cache enable. */
const WCE = 0x04;
const DPOFUA = 0x10;
const WP = 0x80;

export interface ModePagesOptions {
  blockSize: number;
  blocks: () => number;
  /** Write protected by configuration, apart from SWP. */
  readOnly: boolean;
}

/** Default values of each page, bytes 2 on (after page code and page length). */
const DEFAULTS: ReadonlyMap<number, Buffer> = new Map([
  // No automatic reallocation, no retries to configure: the volume engine has no media errors to recover.
  [ModePage.READ_WRITE_ERROR_RECOVERY, Buffer.alloc(10)],
  // WCE=1: a write is acknowledged once the upload buffer holds it, which survives a crash of sgwd but not of the
  // machine; SYNCHRONIZE CACHE and FUA make it durable, as with tgt's default. RCD=0.
  [ModePage.CACHING, Buffer.from([WCE, ...Array<number>(17).fill(0)])],
  // QAM=1 (unrestricted reordering), D_SENSE=0 (fixed sense), busy timeout unlimited.
  [ModePage.CONTROL, Buffer.from([0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00])],
  // DEXCPT: no informational exception reporting.
  [ModePage.INFORMATIONAL_EXCEPTIONS, Buffer.from([0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0])],
]);

/** Bits an initiator may change, per page, at the same offsets as DEFAULTS. */
const CHANGEABLE: ReadonlyMap<number, Buffer> = new Map(
  [...DEFAULTS].map(([page, bytes]) => {
    const mask = Buffer.alloc(bytes.length);
    if (page === ModePage.CONTROL) mask[2] = SWP;
    // An initiator may turn the write cache off, so that every write is durable before its status.
    if (page === ModePage.CACHING) mask[0] = WCE;
    return [page, mask];
  }),
);

export class ModePages {
  private readonly current = new Map([...DEFAULTS].map(([page, bytes]) => [page, Buffer.from(bytes)]));

  constructor(private readonly o: ModePagesOptions) {}

  /** Software write protect (control page SWP), set by MODE SELECT. */
  get softwareWriteProtected(): boolean {
    return (this.current.get(ModePage.CONTROL)![2]! & SWP) !== 0;
  }

  /** The caching page's WCE: writes without FUA may be acknowledged before they are durable. */
  get writeCacheEnabled(): boolean {
    return (this.current.get(ModePage.CACHING)![0]! & WCE) !== 0;
  }

  /** After a logical unit reset the current values are the defaults again: nothing was saved (SAM-5). */
  restoreDefaults(): void {
    for (const [page, bytes] of DEFAULTS) bytes.copy(this.current.get(page)!);
  }

  /** MODE SENSE(6) or (10): the whole mode parameter list; the caller cuts it to the allocation length. */
  sense(cdb: Buffer): Buffer {
    const ten = cdb[0] === Opcode.MODE_SENSE_10;
    const dbd = (cdb[1]! & 0x08) !== 0;
    const longLba = ten && (cdb[1]! & 0x10) !== 0;
    const pc = cdb[2]! >> 6;
    const pageCode = cdb[2]! & 0x3f;
    const subpage = cdb[3]!;
    if (pc === PageControl.SAVED) throw new ScsiCheckCondition(Sense.SAVING_PARAMETERS_NOT_SUPPORTED, { field: { inCdb: true, byte: 2, bit: 7 } });
    const pages = this.selectPages(pageCode, subpage).map((page) => this.page(page, pc));
    const descriptor = dbd ? Buffer.alloc(0) : this.blockDescriptor(longLba, pc === PageControl.CHANGEABLE);
    const header = Buffer.alloc(ten ? 8 : 4);
    const deviceSpecific = (this.writeProtected ? WP : 0) | DPOFUA;
    const length = header.length + descriptor.length + pages.reduce((n, p) => n + p.length, 0);
    if (ten) {
      header.writeUInt16BE(length - 2, 0);
      header[3] = deviceSpecific;
      header[4] = longLba && !dbd ? 0x01 : 0;
      header.writeUInt16BE(descriptor.length, 6);
    } else {
      header[0] = length - 1;
      header[2] = deviceSpecific;
      header[3] = descriptor.length;
    }
    return Buffer.concat([header, descriptor, ...pages]);
  }

  /**
   * MODE SELECT(6) or (10) with its parameter list. Returns whether a current value changed, so the caller can
   * tell the other I_T nexuses (MODE PARAMETERS CHANGED).
   */
  select(cdb: Buffer, data: Buffer): boolean {
    const ten = cdb[0] === Opcode.MODE_SELECT_10;
    // PF=0 would mean vendor-specific pages; SP=1 asks to save, which nothing here can.
    if (!(cdb[1]! & 0x10)) throw invalidCdbField(1, 4);
    if (cdb[1]! & 0x01) throw invalidCdbField(1, 0);
    const headerLength = ten ? 8 : 4;
    if (data.length === 0) return false;
    if (data.length < headerLength) throw new ScsiCheckCondition(Sense.PARAMETER_LIST_LENGTH_ERROR);
    const descriptorLength = ten ? data.readUInt16BE(6) : data[3]!;
    const longLba = ten && (data[4]! & 0x01) !== 0;
    if (headerLength + descriptorLength > data.length) throw new ScsiCheckCondition(Sense.PARAMETER_LIST_LENGTH_ERROR);
    if (descriptorLength > 0) this.checkBlockDescriptor(data.subarray(headerLength, headerLength + descriptorLength), longLba, headerLength);
    const updates: Array<[number, Buffer]> = [];
    let at = headerLength + descriptorLength;
    while (at < data.length) {
      if (at + 2 > data.length) throw new ScsiCheckCondition(Sense.PARAMETER_LIST_LENGTH_ERROR);
      const pageCode = data[at]! & 0x3f;
      if (data[at]! & 0x40) throw invalidParameterField(at, 6);
      const current = this.current.get(pageCode);
      if (!current) throw invalidParameterField(at, 5);
      if (data[at + 1] !== current.length) throw invalidParameterField(at + 1);
      const end = at + 2 + current.length;
      if (end > data.length) throw new ScsiCheckCondition(Sense.PARAMETER_LIST_LENGTH_ERROR);
      const proposed = data.subarray(at + 2, end);
      const mask = CHANGEABLE.get(pageCode)!;
      for (let i = 0; i < proposed.length; i++) {
        if ((proposed[i]! ^ current[i]!) & ~mask[i]! & 0xff) throw invalidParameterField(at + 2 + i);
      }
      updates.push([pageCode, Buffer.from(proposed)]);
      at = end;
    }
    // Nothing changes unless the whole list is valid.
    let changed = false;
    for (const [pageCode, proposed] of updates) {
      const current = this.current.get(pageCode)!;
      if (!proposed.equals(current)) changed = true;
      proposed.copy(current);
    }
    return changed;
  }

  private get writeProtected(): boolean {
    return this.o.readOnly || this.softwareWriteProtected;
  }

  private selectPages(pageCode: number, subpage: number): number[] {
    // None of these pages has subpages: subpage 0 or "all subpages" only.
    if (subpage !== 0 && subpage !== ALL_SUBPAGES) throw invalidCdbField(3);
    if (pageCode === ModePage.ALL) return [...DEFAULTS.keys()];
    if (DEFAULTS.has(pageCode)) return [pageCode];
    throw invalidCdbField(2, 5);
  }

  private page(pageCode: number, pc: number): Buffer {
    const source = pc === PageControl.CURRENT ? this.current : pc === PageControl.CHANGEABLE ? CHANGEABLE : DEFAULTS;
    const bytes = source.get(pageCode)!;
    return Buffer.concat([Buffer.from([pageCode, bytes.length]), bytes]);
  }

  /** A short (8-byte) or, with LLBAA, a long (16-byte) block descriptor; all zeros as a changeable mask. */
  private blockDescriptor(longLba: boolean, mask: boolean): Buffer {
    const d = Buffer.alloc(longLba ? 16 : 8);
    if (mask) return d;
    const blocks = this.o.blocks();
    if (longLba) {
      d.writeBigUInt64BE(BigInt(blocks), 0);
      d.writeUInt32BE(this.o.blockSize, 12);
    } else {
      // A capacity that does not fit reads 0xFFFFFFFF, like READ CAPACITY(10).
      d.writeUInt32BE(Math.min(blocks, 0xffffffff), 0);
      d.writeUIntBE(this.o.blockSize, 5, 3);
    }
    return d;
  }

  /** MODE SELECT may repeat the block descriptor but not change it (the number of blocks may be 0: "no change"). */
  private checkBlockDescriptor(d: Buffer, longLba: boolean, offset: number): void {
    const expected = this.blockDescriptor(longLba, false);
    if (d.length !== expected.length) throw new ScsiCheckCondition(Sense.PARAMETER_LIST_LENGTH_ERROR);
    const countLength = longLba ? 8 : 4;
    const count = d.subarray(0, countLength);
    if (!count.equals(Buffer.alloc(countLength)) && !count.equals(expected.subarray(0, countLength))) throw invalidParameterField(offset);
    for (let i = countLength; i < d.length; i++) if (d[i] !== expected[i]) throw invalidParameterField(offset + i);
  }
}
