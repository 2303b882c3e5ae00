import { Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import t from 'tap';
import { progressLine, progressLines, type Progress } from '../../src/cli/progress-model.js';

// ink redraws in place only where it does not believe it runs in CI; it reads that once, when first imported.
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
const { progressBar } = await import('../../src/cli/progress-bar.js');

/** A terminal of `columns` that keeps everything written to it. */
function fakeTerminal(columns: number): NodeJS.WriteStream & { written: string } {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      stream.written += chunk.toString();
      done();
    },
  }) as Writable & { written: string; isTTY: boolean; columns: number; rows: number };
  Object.assign(stream, { written: '', isTTY: true, columns, rows: 24 });
  return stream as unknown as NodeJS.WriteStream & { written: string };
}

/** Draws the readings one after the other, as follow does, and returns what the terminal received. */
async function draw(columns: number, readings: Progress[], last?: Progress): Promise<{ raw: string; lines: string[] }> {
  const terminal = fakeTerminal(columns);
  const bar = progressBar(terminal);
  for (const reading of readings) {
    bar.show(reading);
    // Past ink's frame throttle, so that each reading is drawn.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await bar.end(last);
  return { raw: terminal.written, lines: stripVTControlCharacters(terminal.written).split('\n').filter((l) => l !== '') };
}

t.test('a known total: the bar fills the line, with the percentage and the amounts', async (t) => {
  const { lines } = await draw(40, [{ label: 'snap-1', done: 50, total: 100 }]);
  t.same(lines, [`snap-1 [${'#'.repeat(13)}${'-'.repeat(13)}]  50%`], 'in percent: the bar takes what the line leaves');

  const MiB = 2 ** 20;
  const bytes = await draw(100, [{ label: 'uploading team', done: 12 * MiB, total: 28.5 * MiB, unit: 'bytes' }]);
  t.match(bytes.lines, [/^uploading team \[#+-+\]  42%  12 MiB \/ 28\.5 MiB$/]);
  t.equal(bytes.lines[0]!.match(/\[([#-]+)\]/)![1]!.length, 40, 'no wider than 40 cells on a wide terminal');

  const narrow = await draw(30, [{ label: 'refreshing team', done: 1, total: 4, unit: 'items' }]);
  t.same(narrow.lines, ['refr… [###-------]  25%  1 / 4'], 'never narrower than 10 cells: the label gives way, the line stays one');
});

t.test('an unknown total draws the label and the amount so far, no bar', async (t) => {
  t.same((await draw(80, [{ label: 'uploading team', done: 3 * 2 ** 20, unit: 'bytes' }])).lines, ['uploading team  3 MiB']);
  const words = 'uploading: 12.0 MiB of volumes, 3 files (1.00 MiB) of shares';
  t.same((await draw(80, [{ label: words }])).lines, [words], 'words alone');
});

t.test('each reading is drawn over the one before, and the last stays as the final line', async (t) => {
  const readings = [0, 40, 80].map((done): Progress => ({ label: 'snap-1', done, total: 100 }));
  const { raw, lines } = await draw(40, readings, { label: 'snap-1', done: 100, total: 100 });
  t.same(lines.map((l) => l.match(/\d+%$/)?.[0]), ['0%', '40%', '80%', '100%'], 'one frame per reading, the final one last');
  t.equal(raw.split('\u001B[1A').length - 1, 3, 'every later frame moves up over the one before');
  t.equal(lines.at(-1), `snap-1 [${'#'.repeat(26)}] 100%`);
  const after = raw.slice(raw.lastIndexOf('100%'));
  t.match(after, /^100%\n/, 'the final frame ends its line');
  t.notMatch(after, /\u001B\[(1A|2K)/, 'and is not erased');
});

t.test('without a final reading the last one shown stays; nothing shown, nothing drawn', async (t) => {
  const { lines } = await draw(40, [{ label: 'snap-1', done: 7, total: 100 }]);
  t.same(lines.map((l) => l.match(/\d+%$/)?.[0]), ['7%']);
  t.equal((await draw(40, [], { label: 'snap-1', done: 100, total: 100 })).raw, '', 'an operation done at once draws no bar');
});

t.test('without a terminal: one line per change, as JSON on stdout or text on stderr', async (t) => {
  t.equal(progressLine({ label: 'snap-0a1b2c3d', done: 42, total: 100 }), 'snap-0a1b2c3d: 42%');
  t.equal(progressLine({ label: 'uploading team', done: 3 * 2 ** 20, total: 4 * 2 ** 20, unit: 'bytes' }), 'uploading team: 75% (3 MiB of 4 MiB)');
  t.equal(progressLine({ label: 'refreshing team', done: 2, total: 5, unit: 'items' }), 'refreshing team: 40% (2 of 5)');
  t.equal(progressLine({ label: 'uploading team', done: 1024, unit: 'bytes' }), 'uploading team: 1 KiB');
  t.equal(progressLine({ label: 'refreshing team' }), 'refreshing team');
  t.equal(progressLine({ label: 'x', done: 29, total: 100 }), 'x: 29%', 'whole percent, not rounded down by floating point');
  t.equal(progressLine({ label: 'x', done: 12, total: 10 }), 'x: 100%', 'never past 100');
  t.equal(progressLine({ label: 'x', done: 0, total: 0 }), 'x: 100%', 'nothing to do is done');

  // Only while show() runs, which is synchronous: tap's own output goes to the real stdout.
  const capture = (to: 'stdout' | 'stderr', readings: Progress[]) => {
    const written = { stdout: '', stderr: '' };
    const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
    for (const name of ['stdout', 'stderr'] as const) process[name].write = ((chunk: string) => ((written[name] += chunk), true)) as typeof process.stdout.write;
    try {
      const lines = progressLines(to);
      for (const reading of readings) lines.show(reading);
    } finally {
      Object.assign(process.stdout, { write: writes.stdout });
      Object.assign(process.stderr, { write: writes.stderr });
    }
    return written;
  };
  const readings: Progress[] = [{ label: 'snap-1', done: 10, total: 100 }, { label: 'snap-1', done: 10, total: 100 }, { label: 'snap-1', done: 60, total: 100 }];
  t.same(capture('stdout', readings), { stdout: '{"progress":"snap-1: 10%"}\n{"progress":"snap-1: 60%"}\n', stderr: '' }, 'JSON lines, a repeated reading once');
  t.same(capture('stderr', readings), { stdout: '', stderr: 'snap-1: 10%\nsnap-1: 60%\n' }, 'text lines, stdout kept for the result');
});
