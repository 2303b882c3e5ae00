import t from 'tap';
import { ClientList } from '../../../src/storage/files/client-list.js';

t.test('addresses and blocks, IPv4 and IPv6, and IPv4 clients seen on an IPv6 socket', async (t) => {
  const list = new ClientList(['10.0.0.0/8', '192.168.1.7', 'fd00::/8']);
  for (const address of ['10.1.2.3', '::ffff:10.200.0.1', '192.168.1.7', 'fd12::1']) t.ok(list.allows(address), address);
  for (const address of ['11.0.0.1', '192.168.1.8', 'fe80::1', '::1', 'not an address', '']) t.notOk(list.allows(address), address);
  t.ok(new ClientList(['0.0.0.0/0']).allows('203.0.113.9'));
  t.notOk(new ClientList(['0.0.0.0/0']).allows('::1'), 'an IPv4 block admits no IPv6 client');
});

t.test('anything else is refused with the entry named', async (t) => {
  for (const entry of ['10.0.0.0/33', '10.0.0.0/x', '10.0.0.0/8/8', '10.0.0', 'host.example', '::/129', '10.0.0.0/']) {
    t.throws(() => new ClientList([entry]), { code: 'SGW_INVALID_ARGUMENT', message: new RegExp(entry.replace(/[./]/g, '\\$&')) }, entry);
  }
  t.throws(() => new ClientList([]), { code: 'SGW_INVALID_ARGUMENT' });
  t.throws(() => new ClientList(Array.from({ length: 101 }, (_, i) => `10.0.0.${i}`)), { code: 'SGW_INVALID_ARGUMENT' });
});
