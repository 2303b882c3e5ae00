import { formatSize } from '../sizes.js';

/**
 * One reading of a long operation. Words alone where nothing can be measured; otherwise `done` out of `total`
 * in `unit`s, or in percent when there is no unit and the total is 100. A total not known yet leaves the amount
 * done standing alone.
 */
export interface Progress {
  label: string;
  done?: number;
  total?: number;
  unit?: 'bytes' | 'items';
}

/** Where a reading goes: drawn on a terminal, or written out as lines. */
export interface ProgressDisplay {
  show(progress: Progress): void;
  /** Leaves `last` (else the last reading shown) as the final state, if anything was shown at all. */
  end(last?: Progress): Promise<void>;
}

/** Whole percent of the total, never more than 100 (work can outgrow a total guessed early); undefined without one. */
export function percentOf(p: Progress): number | undefined {
  if (p.done === undefined || p.total === undefined) return undefined;
  if (p.total <= 0) return 100;
  return Math.min(100, Math.max(0, Math.floor((p.done * 100) / p.total)));
}

export function amountOf(n: number, unit: Progress['unit']): string {
  return unit === 'bytes' ? formatSize(n) : String(n);
}

/** The reading as one line of text: "snap-0a1b2c3d: 42%", "uploading team: 42% (12.0 MiB of 28.5 MiB)". */
export function progressLine(p: Progress): string {
  if (p.done === undefined) return p.label;
  const percent = percentOf(p);
  if (percent === undefined) return `${p.label}: ${amountOf(p.done, p.unit)}`;
  if (p.unit === undefined || p.total === undefined) return `${p.label}: ${percent}%`;
  return `${p.label}: ${percent}% (${amountOf(p.done, p.unit)} of ${amountOf(p.total, p.unit)})`;
}

/**
 * Readings as lines, one per change: a JSON object on stdout that a script reads ahead of the result, or text on
 * stderr where stdout must hold nothing but the result.
 */
export function progressLines(to: 'stdout' | 'stderr'): ProgressDisplay {
  let shown = '';
  return {
    show(progress) {
      const line = progressLine(progress);
      if (line === shown) return;
      shown = line;
      if (to === 'stdout') process.stdout.write(`${JSON.stringify({ progress: line })}\n`);
      else process.stderr.write(`${line}\n`);
    },
    // Lines already tell the whole story: the result printed next says how it ended.
    end: async () => undefined,
  };
}
