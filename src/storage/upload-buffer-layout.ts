/**
 * Where the upload buffer's bytes live. Every disk starts with a reserved area (the superblock's two copies on the
 * first disk, a label on the others); the rest of each disk, cut down to whole sectors, is one region. The regions,
 * in the disks' order, form the ring's "logical" byte space [0, capacity): a logical position maps to exactly one
 * disk offset, and the end of one region is the start of the next.
 */

export const SECTOR = 512;
/** Two superblock copies, each in its own 4 KiB block so a torn write of one cannot touch the other. */
export const SUPERBLOCK_SLOT_BYTES = 4096;
export const FIRST_DISK_RESERVED = 2 * SUPERBLOCK_SLOT_BYTES;
export const LABEL_RESERVED = 4096;

export const alignUp = (n: number): number => Math.ceil(n / SECTOR) * SECTOR;

export interface DiskLocation {
  disk: number;
  offset: number;
}

export interface Placement {
  /** Where the record itself goes. */
  pos: number;
  /** Ring bytes the record uses from the head on, including the unused end of a region it skipped. */
  slot: number;
}

export class RingLayout {
  readonly capacity: number;
  /** The largest record footprint any region can hold; records never span regions. */
  readonly largestRegion: number;
  /** starts[i] is region i's first logical position; starts[n] is the capacity. */
  private readonly starts: number[];

  constructor(readonly diskSizes: readonly number[]) {
    this.starts = [0];
    let largest = 0;
    diskSizes.forEach((size, i) => {
      const usable = regionBytes(size, i);
      largest = Math.max(largest, usable);
      this.starts.push(this.starts[i]! + usable);
    });
    this.capacity = this.starts[diskSizes.length]!;
    this.largestRegion = largest;
  }

  get regionCount(): number {
    return this.diskSizes.length;
  }

  regionStart(region: number): number {
    return this.starts[region]!;
  }

  regionEnd(region: number): number {
    return this.starts[region + 1]!;
  }

  /** The region holding logical position `pos` (0 <= pos < capacity). */
  regionOf(pos: number): number {
    let lo = 0;
    let hi = this.regionCount - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Every position the ring uses is sector-aligned; a superblock saying otherwise is not one to trust. */
  isPosition(pos: number): boolean {
    return Number.isSafeInteger(pos) && pos >= 0 && pos < this.capacity && pos % SECTOR === 0;
  }

  isRegionStart(pos: number): boolean {
    return this.starts.indexOf(pos) >= 0 && pos < this.capacity;
  }

  locate(pos: number): DiskLocation {
    const disk = this.regionOf(pos);
    return { disk, offset: reservedBytes(disk) + pos - this.starts[disk]! };
  }

  /** Moves a position forward, folding the end of the ring back to its start. */
  advance(pos: number, bytes: number): number {
    return (pos + bytes) % this.capacity;
  }

  distance(from: number, to: number): number {
    return (to - from + this.capacity) % this.capacity;
  }

  /**
   * Where a record of `footprint` bytes goes when the head is at `head`: right there if it fits in the rest of the
   * region, else at the start of the next region (wrapping to the first) large enough. Undefined when no region is.
   */
  place(head: number, footprint: number): Placement | undefined {
    const region = this.regionOf(head);
    if (head + footprint <= this.regionEnd(region)) return { pos: head, slot: footprint };
    for (let k = 1; k <= this.regionCount; k++) {
      const next = (region + k) % this.regionCount;
      if (this.regionEnd(next) - this.regionStart(next) < footprint) continue;
      const pos = this.regionStart(next);
      return { pos, slot: this.distance(head, pos) + footprint };
    }
    return undefined;
  }
}

export function reservedBytes(disk: number): number {
  return disk === 0 ? FIRST_DISK_RESERVED : LABEL_RESERVED;
}

/** Bytes of a disk the ring may use; not positive when the disk is too small to hold anything. */
export function regionBytes(sizeBytes: number, disk: number): number {
  return Math.floor((sizeBytes - reservedBytes(disk)) / SECTOR) * SECTOR;
}
