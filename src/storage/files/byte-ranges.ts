/** A half-open byte range [start, end). */
export type Range = readonly [start: number, end: number];

/**
 * A set of byte offsets kept as sorted, disjoint, non-adjacent ranges: which parts of a file its cache file holds.
 * Files are written in large runs, so the list stays short.
 */
export class ByteRanges {
  private ranges: Array<[number, number]>;

  constructor(ranges: ReadonlyArray<Range> = []) {
    this.ranges = [];
    for (const [start, end] of ranges) this.add(start, end);
  }

  add(start: number, end: number): void {
    if (end <= start) return;
    const kept: Array<[number, number]> = [];
    let merged: [number, number] = [start, end];
    for (const r of this.ranges) {
      if (r[1] < merged[0] || r[0] > merged[1]) kept.push(r);
      else merged = [Math.min(r[0], merged[0]), Math.max(r[1], merged[1])];
    }
    kept.push(merged);
    this.ranges = kept.sort((a, b) => a[0] - b[0]);
  }

  /** Drops everything at or beyond `end`. */
  clip(end: number): void {
    this.ranges = this.ranges.filter(([s]) => s < end).map(([s, e]): [number, number] => [s, Math.min(e, end)]);
  }

  /** The parts of [start, end) the set does not hold, in order. */
  missing(start: number, end: number): Range[] {
    const gaps: Range[] = [];
    let at = start;
    for (const [s, e] of this.ranges) {
      if (e <= at) continue;
      if (s >= end) break;
      if (s > at) gaps.push([at, s]);
      at = Math.max(at, e);
      if (at >= end) break;
    }
    if (at < end) gaps.push([at, end]);
    return gaps;
  }

  /** Whether the set holds all of [start, end). */
  covers(start: number, end: number): boolean {
    return this.missing(start, end).length === 0;
  }

  /** Whether the set holds any byte of [start, end). */
  overlaps(start: number, end: number): boolean {
    return start < end && this.ranges.some(([s, e]) => s < end && e > start);
  }

  /** Bytes held. */
  get bytes(): number {
    return this.ranges.reduce((n, [s, e]) => n + e - s, 0);
  }

  toJSON(): Range[] {
    return this.ranges.map(([s, e]) => [s, e]);
  }
}
