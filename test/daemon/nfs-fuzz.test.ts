/**
 * Fuzzed ONC RPC records against a real sgwd, which serves NFSv3, MOUNT v3 and the portmapper on its NFS port.
 * Whatever a connection sends, only that connection may suffer: sgwd keeps running, a connection open throughout
 * keeps being answered, new connections still GETATTR the share's root, the control socket still answers, memory
 * stays bounded, and no call is answered in a way that blames the server (SYSTEM_ERR, NFS3ERR_SERVERFAULT, an error
 * in sgwd's log): such an answer means a procedure mishandled its arguments. SGW_FUZZ_SEED=<n> replays a run.
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import t from 'tap';
import { XdrDecodeError, XdrReader, XdrWriter } from '../../src/daemon/targets/rpc/xdr.js';
import type { GatewayInfo } from '../../src/rpc/api.js';
import { LocalObjectStore } from '../../src/storage/backends/local-store.js';
import { TestDaemon } from '../harness/daemon.js';
import { TcpRpcClient, authSys, decodeReply, encodeCall, fragmentHeader, recordOf, type Auth, type CallSpec, type ParsedReply } from './targets/rpc/test-rpc-client.js';

t.setTimeout(90_000);

const SEED = process.env.SGW_FUZZ_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.SGW_FUZZ_SEED);
const BATCHES = 5;
const RUNS_PER_BATCH = 100;
const ANSWER_TIMEOUT_MS = 5_000;
/** Two records of 4 Mi one-byte fragments, the worst the record cap lets a client send. */
const FLOOD_TIMEOUT_MS = 30_000;
const MAX_RSS_GROWTH_MIB = 300;
const MAX_RECORD = 4 * 1024 * 1024;

const SHARE = 'fuzz';
const BUCKET = 'fuzz-files';
const NFS = { program: 100003, version: 3 } as const;
const MOUNT = { program: 100005, version: 3 } as const;
const PORTMAP = { program: 100000, version: 2 } as const;
const NFS3ERR_SERVERFAULT = 10006;
const AUTH_NONE: Auth = { flavor: 0 };
const ROOT: Auth = authSys({ stamp: 1, machineName: 'fuzz', uid: 0, gid: 0, gids: [] });
const USER: Auth = authSys({ stamp: 2, machineName: 'fuzz', uid: 1000, gid: 1000, gids: [1000, 10] });

const PROCEDURE_NAMES: Record<number, readonly string[]> = {
  [NFS.program]: ['NULL', 'GETATTR', 'SETATTR', 'LOOKUP', 'ACCESS', 'READLINK', 'READ', 'WRITE', 'CREATE', 'MKDIR', 'SYMLINK', 'MKNOD', 'REMOVE', 'RMDIR', 'RENAME', 'LINK', 'READDIR', 'READDIRPLUS', 'FSSTAT', 'FSINFO', 'PATHCONF', 'COMMIT'],
  [MOUNT.program]: ['NULL', 'MNT', 'DUMP', 'UMNT', 'UMNTALL', 'EXPORT'],
  [PORTMAP.program]: ['NULL', 'SET', 'UNSET', 'GETPORT', 'DUMP', 'CALLIT'],
};
const PROGRAM_NAMES: Record<number, string> = { [NFS.program]: 'NFS', [MOUNT.program]: 'MOUNT', [PORTMAP.program]: 'PORTMAP' };

type Call = Omit<CallSpec, 'xid'>;
type Item =
  /** One call; `sizes` cut its record into fragments, after `leadingEmpty` empty ones. */
  | { kind: 'call'; call: Call; sizes: number[]; leadingEmpty: number }
  /** More GETATTRs at once than a connection may have in flight. */
  | { kind: 'burst'; count: number }
  /** Bytes that are not a well-formed call record: what follows them on the connection may be read as anything. */
  | { kind: 'raw'; what: string; bytes: Buffer };

function xdr(write: (w: XdrWriter) => unknown): Buffer {
  const writer = new XdrWriter();
  write(writer);
  return Buffer.from(writer.toBuffer());
}

function hex(bytes: Buffer | undefined, max = 96): string {
  if (bytes === undefined || bytes.length === 0) return '(none)';
  return bytes.length <= max ? bytes.toString('hex') : `${bytes.subarray(0, max).toString('hex')}…(${bytes.length} bytes)`;
}

function callName(call: Call): string {
  const program = PROGRAM_NAMES[call.program] ?? `program ${call.program}`;
  return `${program} v${call.version} ${PROCEDURE_NAMES[call.program]?.[call.procedure] ?? `procedure ${call.procedure}`}`;
}

function describeCall(call: Call): string {
  const auth = (a: Auth | undefined) => `${a?.flavor ?? 0}:${hex(a?.body)}`;
  return `${callName(call)} cred ${auth(call.cred)} verf ${auth(call.verf)} args ${hex(call.args)}`;
}

function describeItem(item: Item): string {
  switch (item.kind) {
    case 'call': return `${describeCall(item.call)} in fragments ${JSON.stringify(item.sizes)} after ${item.leadingEmpty} empty ones`;
    case 'burst': return `${item.count} pipelined GETATTRs`;
    case 'raw': return `${item.what}: ${hex(item.bytes)}`;
  }
}

/** A call whose header decodes, so it must be answered: opaque_auth bodies are opaque<400>. */
function wellFormed(call: Call): boolean {
  return (call.msgType ?? 0) === 0 && (call.cred?.body?.length ?? 0) <= 400 && (call.verf?.body?.length ?? 0) <= 400;
}

/** What LOOKUP, ACCESS, READ, READDIR and READDIRPLUS take after the file handle. */
const ARGUMENTS_AFTER_HANDLE: Record<number, Array<(r: XdrReader) => unknown>> = {
  3: [(r) => r.string(4096)],
  4: [(r) => r.uint32()],
  6: [(r) => r.uint64(), (r) => r.uint32()],
  16: [(r) => r.uint64(), (r) => r.fixedOpaque(8), (r) => r.uint32()],
  17: [(r) => r.uint64(), (r) => r.fixedOpaque(8), (r) => r.uint32(), (r) => r.uint32()],
};

/**
 * Whether `args` decode as the arguments of an NFS procedure that reads any (RFC 1813 §3.3): the ones that do not
 * should be answered GARBAGE_ARGS, so a server fault for them and one for arguments that decode are different bugs.
 */
function nfsArgumentsDecode(procedure: number, args: Buffer): boolean {
  const r = new XdrReader(args);
  try {
    r.opaque(64);
    for (const read of ARGUMENTS_AFTER_HANDLE[procedure] ?? []) read(r);
    return true;
  } catch (err) {
    if (err instanceof XdrDecodeError) return false;
    throw err;
  }
}

function isClean(item: Item): boolean {
  return item.kind === 'burst' || (item.kind === 'call' && wellFormed(item.call));
}

/** Records as a client reassembles them; `rest` counts the bytes of a record cut off by the close. */
function recordsIn(bytes: Buffer): { records: Buffer[]; rest: number } {
  const records: Buffer[] = [];
  let parts: Buffer[] = [];
  let offset = 0;
  let recordStart = 0;
  while (offset + 4 <= bytes.length) {
    const word = bytes.readUInt32BE(offset);
    const end = offset + 4 + (word & 0x7fffffff);
    if (end > bytes.length) break;
    parts.push(bytes.subarray(offset + 4, end));
    offset = end;
    if (word >= 0x80000000) {
      records.push(Buffer.concat(parts));
      parts = [];
      recordStart = offset;
    }
  }
  return { records, rest: bytes.length - recordStart };
}

function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/**
 * Sends `stream` on a new connection in writes of `chunk` bytes, then either shuts down the sending side, after
 * which sgwd must answer what it can and close, or resets the connection `pause` ms later. Returns what came back.
 */
async function exchange(port: number, stream: Buffer, chunk: number, finish: 'end' | 'abort', pause = 0, timeoutMs = ANSWER_TIMEOUT_MS): Promise<Buffer> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const received: Buffer[] = [];
  socket.on('data', (data: Buffer) => received.push(data));
  const closed = new Promise<boolean>((resolve) => socket.once('close', resolve));
  // sgwd may drop the connection while we still write: that is what much of the input is for.
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    void closed.then(() => reject(new Error('sgwd refused a connection')));
  });
  for (let at = 0; at < stream.length && !socket.destroyed; at += chunk) socket.write(stream.subarray(at, at + chunk));
  if (finish === 'abort') {
    await sleep(pause);
    socket.destroy();
  } else {
    socket.end();
  }
  await within(timeoutMs, 'sgwd closing a connection the client is done with', closed);
  return Buffer.concat(received);
}

async function memoryMiB(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

/** sgwd's log lines at level error or above, and anything else that is not a log line (sgwd writes nothing else). */
function errorLines(lines: string): string[] {
  return lines.split('\n').filter((line) => {
    try {
      return (JSON.parse(line) as { level?: number }).level! >= 50;
    } catch {
      return line.trim() !== '';
    }
  });
}

t.test('fuzzed RPC records never crash sgwd and only ever close their own connection', async (t) => {
  t.comment(`fast-check seed ${SEED} (replay with SGW_FUZZ_SEED=${SEED})`);
  const d = await TestDaemon.start(t, { SGW_LOG_LEVEL: 'info' });
  await d.sgwJson('activate');
  const store = new LocalObjectStore({ dir: path.join(d.stateDir, 'buckets', BUCKET) });
  await store.put('readme.txt', Buffer.from('read me\n'));
  await store.put('docs/a.txt', Buffer.from('a'.repeat(5000)));
  await store.put('docs/big.bin', Buffer.alloc(300 * 1024, 7));
  await store.put('docs/deep/', Buffer.alloc(0), { metadata: { 'file-permissions': '040700', 'file-owner': '1000' } });
  await store.put('secret.txt', Buffer.from('for uid 1000'), { metadata: { 'file-permissions': '0100600', 'file-owner': '1000' } });
  await d.sgwJson('share', 'create', SHARE, '--bucket', BUCKET);
  const { nfsServer } = (await d.sgwJson<GatewayInfo>('gateway', 'info')).daemon;
  const port = Number(nfsServer.split(/:(?=\d+$)/)[1]);
  const pid = d.proc!.pid!;

  const control = await TcpRpcClient.connect(port);
  t.teardown(() => control.close());
  const ask = (call: Call): Promise<ParsedReply> => within(ANSWER_TIMEOUT_MS, callName(call), control.call(call));
  const resultsOf = async (call: Call) => {
    const reply = await ask(call);
    if (reply.stat !== 'SUCCESS') throw new Error(`${callName(call)}: ${reply.stat}`);
    const status = reply.results.uint32();
    if (status !== 0) throw new Error(`${callName(call)}: status ${status}`);
    return reply.results;
  };

  // Real handles and cookies, so that mutated calls get past handle decoding into each procedure.
  const root = Buffer.from((await resultsOf({ ...MOUNT, procedure: 1, cred: ROOT, args: xdr((w) => w.string(`/${SHARE}`)) })).opaque(64));
  const lookup = async (dir: Buffer, name: string) => Buffer.from((await resultsOf({ ...NFS, procedure: 3, cred: ROOT, args: xdr((w) => w.opaque(dir).string(name)) })).opaque(64));
  const docs = await lookup(root, 'docs');
  const directories = [root, docs, await lookup(docs, 'deep')];
  const files = [await lookup(root, 'readme.txt'), await lookup(root, 'secret.txt'), await lookup(docs, 'a.txt'), await lookup(docs, 'big.bin')];
  const handles = [...directories, ...files];
  const listing = await resultsOf({ ...NFS, procedure: 16, cred: ROOT, args: xdr((w) => w.opaque(docs).uint64(0n).fixedOpaque(Buffer.alloc(8)).uint32(8192)) });
  if (listing.bool()) listing.fixedOpaque(84);
  const verifier = Buffer.from(listing.fixedOpaque(8));
  const cookies: bigint[] = [];
  while (listing.bool()) {
    listing.uint64();
    listing.string(255);
    cookies.push(listing.uint64());
  }
  t.ok(cookies.length >= 5, `READDIR of docs handed out cookies ${cookies.join(', ')}`);
  const getattrRoot: Call = { ...NFS, procedure: 1, cred: ROOT, args: xdr((w) => w.opaque(root)) };

  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
  const bytes = (maxLength: number, minLength = 0) => fc.uint8Array({ minLength, maxLength }).map((a) => Buffer.from(a));
  // Values on the limits the decoders check: string and opaque maxima, the 64-byte handle, signed overflow.
  const word = fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 13, 16, 17, 63, 64, 65, 255, 256, 400, 401, 1024, 1025, 4096, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff), u32);
  const cookie = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(0n, ...cookies) },
    { weight: 1, arbitrary: fc.constantFrom(3n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n) },
    { weight: 1, arbitrary: u64 },
  );
  const offset = fc.oneof(fc.constantFrom(0n, 1n, 4999n, 5000n, 300n * 1024n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 64n - 1n), u64);

  type Mutation =
    | { op: 'flip'; at: number; xor: number }
    | { op: 'word'; at: number; value: number }
    | { op: 'truncate'; at: number }
    | { op: 'insert'; at: number; bytes: Buffer }
    | { op: 'delete'; at: number; length: number };
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ op: fc.constant('flip' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ op: fc.constant('word' as const), at: fc.nat(), value: word }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: bytes(64, 1) }),
    fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  );
  const mutate = (data: Buffer, mutations: Mutation[]): Buffer => mutations.reduce((out, m) => {
    const at = m.at % (out.length + 1);
    switch (m.op) {
      case 'flip': {
        if (out.length === 0) return Buffer.from([m.xor]);
        const copy = Buffer.from(out);
        copy[at % out.length]! ^= m.xor;
        return copy;
      }
      case 'word': {
        // On the 4-byte grid, where XDR keeps its lengths and counts.
        const slots = out.length >> 2;
        if (slots === 0) return Buffer.concat([out, xdr((w) => w.uint32(m.value))]);
        const copy = Buffer.from(out);
        copy.writeUInt32BE(m.value, (m.at % slots) * 4);
        return copy;
      }
      case 'truncate': return out.subarray(0, at);
      case 'insert': return Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]);
      case 'delete': return Buffer.concat([out.subarray(0, at), out.subarray(at + m.length)]);
    }
  }, data);

  const handle = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...handles) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...handles), fc.array(mutation, { minLength: 1, maxLength: 2 })).map(([fh, ms]) => mutate(fh, ms)) },
    { weight: 1, arbitrary: bytes(70) },
  );
  // Most calls of a procedure made for one kind of file name that kind, so that they get past the kind check.
  const directory = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...directories) }, { weight: 1, arbitrary: handle });
  const file = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...files) }, { weight: 1, arbitrary: handle });
  const name = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom('readme.txt', 'docs', 'secret.txt', 'a.txt', 'big.bin', 'deep') },
    { weight: 2, arbitrary: fc.constantFrom('.', '..', '', 'nope', 'docs/a.txt', 'a\0b', 'x'.repeat(255), 'x'.repeat(256)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  );
  const mountPath = fc.oneof(
    fc.constantFrom(`/${SHARE}`, `/${SHARE}/docs`, `/${SHARE}/docs/deep`, `/${SHARE}/readme.txt`, `/${SHARE}/nope`, `//${SHARE}//docs/`, `/${SHARE}/..`, '/', '', SHARE, '/share-00000000'),
    name.map((n) => `/${SHARE}/${n}`),
    fc.string({ maxLength: 1100 }),
  );
  const anyAuth = fc.constantFrom(AUTH_NONE, ROOT, USER);

  /** A call of a procedure we serve, with arguments of the right shape. */
  const validCall: fc.Arbitrary<Call> = fc.tuple(anyAuth, fc.oneof(
    fc.record({ procedure: fc.constantFrom(1, 5, 18, 19, 20), fh: handle }).map(({ procedure, fh }) => ({ ...NFS, procedure, args: xdr((w) => w.opaque(fh)) })),
    fc.record({ fh: directory, name }).map(({ fh, name }) => ({ ...NFS, procedure: 3, args: xdr((w) => w.opaque(fh).string(name)) })),
    fc.record({ fh: handle, access: word }).map(({ fh, access }) => ({ ...NFS, procedure: 4, args: xdr((w) => w.opaque(fh).uint32(access)) })),
    fc.record({ fh: file, offset, count: word }).map(({ fh, offset, count }) => ({ ...NFS, procedure: 6, args: xdr((w) => w.opaque(fh).uint64(offset).uint32(count)) })),
    // READDIR, and READDIRPLUS with its maxcount
    fc.record({ fh: directory, cookie, verf: fc.oneof({ weight: 3, arbitrary: fc.constant(verifier) }, { weight: 1, arbitrary: bytes(8, 8) }), count: word, max: fc.option(word, { nil: undefined, freq: 2 }) }).map(({ fh, cookie, verf, count, max }) => ({
      ...NFS, procedure: max === undefined ? 16 : 17, args: xdr((w) => {
        w.opaque(fh).uint64(cookie).fixedOpaque(verf).uint32(count);
        if (max !== undefined) w.uint32(max);
      }),
    })),
    fc.record({ procedure: fc.constantFrom(2, 7, 8, 9, 10, 11, 12, 13, 14, 15, 21), fh: handle, rest: bytes(64) }).map(({ procedure, fh, rest }) => ({ ...NFS, procedure, args: Buffer.concat([xdr((w) => w.opaque(fh)), rest]) })),
    fc.record({ procedure: fc.constantFrom(1, 3), dir: mountPath }).map(({ procedure, dir }) => ({ ...MOUNT, procedure, args: xdr((w) => w.string(dir)) })),
    fc.constantFrom(2, 4, 5).map((procedure) => ({ ...MOUNT, procedure, args: Buffer.alloc(0) })),
    fc.record({ procedure: fc.constantFrom(1, 2, 3), mapping: fc.tuple(fc.oneof(fc.constantFrom(NFS.program, MOUNT.program, PORTMAP.program), u32), fc.nat(5), fc.constantFrom(0, 6, 17), word) })
      .map(({ procedure, mapping }) => ({ ...PORTMAP, procedure, args: xdr((w) => mapping.forEach((value) => w.uint32(value))) })),
    fc.record({ call: fc.tuple(u32, u32, u32), args: bytes(40) }).map(({ call, args }) => ({ ...PORTMAP, procedure: 5, args: xdr((w) => w.uint32(call[0]).uint32(call[1]).uint32(call[2]).opaque(args)) })),
    fc.constant({ ...PORTMAP, procedure: 4, args: Buffer.alloc(0) }),
  )).map(([cred, call]) => ({ ...call, cred }));

  /** (b) any procedure number, arguments of random bytes or of edge-valued words. */
  const randomCall: fc.Arbitrary<Call> = fc.record({
    target: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom<{ program: number; version: number }>(NFS, MOUNT, PORTMAP) },
      { weight: 1, arbitrary: fc.record({ program: fc.oneof(fc.constantFrom(NFS.program, MOUNT.program, PORTMAP.program), u32), version: fc.oneof(fc.nat(5), u32) }) },
    ),
    procedure: fc.oneof({ weight: 4, arbitrary: fc.nat(24) }, { weight: 1, arbitrary: u32 }),
    args: fc.oneof(bytes(200), fc.array(word, { maxLength: 24 }).map((words) => xdr((w) => words.forEach((value) => w.uint32(value))))),
    cred: anyAuth,
    rpcVersion: fc.oneof({ weight: 20, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: u32 }),
  }).map(({ target, ...call }) => ({ ...target, ...call }));

  /** (c) a valid call with its arguments, file handle included, flipped, cut, grown or overwritten. */
  const mutatedCall: fc.Arbitrary<Call> = fc.tuple(validCall, fc.array(mutation, { minLength: 1, maxLength: 4 }))
    .map(([call, mutations]) => ({ ...call, args: mutate(call.args ?? Buffer.alloc(0), mutations) }));

  /** (e) credentials and verifiers that lie about lengths, are over 400 bytes, or are of flavours we do not take. */
  const authSysBody = fc.record({ stamp: u32, machineName: fc.string({ maxLength: 300 }), uid: u32, gid: u32, gids: fc.array(u32, { maxLength: 20 }) }).map((fields) => authSys(fields).body!);
  const badAuth: fc.Arbitrary<Auth> = fc.oneof(
    authSysBody.map((body) => ({ flavor: 1, body })),
    fc.tuple(authSysBody, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([body, ms]) => ({ flavor: 1, body: mutate(body, ms) })),
    fc.record({ stamp: u32, length: word, tail: bytes(40) }).map(({ stamp, length, tail }) => ({ flavor: 1, body: Buffer.concat([xdr((w) => w.uint32(stamp).uint32(length)), tail]) })),
    fc.record({ flavor: fc.oneof(fc.constantFrom(0, 2, 3, 4, 6, 390003, 390004, 390005, 6_000_000), u32), body: bytes(400) }),
    fc.record({ flavor: fc.constantFrom(0, 1), body: bytes(700, 401) }),
  );
  const credCall: fc.Arbitrary<Call> = fc.record({
    call: validCall,
    cred: fc.oneof(badAuth, anyAuth),
    verf: fc.oneof({ weight: 3, arbitrary: fc.constant(AUTH_NONE) }, { weight: 1, arbitrary: badAuth }),
  }).map(({ call, cred, verf }) => ({ ...call, cred, verf }));

  const asItem = (call: fc.Arbitrary<Call>): fc.Arbitrary<Item> => call.map((c) => ({ kind: 'call', call: c, sizes: [], leadingEmpty: 0 }));
  const raw = (what: string, b: fc.Arbitrary<Buffer>): fc.Arbitrary<Item> => b.map((bytes) => ({ kind: 'raw', what, bytes }));
  const callItem: fc.Arbitrary<Item> = fc.oneof(
    { weight: 2, arbitrary: asItem(randomCall) },
    { weight: 6, arbitrary: asItem(mutatedCall) },
    { weight: 5, arbitrary: asItem(validCall) },
    { weight: 2, arbitrary: asItem(credCall) },
    // (d) a call in many small fragments, some of them empty
    { weight: 2, arbitrary: fc.record({ call: fc.oneof(validCall, mutatedCall), sizes: fc.array(fc.integer({ min: 1, max: 8 }), { maxLength: 60 }), leadingEmpty: fc.nat(40) }).map((f) => ({ kind: 'call' as const, ...f })) },
    { weight: 1, arbitrary: fc.integer({ min: 65, max: 200 }).map((count) => ({ kind: 'burst' as const, count })) },
  );
  const rawItem: fc.Arbitrary<Item> = fc.oneof(
    // (a) garbage
    { weight: 2, arbitrary: raw('random bytes', bytes(300)) },
    { weight: 2, arbitrary: raw('a record of random bytes', bytes(300).map((b) => recordOf(b))) },
    // (d) record-marking abuse
    { weight: 1, arbitrary: raw('a fragment over the record cap', fc.record({ length: fc.integer({ min: MAX_RECORD + 1, max: 0x7fffffff }), last: fc.boolean(), tail: bytes(40) }).map(({ length, last, tail }) => Buffer.concat([fragmentHeader(length, last), tail]))) },
    { weight: 1, arbitrary: raw('fragments adding up to more than the record cap', fc.record({ first: bytes(200), extra: fc.integer({ min: 1, max: 0x7fffffff - MAX_RECORD }) }).map(({ first, extra }) => Buffer.concat([fragmentHeader(first.length, false), first, fragmentHeader(MAX_RECORD - first.length + extra, true)]))) },
    { weight: 1, arbitrary: raw('empty fragments', fc.tuple(fc.nat(50), fc.boolean()).map(([count, last]) => Buffer.concat([...Array.from({ length: count }, () => fragmentHeader(0, false)), ...(last ? [fragmentHeader(0, true)] : [])]))) },
    { weight: 1, arbitrary: raw('a call record cut short', fc.tuple(validCall, fc.nat()).map(([call, cut]) => { const record = recordOf(encodeCall({ ...call, xid: 1 })); return record.subarray(0, cut % record.length); })) },
    { weight: 1, arbitrary: raw('a fragment header promising more than follows', fc.tuple(validCall, fc.integer({ min: 1, max: 4096 })).map(([call, more]) => { const message = encodeCall({ ...call, xid: 2 }); return Buffer.concat([fragmentHeader(message.length + more, true), message]); })) },
    { weight: 1, arbitrary: raw('a call header cut short', fc.tuple(validCall, fc.nat()).map(([call, cut]) => { const message = encodeCall({ ...call, xid: 3 }); return recordOf(message.subarray(0, cut % (message.length - (call.args?.length ?? 0)))); })) },
    { weight: 1, arbitrary: raw('a REPLY or unknown message type', fc.tuple(validCall, fc.integer({ min: 1, max: 0xffffffff })).map(([call, msgType]) => recordOf(encodeCall({ ...call, xid: 4, msgType })))) },
    { weight: 1, arbitrary: raw('an opaque_auth length that lies', fc.tuple(validCall, word, bytes(64)).map(([call, length, body]) => recordOf(Buffer.concat([xdr((w) => w.uint32(5).uint32(0).uint32(2).uint32(call.program).uint32(call.version).uint32(call.procedure).uint32(1).uint32(length)), body, call.args ?? Buffer.alloc(0)])))) },
  );

  let nextXid = 0x5a000000;
  const encode = (items: Item[]): { stream: Buffer; calls: Map<number, Call> } => {
    const calls = new Map<number, Call>();
    const recordFor = (call: Call, sizes: number[] = []) => {
      const xid = nextXid++;
      calls.set(xid, call);
      return recordOf(encodeCall({ ...call, xid }), sizes);
    };
    const stream = Buffer.concat(items.map((entry) => {
      switch (entry.kind) {
        case 'raw': return entry.bytes;
        case 'burst': return Buffer.concat(Array.from({ length: entry.count }, () => recordFor(getattrRoot)));
        case 'call': return Buffer.concat([...Array.from({ length: entry.leadingEmpty }, () => fragmentHeader(0, false)), recordFor(entry.call, entry.sizes)]);
      }
    }));
    return { stream, calls };
  };

  /** What blames the server, by kind and procedure, with the shortest input that showed it. */
  const faults = new Map<string, { count: number; example: string }>();
  const fault = (kind: string, example: string) => {
    const seen = faults.get(kind);
    if (!seen) faults.set(kind, { count: 1, example });
    else {
      seen.count++;
      if (example.length < seen.example.length) seen.example = example;
    }
  };
  let logChecked = 0;
  const checkLog = (during: string) => {
    // Only whole lines: the rest of the last one may still be on its way.
    const end = d.output.lastIndexOf('\n') + 1;
    for (const line of errorLines(d.output.slice(logChecked, end))) fault(`sgwd logged an error: ${line.slice(0, 300)}`, during);
    logChecked = Math.max(logChecked, end);
  };
  const checkReplies = (replies: Buffer[], calls: Map<number, Call>, during: string): Map<number, number> => {
    const answered = new Map<number, number>();
    for (const record of replies) {
      let reply: ParsedReply;
      try {
        reply = decodeReply(record);
      } catch (err) {
        fault(`a reply that does not decode (${(err as Error).message})`, `${hex(record)} to ${during}`);
        continue;
      }
      answered.set(reply.xid, (answered.get(reply.xid) ?? 0) + 1);
      const call = calls.get(reply.xid);
      const example = call ? describeCall(call) : during;
      if (reply.stat === 'SYSTEM_ERR') fault(`SYSTEM_ERR from ${call ? callName(call) : 'a call in random bytes'}`, example);
      // For NFS, the nfsstat3 of the procedure; for MOUNT and the portmapper, whatever their results start with.
      const status = reply.stat === 'SUCCESS' && reply.results.remaining >= 4 ? reply.results.uint32() : undefined;
      if (call?.program === NFS.program && call.version === NFS.version && call.procedure > 0 && status === NFS3ERR_SERVERFAULT) {
        const decodes = nfsArgumentsDecode(call.procedure, call.args ?? Buffer.alloc(0));
        fault(`NFS3ERR_SERVERFAULT from ${callName(call)} for arguments that ${decodes ? 'decode' : 'do not decode (GARBAGE_ARGS is due)'}`, example);
      }
      if (call && (call.rpcVersion ?? 2) === 2 && ![0, 1].includes(call.cred?.flavor ?? 0) && reply.stat !== 'AUTH_ERROR') fault(`a credential of flavour ${call.cred?.flavor} answered ${reply.stat}, not AUTH_ERROR`, example);
    }
    return answered;
  };

  const stillServing = async (label: string) => {
    t.same({ exitCode: d.proc!.exitCode, signalCode: d.proc!.signalCode }, { exitCode: null, signalCode: null }, `${label}: sgwd is running`);
    const fresh = await TcpRpcClient.connect(port);
    try {
      t.match(await within(ANSWER_TIMEOUT_MS, 'NULL', fresh.call({ ...NFS, procedure: 0 })), { stat: 'SUCCESS' }, `${label}: NULL on a new connection`);
      const attr = await within(ANSWER_TIMEOUT_MS, 'GETATTR', fresh.call(getattrRoot));
      t.same(attr.stat === 'SUCCESS' ? [attr.results.uint32(), attr.results.uint32()] : attr.stat, [0, 2], `${label}: GETATTR of the root handle on a new connection says NFS3_OK, a directory`);
    } finally {
      await fresh.close();
    }
    t.match(await ask({ ...NFS, procedure: 0 }), { stat: 'SUCCESS' }, `${label}: the connection open since the start is still served`);
    t.equal((await d.sgwJson<GatewayInfo>('gateway', 'info')).daemon.nfsServer, nfsServer, `${label}: sgw gateway info answers`);
  };

  checkLog('setting up');
  const before = await memoryMiB(pid);
  const run = fc.asyncProperty(
    // A connection that breaks framing loses the calls around the break, so most connections only pipeline calls.
    fc.oneof(
      { weight: 3, arbitrary: fc.array(callItem, { minLength: 1, maxLength: 8 }) },
      { weight: 2, arbitrary: fc.array(fc.oneof(callItem, rawItem), { minLength: 1, maxLength: 6 }) },
    ),
    fc.oneof({ weight: 1, arbitrary: fc.integer({ min: 1, max: 7 }) }, { weight: 3, arbitrary: fc.integer({ min: 8, max: 65536 }) }),
    fc.oneof({ weight: 4, arbitrary: fc.constant('end' as const) }, { weight: 1, arbitrary: fc.constant('abort' as const) }),
    fc.nat(5),
    async (items, chunk, finish, pause) => {
      const { stream, calls } = encode(items);
      const during = items.map(describeItem).join(' | ');
      const received = await exchange(port, stream, chunk, finish, pause);
      if (d.proc!.exitCode !== null || d.proc!.signalCode !== null) throw new Error(`sgwd exited (${d.proc!.exitCode ?? d.proc!.signalCode})`);
      const { records, rest } = recordsIn(received);
      const answered = checkReplies(records, calls, during);
      if (finish === 'end' && items.every(isClean)) {
        // Nothing here breaks framing, so every call is answered, once, and in whole records.
        const unanswered = [...calls.keys()].filter((xid) => answered.get(xid) !== 1);
        if (unanswered.length > 0 || answered.size !== calls.size || rest !== 0) {
          throw new Error(`${calls.size} well-formed calls got ${records.length} replies (${rest} bytes left over); not answered exactly once: ${unanswered.map((xid) => describeCall(calls.get(xid)!)).join('; ')}`);
        }
      }
      await ask({ ...NFS, procedure: 0 });
      checkLog(during);
    },
  );
  const started = Date.now();
  for (let batch = 1; batch <= BATCHES; batch++) {
    // A crash or a hang spoils every run after it, so the input that caused it is reported as is, unshrunk.
    await fc.assert(run, { seed: SEED + batch, numRuns: RUNS_PER_BATCH, endOnFailure: true });
    await stillServing(`after batch ${batch} of ${RUNS_PER_BATCH} connections`);
  }
  t.comment(`${BATCHES * RUNS_PER_BATCH} fuzzed connections in ${Date.now() - started} ms`);

  // One-byte fragments are the most fragments a record under the cap can have: what such a record costs sgwd is the
  // most memory a client can make one connection take, and it must stay near the cap.
  const atCap = encodeCall({ xid: nextXid++, ...NFS, procedure: 0 });
  const capped = Buffer.concat([atCap, Buffer.alloc(MAX_RECORD - atCap.length)]);
  const oneByteFragments = Buffer.alloc(capped.length * 5);
  for (let i = 0; i < capped.length; i++) {
    oneByteFragments.writeUInt32BE(i === capped.length - 1 ? 0x80000001 : 1, i * 5);
    oneByteFragments[i * 5 + 4] = capped[i]!;
  }
  const floodStart = Date.now();
  const flooded = await Promise.all([0, 1].map(() => exchange(port, oneByteFragments, 65536, 'end', 0, FLOOD_TIMEOUT_MS)));
  t.same(flooded.map((b) => recordsIn(b).records.map((r) => decodeReply(r)).map(({ xid, stat }) => ({ xid, stat }))), [0, 1].map(() => [{ xid: atCap.readUInt32BE(0), stat: 'SUCCESS' }]),
    `a record of exactly the cap in ${capped.length} one-byte fragments, on two connections at once, is answered (${Date.now() - floodStart} ms)`);
  t.same(recordsIn(await exchange(port, recordOf(capped), 65536, 'end')).records.length, 1, 'a record of exactly the cap in one fragment is answered');
  t.same(recordsIn(await exchange(port, recordOf(Buffer.concat([capped, Buffer.alloc(4)])), 65536, 'end')).records, [], 'a record over the cap is not');
  checkLog('records at the cap');
  await stillServing('after records at the cap');

  await sleep(200);
  checkLog('the end');
  const after = await memoryMiB(pid);
  t.ok(after.peak - before.rss < MAX_RSS_GROWTH_MIB,
    `sgwd's RSS peaked at ${after.peak.toFixed(0)} MiB (now ${after.rss.toFixed(0)} MiB) from ${before.rss.toFixed(0)} MiB before fuzzing: at most ${MAX_RSS_GROWTH_MIB} MiB more`);
  const report = [...faults].map(([kind, { count, example }]) => `${kind} (${count}×), e.g. ${example}`);
  t.same(report, [], `no call answered SYSTEM_ERR or NFS3ERR_SERVERFAULT, no error in sgwd's log (seed ${SEED})`);
});
