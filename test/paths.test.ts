import t from 'tap';
import { SERVICE_SOCKET, defaultSocketPath, defaultStateDir } from '../src/paths.js';

const root = process.getuid?.() === 0;

t.test('SGW_SOCKET and SGW_STATE_DIR win, made absolute', async (t) => {
  t.equal(defaultSocketPath({ SGW_SOCKET: 'rel/sgw.sock' }, () => true), `${process.cwd()}/rel/sgw.sock`);
  t.equal(defaultStateDir({ SGW_STATE_DIR: 'state' }), `${process.cwd()}/state`);
});

t.test('the installed service\'s socket is the default once it exists, for root and the sgw group alike', async (t) => {
  t.equal(defaultSocketPath({}, () => true), SERVICE_SOCKET);
  t.equal(SERVICE_SOCKET, '/run/sgw/sgw.sock');
});

t.test('without the service, another user gets a place of their own', { skip: root && 'root always uses the service\'s places' }, async (t) => {
  t.equal(defaultSocketPath({ XDG_RUNTIME_DIR: '/run/user/1000' }, () => false), '/run/user/1000/sgw/sgw.sock');
  t.equal(defaultStateDir({ XDG_STATE_HOME: '/home/u/.local/state' }), '/home/u/.local/state/sgw');
});

t.test('root uses the service\'s places even before the service runs', { skip: !root && 'only as root' }, async (t) => {
  t.equal(defaultSocketPath({}, () => false), SERVICE_SOCKET);
  t.equal(defaultStateDir({}), '/var/lib/sgw');
});
