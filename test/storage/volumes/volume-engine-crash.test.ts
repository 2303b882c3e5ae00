import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { LocalObjectStore } from '../../../src/storage/backends/local-store.js';
import { CRASH_GEOMETRY, slotRange } from './crash-geometry.js';
import { openEngine, pattern } from './engine-fixture.js';

const WRITER = fileURLToPath(new URL('./crash-writer.ts', import.meta.url));
const ROUNDS = Number(process.env.SGW_CRASH_ROUNDS ?? 20);

/** What a slot may hold after a crash: the last acknowledged write, or a write in flight when the kill came. */
interface SlotState {
  acked: number | null;
  inFlight: number[];
}

type VolumeType = 'cached' | 'stored';

function runWriter(dir: string, round: number, type: VolumeType, slots: Map<number, SlotState>): Promise<void> {
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
          state.acked = seed;
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

for (const [type, rounds] of [['cached', ROUNDS], ['stored', Math.ceil(ROUNDS / 2)]] as const) {
  t.test(`SIGKILL at random moments loses no acknowledged write to a ${type} volume (${rounds} rounds)`, async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-crash-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const openStore = async () => new LocalObjectStore({ dir: path.join(dir, 'objects') });
    const slots = new Map<number, SlotState>();
    let acknowledged = 0;
    for (let round = 0; round < rounds; round++) {
      await runWriter(dir, round, type, slots);
      const fixture = await openEngine({ dir, openStore, ...CRASH_GEOMETRY });
      try {
        const volume = fixture.engine.list()[0]!.volumeId;
        for (const [slot, state] of slots) {
          const { offset, length } = slotRange(slot);
          const got = await fixture.engine.read(volume, offset, length);
          const allowed = [...(state.acked === null ? [0] : [state.acked]), ...state.inFlight];
          const match = allowed.find((seed) => got.equals(seed === 0 ? Buffer.alloc(length) : pattern(seed, length)));
          if (match === undefined) t.fail(`round ${round}: slot ${slot} holds neither its acknowledged write nor one in flight`);
          // Whatever survived is now the slot's state: a write in flight that made it is as good as acknowledged.
          slots.set(slot, { acked: match === 0 || match === undefined ? state.acked : match, inFlight: [] });
        }
      } finally {
        await fixture.close();
      }
      acknowledged = [...slots.values()].filter((s) => s.acked !== null).length;
    }
    t.ok(acknowledged > rounds * 4, `${acknowledged} slots written and checked after every kill`);
  });
}
