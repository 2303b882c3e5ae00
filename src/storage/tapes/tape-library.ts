import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { SgwError } from '../../errors.js';
import type { IoCounters, TapeDetails, TapeSummary } from '../../rpc/api.js';
import { countedRead, countedWrite, emptyIoCounters } from '../io-counters.js';
import type { Catalog, TapeRecord } from '../catalog/catalog.js';
import { ArchivedTape } from './archived-tape.js';
import { DRIVE_BASE, DRIVES, elementKind, MAILSLOT_BASE, MAILSLOTS, SLOT_BASE, SLOTS, TRANSPORT, describeElement, type ElementKind } from './library-layout.js';
import { TapeArchiver, type ArchiverStores } from './tape-archiver.js';
import { TapeLog } from './tape-log.js';
import { checkBarcode, checkBarcodePrefix, nextBarcodes } from './barcodes.js';
import { checkPool } from './tape-pools.js';

const GiB = 1024 ** 3;
export const MIN_TAPE_BYTES = 100 * GiB;
export const MAX_TAPE_BYTES = 2560 * GiB;
export const MAX_TAPES = 1500;
const MAX_LIBRARY_BYTES = 1024 ** 5;

export interface LibraryElement {
  kind: ElementKind;
  address: number;
  barcode?: string;
  sourceAddress?: number;
  /** False while the tape in it is on its way to the archive. */
  accessible: boolean;
}

export type MoveRefusal = 'source-empty' | 'destination-full' | 'bad-address' | 'removal-prevented';

/** A move the library refuses, for a reason a changer reports in its own terms. */
export class TapeMoveError extends SgwError {
  constructor(readonly reason: MoveRefusal, message: string) {
    super('SGW_INVALID_ARGUMENT', message);
  }
}

/** The tape in a drive, as the drive reads and writes it: positions are logical object numbers. */
export interface DriveMedium {
  readonly barcode: string;
  readonly writeProtected: boolean;
  readonly capacityBytes: number;
  objectCount(): number;
  filemarks(): readonly number[];
  bytesBefore(p: number): number;
  read(p: number): Promise<Buffer | 'filemark'>;
  write(p: number, records: Buffer[]): Promise<void>;
  writeFilemarks(p: number, count: number): Promise<void>;
  truncate(p: number): Promise<void>;
}

interface Drive {
  medium?: DriveMedium;
  prevented: boolean;
  /** Reads and writes of records through the drive since the library opened, whichever tape was in it. */
  io: IoCounters;
}

/**
 * The virtual tape library: which tape is in which element, the tapes loaded in drives (their logs open), and
 * the moves between elements. A tape moved to a mailslot leaves for the archive, as with AWS's tape gateway;
 * the archiver does the rest in the background.
 */
export class TapeLibrary {
  private readonly drives: Drive[] = Array.from({ length: DRIVES }, () => ({ prevented: false, io: emptyIoCounters() }));
  private readonly logs = new Map<string, TapeLog>();
  readonly archiver: TapeArchiver;

  private constructor(private readonly o: { catalog: Catalog; stateDir: string; log: Logger; stores: ArchiverStores }) {
    this.archiver = new TapeArchiver({
      catalog: o.catalog, log: o.log, stores: o.stores, withLog: (barcode, fn) => this.withLog(barcode, fn), loaded: (barcode) => this.driveOf(barcode) !== undefined,
      dropLog: (barcode) => rm(this.logPath(barcode), { force: true }), freeSlot: () => this.freeSlot(), topUp: () => this.topUp(),
    });
  }

  /** Puts back in their drives the tapes the catalog has there, and starts the archiver. */
  static async open(o: { catalog: Catalog; stateDir: string; log: Logger; stores: ArchiverStores }): Promise<TapeLibrary> {
    await mkdir(path.join(o.stateDir, 'tapes'), { recursive: true, mode: 0o700 });
    const library = new TapeLibrary(o);
    for (const tape of o.catalog.tapes()) {
      if (tape.element !== null && elementKind(tape.element) === 'drive') library.drives[tape.element - DRIVE_BASE]!.medium = metered(await library.mediumFor(tape), library.drives[tape.element - DRIVE_BASE]!.io);
    }
    library.archiver.start();
    return library;
  }

  elements(): LibraryElement[] {
    const byElement = new Map(this.o.catalog.tapes().filter((t) => t.element !== null).map((t) => [t.element!, t]));
    const element = (kind: ElementKind, address: number): LibraryElement => {
      const tape = byElement.get(address);
      return {
        kind, address, accessible: tape?.status !== 'IN TRANSIT TO VTS' && tape?.status !== 'ARCHIVING',
        ...(tape ? { barcode: tape.barcode } : {}), ...(tape?.sourceElement != null ? { sourceAddress: tape.sourceElement } : {}),
      };
    };
    const range = (kind: ElementKind, base: number, count: number) => Array.from({ length: count }, (_, i) => element(kind, base + i));
    return [element('transport', TRANSPORT), ...range('slot', SLOT_BASE, SLOTS), ...range('mailslot', MAILSLOT_BASE, MAILSLOTS), ...range('drive', DRIVE_BASE, DRIVES)];
  }

  /** Drive `index` (0-9), as its SCSI unit sees it. */
  drive(index: number): { medium(): DriveMedium | undefined; setRemovalPrevented(prevented: boolean): void; io: IoCounters } {
    const drive = this.drives[index]!;
    return { medium: () => drive.medium, setRemovalPrevented: (prevented) => void (drive.prevented = prevented), io: drive.io };
  }

  /** MOVE MEDIUM: slot, drive and mailslot to any of them. Into a mailslot means off to the archive. */
  async move(source: number, destination: number): Promise<void> {
    const [from, to] = [elementKind(source), elementKind(destination)];
    if (!from || !to || from === 'transport' || to === 'transport') throw new TapeMoveError('bad-address', `no element ${from ? destination : source} to move between`);
    const tape = this.o.catalog.tapes().find((t) => t.element === source);
    if (!tape) throw new TapeMoveError('source-empty', `element ${source} is empty`);
    if (source === destination) return;
    if (this.o.catalog.tapes().some((t) => t.element === destination)) throw new TapeMoveError('destination-full', `element ${destination} is full`);
    if (tape.status === 'IN TRANSIT TO VTS' || tape.status === 'ARCHIVING') throw new TapeMoveError('removal-prevented', `${tape.barcode} is on its way to the archive`);
    if (from === 'drive') {
      const drive = this.drives[source - DRIVE_BASE]!;
      if (drive.prevented) throw new TapeMoveError('removal-prevented', `the drive holding ${tape.barcode} prevents its removal`);
      drive.medium = undefined;
      await this.closeLog(tape.barcode);
    }
    this.o.catalog.updateTape(tape.barcode, { element: destination, sourceElement: source });
    if (to === 'drive') {
      const drive = this.drives[destination - DRIVE_BASE]!;
      drive.medium = metered(await this.mediumFor({ ...tape, element: destination }), drive.io);
    }
    if (to === 'mailslot') {
      // A retrieved tape is still in the archive: out of the library it is simply back on the shelf.
      if (tape.status === 'RETRIEVED') this.o.catalog.updateTape(tape.barcode, { status: 'ARCHIVED', element: null, sourceElement: null });
      else this.archiver.archive(tape.barcode);
    }
    this.o.log.info({ barcode: tape.barcode, from: describeElement(source), to: describeElement(destination) }, 'tape moved');
  }

  /** sgw tape eject: a tape in a slot (or a drive that allows it) leaves for the archive. */
  async eject(barcode: string): Promise<void> {
    const tape = this.mustTape(barcode);
    if (tape.status === 'RETRIEVED') {
      await this.leaveDrive(tape);
      this.o.catalog.updateTape(barcode, { status: 'ARCHIVED', element: null, sourceElement: null });
      return;
    }
    if (tape.status !== 'AVAILABLE') throw new SgwError('SGW_IN_USE', `${barcode} is ${tape.status}; only an AVAILABLE or RETRIEVED tape can be ejected`);
    await this.leaveDrive(tape);
    this.o.catalog.updateTape(barcode, { element: null });
    this.archiver.archive(barcode);
  }

  /** sgw tape cancel-archival: a tape still IN TRANSIT TO VTS goes back to a slot, AVAILABLE. */
  cancelArchival(barcode: string): void {
    const tape = this.mustTape(barcode);
    if (tape.status !== 'IN TRANSIT TO VTS') throw new SgwError('SGW_IN_USE', `${barcode} is ${tape.status}; archival can be cancelled only while the tape is IN TRANSIT TO VTS`);
    this.o.catalog.updateTape(barcode, { status: 'AVAILABLE', element: this.freeSlot(), sourceElement: tape.element });
  }

  /** sgw tape retrieve: an archived tape comes back read-only; RETRIEVING until the archive has it ready. */
  retrieve(barcode: string): TapeRecord {
    const tape = this.mustTape(barcode);
    if (tape.status !== 'ARCHIVED') throw new SgwError('SGW_IN_USE', `${barcode} is ${tape.status}; only an ARCHIVED tape can be retrieved`);
    this.freeSlot();
    return this.archiver.retrieve(barcode);
  }

  /** sgw tape delete: a tape in the library and its data; an archived one with delete-archive. */
  async delete(barcode: string): Promise<void> {
    const tape = this.mustTape(barcode);
    if (tape.status === 'ARCHIVED') throw new SgwError('SGW_IN_USE', `${barcode} is archived; delete it with sgw tape delete-archive ${barcode}`);
    if (tape.status !== 'AVAILABLE' && tape.status !== 'RETRIEVED') throw new SgwError('SGW_IN_USE', `${barcode} is ${tape.status}; wait until it is ARCHIVED or AVAILABLE`);
    if (this.driveOf(barcode) !== undefined) throw new SgwError('SGW_IN_USE', `${barcode} is in a drive; move it to a slot first (mtx unload)`);
    if (tape.status === 'AVAILABLE') await this.archiver.dropSegments(barcode);
    await rm(this.logPath(barcode), { force: true });
    this.o.catalog.deleteTape(barcode);
  }

  /** sgw tape delete-archive: an archived tape and its archive blobs. */
  async deleteArchive(barcode: string): Promise<void> {
    const tape = this.mustTape(barcode);
    if (tape.status !== 'ARCHIVED') throw new SgwError('SGW_IN_USE', `${barcode} is ${tape.status}; only an ARCHIVED tape's archive can be deleted`);
    await this.archiver.deleteArchive(barcode);
    this.o.catalog.deleteTape(barcode);
  }

  /**
   * New tapes in free slots, AVAILABLE: `count` with generated barcodes of a prefix, or one with a given barcode.
   * AWS's limits hold: 100 GiB to 2.5 TiB a tape, 1,500 tapes and 1 PiB in the library.
   */
  createTapes(o: { sizeBytes: number; pool: string; count?: number; prefix?: string; barcode?: string }): TapeRecord[] {
    if (o.sizeBytes < MIN_TAPE_BYTES || o.sizeBytes > MAX_TAPE_BYTES) throw new SgwError('SGW_INVALID_SIZE', 'a tape holds 100 GiB to 2.5 TiB');
    const tapes = this.o.catalog.tapes();
    const count = o.barcode ? 1 : o.count ?? 1;
    if (tapes.length + count > MAX_TAPES) throw new SgwError('SGW_LIMIT_EXCEEDED', `a library holds at most ${MAX_TAPES} tapes; it has ${tapes.length}`);
    const total = tapes.reduce((n, t) => n + t.sizeBytes, 0) + count * o.sizeBytes;
    if (total > MAX_LIBRARY_BYTES) throw new SgwError('SGW_LIMIT_EXCEEDED', 'a library holds at most 1 PiB of tapes; delete or archive some first');
    const taken = new Set(tapes.map((t) => t.barcode));
    const barcodes = o.barcode ? [checkBarcode(o.barcode)] : nextBarcodes(checkBarcodePrefix(o.prefix ?? ''), count, taken);
    const slots = this.freeSlots(count);
    const now = new Date().toISOString();
    const records: TapeRecord[] = barcodes.map((barcode, i) => ({
      barcode, sizeBytes: o.sizeBytes, status: 'AVAILABLE', createdAt: now, pool: checkPool(o.pool), usedBytes: 0, element: slots[i]!, sourceElement: null,
    }));
    this.o.catalog.addTapes(records);
    this.o.log.info({ barcodes, sizeBytes: o.sizeBytes, pool: o.pool }, 'tapes created');
    return records;
  }

  /** Refuses a creation policy whose tapes could not be created. */
  checkPolicy(p: { sizeBytes: number; barcodePrefix: string; pool: string }): void {
    if (p.sizeBytes < MIN_TAPE_BYTES || p.sizeBytes > MAX_TAPE_BYTES) throw new SgwError('SGW_INVALID_SIZE', 'a tape holds 100 GiB to 2.5 TiB');
    checkBarcodePrefix(p.barcodePrefix);
    checkPool(p.pool);
  }

  /** A slot no tape holds, for a tape coming into the library. */
  freeSlot(): number {
    return this.freeSlots(1)[0]!;
  }

  private freeSlots(count: number): number[] {
    const taken = new Set(this.o.catalog.tapes().map((t) => t.element));
    const free: number[] = [];
    for (let a = SLOT_BASE; a < SLOT_BASE + SLOTS && free.length < count; a++) if (!taken.has(a)) free.push(a);
    if (free.length < count) throw new SgwError('SGW_LIMIT_EXCEEDED', 'the storage slots of the library are full; eject or delete a tape first');
    return free;
  }

  /** The automatic creation policy: keeps its number of empty AVAILABLE tapes in the slots. */
  private topUp(): void {
    const policy = this.o.catalog.tapePolicy();
    if (!policy) return;
    const empty = this.o.catalog.tapes().filter((t) => t.status === 'AVAILABLE' && t.usedBytes === 0 && t.element !== null && elementKind(t.element) === 'slot').length;
    const missing = Math.min(policy.minimumAvailable - empty, MAX_TAPES - this.o.catalog.tapes().length);
    if (missing > 0) this.createTapes({ sizeBytes: policy.sizeBytes, pool: policy.pool, count: missing, prefix: policy.barcodePrefix });
  }

  describe(barcode: string): TapeDetails {
    const tape = this.mustTape(barcode);
    const progress = this.archiver.progress(barcode);
    return { ...summary(tape), location: describeElement(tape.element), ...(tape.archivedAt ? { archivedAt: tape.archivedAt } : {}), ...(tape.retrievalEta ? { retrievalEta: tape.retrievalEta } : {}), ...(progress !== undefined ? { progress } : {}) };
  }

  list(): TapeSummary[] {
    return this.o.catalog.tapes().map(summary);
  }

  async close(): Promise<void> {
    await this.archiver.close();
    for (const drive of this.drives) drive.medium = undefined;
    for (const barcode of [...this.logs.keys()]) await this.closeLog(barcode);
  }

  private mustTape(barcode: string): TapeRecord {
    const tape = this.o.catalog.tape(barcode);
    if (!tape) throw new SgwError('SGW_NOT_FOUND', `there is no tape ${barcode}; sgw tape list shows the tapes`);
    return tape;
  }

  private driveOf(barcode: string): number | undefined {
    const index = this.drives.findIndex((d) => d.medium?.barcode === barcode);
    return index < 0 ? undefined : index;
  }

  private async leaveDrive(tape: TapeRecord): Promise<void> {
    const index = this.driveOf(tape.barcode);
    if (index === undefined) return;
    if (this.drives[index]!.prevented) throw new SgwError('SGW_IN_USE', `the drive holding ${tape.barcode} prevents its removal; let the backup application release it`);
    this.drives[index]!.medium = undefined;
    await this.closeLog(tape.barcode);
  }

  private logPath(barcode: string): string {
    return path.join(this.o.stateDir, 'tapes', `${barcode}.log`);
  }

  private async withLog<T>(barcode: string, fn: (log: TapeLog) => Promise<T>): Promise<T> {
    const open = this.logs.get(barcode);
    if (open) return fn(open);
    const log = await TapeLog.open(this.logPath(barcode));
    try {
      return await fn(log);
    } finally {
      await log.close();
    }
  }

  private async closeLog(barcode: string): Promise<void> {
    const log = this.logs.get(barcode);
    if (!log) return;
    this.logs.delete(barcode);
    this.o.catalog.updateTape(barcode, { usedBytes: log.bytesBefore(log.objectCount()) });
    await log.close();
    this.archiver.wake();
  }

  private async mediumFor(tape: TapeRecord): Promise<DriveMedium> {
    const base = { barcode: tape.barcode, capacityBytes: tape.sizeBytes };
    if (tape.status === 'RETRIEVED') {
      const archived = new ArchivedTape(this.o.catalog.tapeSegments(tape.barcode), await this.o.stores.archive(tape.pool));
      const refused = async () => {
        throw new SgwError('SGW_IN_USE', `${tape.barcode} is a retrieved tape: read-only`);
      };
      return {
        ...base, writeProtected: true, objectCount: () => archived.objectCount(), filemarks: () => archived.filemarks(),
        bytesBefore: (p) => archived.bytesBefore(p), read: (p) => archived.read(p), write: refused, writeFilemarks: refused, truncate: refused,
      };
    }
    const log = await TapeLog.open(this.logPath(tape.barcode));
    this.logs.set(tape.barcode, log);
    // What is about to be overwritten is no longer the tape's: its segments go before the log changes.
    const changing = (p: number) => this.archiver.invalidateFrom(tape.barcode, p);
    return {
      ...base, writeProtected: false, objectCount: () => log.objectCount(), filemarks: () => log.filemarks(),
      bytesBefore: (p) => log.bytesBefore(p), read: (p) => log.read(p),
      write: async (p, records) => {
        changing(p);
        await log.write(p, records);
      },
      writeFilemarks: async (p, count) => {
        changing(p);
        await log.writeFilemarks(p, count);
      },
      truncate: async (p) => {
        changing(p);
        await log.truncate(p);
      },
    };
  }
}

function summary(t: TapeRecord): TapeSummary {
  return { barcode: t.barcode, sizeBytes: t.sizeBytes, status: t.status, createdAt: t.createdAt, pool: t.pool, usedBytes: t.usedBytes };
}

/** The medium with its record reads and writes counted in the drive's counters. */
function metered(medium: DriveMedium, io: IoCounters): DriveMedium {
  return {
    ...medium,
    read: (p) => countedRead(io, (r) => (r === 'filemark' ? 0 : r.length), () => medium.read(p)),
    write: (p, records) => countedWrite(io, records.reduce((n, r) => n + r.length, 0), () => medium.write(p, records)),
  };
}
