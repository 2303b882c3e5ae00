import fc from 'fast-check';
import t from 'tap';
import { CommandWindow } from '../../../../src/daemon/targets/iscsi/command-window.js';

t.test('commands arriving in any order inside the window run in CmdSN order', async () => {
  fc.assert(fc.property(fc.nat({ max: 0xffffffff }), fc.integer({ min: 1, max: 32 }), fc.integer({ min: 1, max: 32 }), fc.infiniteStream(fc.nat()), (first, depth, count, randomness) => {
    const window = new CommandWindow<number>(first, depth);
    const n = Math.min(count, depth);
    const order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = randomness.next().value % (i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const ran: number[] = [];
    for (const i of order) {
      if (!window.offer((first + i) >>> 0, i)) return false;
      for (let next = window.next(); next !== undefined; next = window.next()) ran.push(next);
    }
    return ran.join() === order.slice().sort((a, b) => a - b).join() && window.expCmdSN() === ((first + n) >>> 0);
  }));
});

t.test('the window is as wide as the free slots, MaxCmdSN never moves back, and outside CmdSNs are refused', async (t) => {
  const window = new CommandWindow<string>(0xfffffffe, 4);
  t.equal(window.maxCmdSN(), 1, 'wraps around 2^32');
  t.notOk(window.offer(0xfffffffd, 'old'), 'below ExpCmdSN');
  t.notOk(window.offer(2, 'far'), 'beyond MaxCmdSN');
  t.ok(window.offer(0xfffffffe, 'a'));
  t.notOk(window.offer(0xfffffffe, 'again'), 'a duplicate');
  t.equal(window.next(), 'a');
  window.occupy();
  t.equal(window.maxCmdSN(), 1, 'a running command keeps its slot');
  window.release();
  t.equal(window.maxCmdSN(), 2, 'its completion opens the window');
  for (let i = 0; i < 4; i++) window.occupy();
  t.equal(window.maxCmdSN(), 2, 'the advertised MaxCmdSN stays although the slots are taken');
  t.notOk(window.occupyImmediate(), 'no slot for an immediate command');
});

t.test('an aborted command that never arrived counts as received', async (t) => {
  const window = new CommandWindow<string>(10, 8);
  t.ok(window.offer(11, 'b'));
  t.ok(window.skip(10));
  t.equal(window.next(), 'b', 'the gap at 10 is filled');
  t.notOk(window.offer(10, 'late'), 'the skipped command arriving late is ignored');
  t.notOk(window.skip(100), 'outside the window');
});
