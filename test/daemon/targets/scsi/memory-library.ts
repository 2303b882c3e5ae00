import { ChangerMoveRefused, type ChangerBackend, type ChangerElement, type ElementType } from '../../../../src/daemon/targets/scsi/scsi-changer.js';

/** Where each type's range starts, as in the real library's layout. */
export const BASE: Readonly<Record<ElementType, number>> = { transport: 0, storage: 0x1000, importExport: 0x2000, drive: 0x3000 };

export interface LibraryShape {
  transports?: number;
  slots?: number;
  mailslots?: number;
  drives?: number;
}

interface Tape {
  barcode?: string;
  source?: number;
}

/**
 * An in-memory tape library: elements in ascending ranges by type, tapes in them, and moves that refuse what the
 * real library refuses. It records every move it is asked for and can be told to fail.
 */
export class MemoryLibrary implements ChangerBackend {
  readonly slots: number;
  readonly mailslots: number;
  readonly drives: number;
  private readonly layout: Array<{ type: ElementType; address: number }>;
  private readonly tapes = new Map<number, Tape>();
  /** Every move asked for, refused or not. */
  readonly moves: Array<[number, number]> = [];
  /** Drives whose tape may not be taken out (PREVENT MEDIUM REMOVAL on the drive). */
  readonly prevented = new Set<number>();
  /** Elements the robot cannot reach. */
  readonly unreachable = new Set<number>();
  /** When set, move rejects with it. */
  moveFailure: Error | undefined;
  /** When set, elements throws it. */
  elementsFailure: Error | undefined;

  constructor({ transports = 1, slots = 20, mailslots = 4, drives = 10 }: LibraryShape = {}) {
    this.slots = slots;
    this.mailslots = mailslots;
    this.drives = drives;
    const range = (type: ElementType, n: number) => Array.from({ length: n }, (_, i) => ({ type, address: BASE[type] + i }));
    this.layout = [...range('transport', transports), ...range('storage', slots), ...range('importExport', mailslots), ...range('drive', drives)];
  }

  /** Puts a tape in an element, as an operator would: where it came from is unknown. */
  put(address: number, barcode?: string): this {
    this.tapes.set(address, barcode === undefined ? {} : { barcode });
    return this;
  }

  elements(): ChangerElement[] {
    if (this.elementsFailure) throw this.elementsFailure;
    return this.layout.map(({ type, address }) => {
      const tape = this.tapes.get(address);
      return {
        type,
        address,
        full: tape !== undefined,
        ...(tape?.barcode === undefined ? {} : { barcode: tape.barcode }),
        ...(tape?.source === undefined ? {} : { sourceAddress: tape.source }),
        accessible: !this.unreachable.has(address),
      };
    });
  }

  async move(source: number, destination: number): Promise<void> {
    this.moves.push([source, destination]);
    if (this.moveFailure) throw this.moveFailure;
    const holder = (address: number) => this.layout.some((e) => e.address === address && e.type !== 'transport');
    if (!holder(source) || !holder(destination)) throw new ChangerMoveRefused('bad-address', `no element to move between ${source} and ${destination}`);
    const tape = this.tapes.get(source);
    if (!tape) throw new ChangerMoveRefused('source-empty');
    if (this.tapes.has(destination)) throw new ChangerMoveRefused('destination-full');
    if (this.prevented.has(source) || this.unreachable.has(source)) throw new ChangerMoveRefused('removal-prevented');
    this.tapes.delete(source);
    this.tapes.set(destination, { ...tape, source });
  }
}
