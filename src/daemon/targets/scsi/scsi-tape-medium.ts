/**
 * What a tape drive logical unit needs from the library behind it: the tape it holds, as an ordered list of logical
 * objects (records and filemarks). The drive keeps the position; the tape knows nothing of SCSI.
 */

/** One tape's logical objects in order, as the library hands it to a drive; position p is the object index. */
export type { DriveMedium as TapeMedium } from '../../../storage/tapes/tape-library.js';
import type { DriveMedium as TapeMedium } from '../../../storage/tapes/tape-library.js';

export interface TapeDriveBackend {
  /** The tape in the drive (put there by the changer), or undefined; a different object is a different tape. */
  medium(): TapeMedium | undefined;
  /** PREVENT ALLOW MEDIUM REMOVAL: while prevented, the changer refuses to move the tape out. */
  setRemovalPrevented(prevented: boolean): void;
}

/** The first filemark at or after p, or undefined (binary search of the ascending positions). */
export function filemarkFrom(marks: readonly number[], p: number): number | undefined {
  const i = lowerBound(marks, p);
  return i < marks.length ? marks[i] : undefined;
}

/** How many filemarks lie before position p. */
export function filemarksBefore(marks: readonly number[], p: number): number {
  return lowerBound(marks, p);
}

function lowerBound(marks: readonly number[], p: number): number {
  let lo = 0;
  let hi = marks.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (marks[mid]! < p) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
