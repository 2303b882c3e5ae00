/**
 * What a medium changer logical unit needs from the tape library behind it: the elements as they are now, and
 * moves between them. The changer turns both into SMC-3 terms; the library knows nothing of SCSI.
 */

export type ElementType = 'transport' | 'storage' | 'importExport' | 'drive';

export interface ChangerElement {
  type: ElementType;
  /** Element address; the library gives ranges ascending in type order: transport, storage, import/export, drive. */
  address: number;
  full: boolean;
  /** The barcode of the tape in it (PVolTag), when full. */
  barcode?: string;
  /** Where the tape in it came from (SValid + source address), when known. */
  sourceAddress?: number;
  /** False for an element the robot cannot reach right now (e.g. a tape being archived): Access bit clear. */
  accessible: boolean;
}

export type MoveRefusal = 'source-empty' | 'destination-full' | 'bad-address' | 'removal-prevented';

/** Thrown by ChangerBackend.move for a refused move; anything else thrown is a hardware error (04/44/00). */
export class ChangerMoveRefused extends Error {
  constructor(
    readonly reason: MoveRefusal,
    message?: string,
  ) {
    super(message ?? `move refused: ${reason}`);
    this.name = new.target.name;
  }
}

export interface ChangerBackend {
  /** Every element, ascending by address. */
  elements(): ChangerElement[];
  move(source: number, destination: number): Promise<void>;
}
