import t from 'tap';
import { auditView, parseSince, userNamesFrom } from '../../src/cli/audit-view.js';

const NOW = new Date('2026-11-20T12:00:00.000Z');

t.test('--since: a duration back from now, or an ISO time', async (t) => {
  t.equal(parseSince('90s', NOW).toISOString(), '2026-11-20T11:58:30.000Z');
  t.equal(parseSince('15m', NOW).toISOString(), '2026-11-20T11:45:00.000Z');
  t.equal(parseSince('1h', NOW).toISOString(), '2026-11-20T11:00:00.000Z');
  t.equal(parseSince('7d', NOW).toISOString(), '2026-11-13T12:00:00.000Z');
  t.equal(parseSince('2H', NOW).toISOString(), '2026-11-20T10:00:00.000Z');
  t.equal(parseSince('2026-11-20T10:00Z', NOW).toISOString(), '2026-11-20T10:00:00.000Z');
  t.equal(parseSince('2026-11-20T10:00:00+02:00', NOW).toISOString(), '2026-11-20T08:00:00.000Z');
  t.equal(parseSince('2026-11-19', NOW).toISOString(), '2026-11-19T00:00:00.000Z');
  for (const bad of ['', 'yesterday', '1', '1y', '-1h', '1.5h', 'May 5', '2026-13-45', '2026-11-20Tnoon']) {
    t.throws(() => parseSince(bad, NOW), { code: 'SGW_INVALID_ARGUMENT', message: /is not a time: give a duration back from now \(30m, 1h, 7d\) or an ISO time/ }, `"${bad}"`);
  }
});

t.test('the table: time, caller, action, result', async (t) => {
  const view = auditView([
    { time: '2026-11-20T10:00:00.000Z', uid: 0, pid: 42, action: 'volume.create', params: {}, result: 'ok' },
    { time: '2026-11-20T10:00:01.000Z', uid: 1000, pid: 43, action: 'volume.delete', params: {}, result: { error: 'SGW_NOT_FOUND', message: 'no volume' } },
    { time: '2026-11-20T10:00:02.000Z', uid: null, pid: null, action: 'tape.eject', params: {}, result: 'ok' },
  ], userNamesFrom('root:x:0:0:root:/root:/bin/bash\nbroken\nalice:x:1000:1000::/home/alice:/bin/sh\n'));
  t.match(view, [{ kind: 'table', columns: ['TIME', 'UID', 'PID', 'ACTION', 'RESULT'], rows: [
    ['2026-11-20T10:00:00.000Z', '0 (root)', '42', 'volume.create', 'ok'],
    ['2026-11-20T10:00:01.000Z', '1000 (alice)', '43', 'volume.delete', 'SGW_NOT_FOUND'],
    ['2026-11-20T10:00:02.000Z', '?', '?', 'tape.eject', 'ok'],
  ] }]);
  t.match(auditView([]), [{ rows: [], empty: /No changes/ }]);
});
