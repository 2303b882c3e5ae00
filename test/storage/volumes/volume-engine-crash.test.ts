import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { crashEngineOptions, slotRange, type CrashVolume } from './crash-geometry.js';
import { openEngine, pattern } from './engine-fixture.js';

const WRITER = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
const ROUNDS = Number(process.env.SGW_CRASH_ROUNDS ?? 20);
// 40 rounds, each a fresh writer process, take 4-5 minutes on two busy cores: more than the default file timeout.
t.setTimeout(600_000);

/** What a slot may hold after a crash: the last acknowledged write, or a write in flight when the kill came. */
interface SlotState {
  /** What the slot must hold: its last acknowledged write (null: never written, zeros), or what survived a kill. */
  acked: Buffer | null;
  inFlight: number[];
}

function runWriter(dir: string, round: number, type: CrashVolume, slots: Map<number, SlotState>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, WRITER, dir, String(round), type], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buffered = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [what, slotText, seedText] = line.split(' ');
        if (what === 'ready') timer = setTimeout(() => child.kill('SIGKILL'), 150 + Math.random() * 1200);
        if (what !== 'start' && what !== 'ack') continue;
        const slot = Number(slotText);
        const seed = Number(seedText);
        const state = slots.get(slot) ?? { acked: null, inFlight: [] };
        if (what === 'start') state.inFlight.push(seed);
        else {
          state.acked = pattern(seed, slotRange(slot).length);
          state.inFlight = state.inFlight.filter((s) => s !== seed);
        }
        slots.set(slot, state);
      }
    });
    // 'close', not 'exit': every line the writer printed must be read before its slots are checked.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`the writer exited by itself (code ${code}) before it was killed`));
    });
  });
}

for (const [type, rounds] of [['cached', ROUNDS], ['stored', Math.ceil(ROUNDS / 2)], ['pass-through', Math.ceil(ROUNDS / 2)]] as const) {
  t.test(`SIGKILL at random moments loses no acknowledged write to a ${type} volume (${rounds} rounds)`, async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-crash-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const slots = new Map<number, SlotState>();
    let acknowledged = 0;
    for (let round = 0; round < rounds; round++) {
      await runWriter(dir, round, type, slots);
      const fixture = await openEngine(crashEngineOptions(dir, type));
      try {
        const volume = fixture.engine.list()[0]!.volumeId;
        for (const [slot, state] of slots) {
          const { offset, length } = slotRange(slot);
          const got = await fixture.engine.read(volume, offset, length);
          const allowed = [state.acked ?? Buffer.alloc(length), ...state.inFlight.map((seed) => pattern(seed, length))];
          // A journaled write is replayed whole. One that bypassed the upload buffer and was not acknowledged may
          // be torn by the kill, as on any disk, but only between sectors.
          const unit = type === 'pass-through' ? 512 : length;
          for (let at = 0; at < length; at += unit) {
            const piece = got.subarray(at, at + unit);
            if (!allowed.some((data) => piece.equals(data.subarray(at, at + unit)))) {
              t.fail(`round ${round}: slot ${slot} holds neither its acknowledged write nor one in flight at byte ${at}`);
              break;
            }
          }
          // Whatever survived is now the slot's state: a write in flight that made it is as good as acknowledged.
          slots.set(slot, { acked: state.acked === null && got.equals(Buffer.alloc(length)) ? null : got, inFlight: [] });
        }
      } finally {
        await fixture.close();
      }
      acknowledged = [...slots.values()].filter((s) => s.acked !== null).length;
    }
    t.ok(acknowledged > rounds * 4, `${acknowledged} slots written and checked after every kill`);
  });
}
