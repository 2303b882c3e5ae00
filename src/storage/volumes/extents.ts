/** Half-open byte ranges [start, end) within one chunk, kept sorted and merged. */
export type Extent = readonly [start: number, end: number];

export function addExtent(extents: readonly Extent[], added: Extent): Extent[] {
  const out: Extent[] = [];
  let [start, end] = added;
  for (const [s, e] of extents) {
    if (e < start || s > end) out.push([s, e]);
    else {
      start = Math.min(start, s);
      end = Math.max(end, e);
    }
  }
  out.push([start, end]);
  return out.sort((a, b) => a[0] - b[0]);
}

export function covers(extents: readonly Extent[], start: number, end: number): boolean {
  return extents.some(([s, e]) => s <= start && e >= end);
}
