import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import t, { type Test } from 'tap';
import { NUMERIC_OWNERS, domainOwners } from '../../../../../src/daemon/targets/nfs/v4/nfs4-owners.js';

async function accountFiles(t: Test): Promise<{ passwd: string; group: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sgw-owners-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const passwd = path.join(dir, 'passwd');
  const group = path.join(dir, 'group');
  await writeFile(passwd, 'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\nbob:x:1001:100::/home/bob:/bin/sh\n# a comment\nbroken line\n');
  await writeFile(group, 'root:x:0:\nusers:x:100:alice,bob\nalice:x:1000:\n');
  return { passwd, group };
}

t.test('numeric owners: decimal ids only, up to 2^32 - 2', async (t) => {
  t.equal(NUMERIC_OWNERS.nameOf(1000, false), '1000');
  t.equal(NUMERIC_OWNERS.idOf('0', false), 0);
  t.equal(NUMERIC_OWNERS.idOf('4294967294', true), 4294967294);
  for (const bad of ['4294967295', '-1', '', 'alice@example.com', '10 ', '0x10', '12345678901']) t.equal(NUMERIC_OWNERS.idOf(bad, false), undefined, JSON.stringify(bad));
});

t.test('a domain: ids with names go out as name@domain, names come back as ids, numbers still work', async (t) => {
  const owners = await domainOwners('Example.COM', await accountFiles(t));
  t.equal(owners.nameOf(1000, false), 'alice@Example.COM');
  t.equal(owners.nameOf(100, true), 'users@Example.COM');
  t.equal(owners.nameOf(4242, false), '4242', 'an id without a name stays a number');
  t.equal(owners.idOf('bob@example.com', false), 1001, 'the domain matches whatever its case');
  t.equal(owners.idOf('users@EXAMPLE.com', true), 100);
  t.equal(owners.idOf('users@example.com', false), undefined, 'users is a group, not a user');
  t.equal(owners.idOf('alice@elsewhere.org', false), undefined, 'another domain names nobody');
  t.equal(owners.idOf('carol@example.com', false), undefined);
  t.equal(owners.idOf('1000', false), 1000);
});

t.test('missing account files leave only numbers', async (t) => {
  const owners = await domainOwners('example.com', { passwd: '/nonexistent/passwd', group: '/nonexistent/group' });
  t.equal(owners.nameOf(0, false), '0');
  t.equal(owners.idOf('root@example.com', false), undefined);
});

t.test('every id a domain sends out comes back as that id', async (t) => {
  const owners = await domainOwners('example.com', await accountFiles(t));
  fc.assert(fc.property(fc.constantFrom(0, 100, 1000, 1001, 4242, 65534), fc.boolean(), (id, group) => owners.idOf(owners.nameOf(id, group), group) === id));
});
