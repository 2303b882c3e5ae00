/**
 * The operations that make and end NFSv4.1 clients and sessions (RFC 8881 §18.33-18.51), as the Linux client
 * uses them: the XDR around the state machine of nfs4-sessions.ts.
 */
import type { XdrReader, XdrWriter } from '../../rpc/xdr.js';
import type { CompoundContext, Operation, SequenceStart } from './nfs4-compound.js';
import { NFS4_OPAQUE_LIMIT, NFS4_SESSIONID_SIZE, NFS4_VERIFIER_SIZE, Nfs4Error, Nfs4Status, Op } from './nfs4-constants.js';
import type { ChannelAttrs, Nfs4Clients } from './nfs4-sessions.js';

/** EXCHGID4_FLAG_USE_NON_PNFS, and CONFIRMED_R for a client already confirmed. */
const USE_NON_PNFS = 0x10000;
const CONFIRMED_R = 0x80000000;
const StateProtect = { NONE: 0, MACH_CRED: 1, SSV: 2 } as const;
/** channel_dir_from_server4 */
const CDFS4_BOTH = 3;
const AUTH_NONE = 0;
const AUTH_SYS = 1;
const RPCSEC_GSS = 6;

export interface SessionIdentity {
  /** server_owner4.so_major_id and server_scope: the same across restarts, so clients know this server again. */
  majorId: Buffer;
  scope: Buffer;
}

function readChannelAttrs(args: XdrReader): ChannelAttrs {
  return {
    headerPadSize: args.uint32(), maxRequestSize: args.uint32(), maxResponseSize: args.uint32(), maxResponseSizeCached: args.uint32(),
    maxOperations: args.uint32(), maxRequests: args.uint32(), rdmaIrd: args.array(1, (r) => r.uint32()),
  };
}

function writeChannelAttrs(res: XdrWriter, c: ChannelAttrs): void {
  res.uint32(c.headerPadSize).uint32(c.maxRequestSize).uint32(c.maxResponseSize).uint32(c.maxResponseSizeCached)
    .uint32(c.maxOperations).uint32(c.maxRequests).array(c.rdmaIrd, (w, v) => w.uint32(v));
}

/** callback_sec_parms4<>: read and let go, as no callback is ever made. */
function skipCallbackSecurity(args: XdrReader): void {
  args.array(16, (r) => {
    const flavor = r.uint32();
    if (flavor === AUTH_SYS) {
      r.uint32();
      r.string(255);
      r.uint32();
      r.uint32();
      r.array(16, (g) => g.uint32());
    } else if (flavor === RPCSEC_GSS) {
      r.uint32();
      r.opaque(NFS4_OPAQUE_LIMIT);
      r.opaque(NFS4_OPAQUE_LIMIT);
    } else if (flavor !== AUTH_NONE) {
      throw new Nfs4Error(Nfs4Status.INVAL, `callback security flavour ${flavor}`);
    }
  });
}

const readSessionId = (args: XdrReader): Buffer => args.fixedOpaque(NFS4_SESSIONID_SIZE);

export function sessionOperations(clients: Nfs4Clients, identity: SessionIdentity): Map<number, Operation> {
  const ops = new Map<number, Operation>();
  const op = (code: number, run: Operation['run']) => ops.set(code, { run });

  op(Op.EXCHANGE_ID, (ctx, res) => {
    const args = ctx.call.args;
    const verifier = args.fixedOpaque(NFS4_VERIFIER_SIZE);
    const ownerId = args.opaque(NFS4_OPAQUE_LIMIT);
    args.uint32(); // flags: the reply's say what this server is
    const protect = args.uint32();
    if (protect === StateProtect.MACH_CRED) {
      // Its two bitmaps; state protection is answered with SP4_NONE, which RFC 8881 §18.35.3 lets a server choose.
      args.array(8, (r) => r.uint32());
      args.array(8, (r) => r.uint32());
    } else if (protect !== StateProtect.NONE) {
      throw new Nfs4Error(Nfs4Status.NOTSUPP, 'SSV state protection');
    }
    args.array(1, (r) => {
      r.string(NFS4_OPAQUE_LIMIT);
      r.string(NFS4_OPAQUE_LIMIT);
      r.int64();
      r.uint32();
    });
    const client = clients.exchangeId(ownerId, verifier);
    res.uint64(client.clientId).uint32(client.sequenceId).uint32((USE_NON_PNFS | (client.confirmed ? CONFIRMED_R : 0)) >>> 0);
    res.uint32(StateProtect.NONE);
    res.uint64(0n).opaque(identity.majorId).opaque(identity.scope);
    res.uint32(0); // no implementation id
  });
  op(Op.CREATE_SESSION, async (ctx, res) => {
    const args = ctx.call.args;
    const clientId = args.uint64();
    const sequence = args.uint32();
    const flags = args.uint32();
    const fore = readChannelAttrs(args);
    const back = readChannelAttrs(args);
    args.uint32(); // cb_program
    skipCallbackSecurity(args);
    const session = await clients.createSession(clientId, sequence, flags, fore, back);
    res.fixedOpaque(session.sessionId).uint32(session.sequence).uint32(session.flags);
    writeChannelAttrs(res, session.fore);
    writeChannelAttrs(res, session.back);
  });
  op(Op.DESTROY_SESSION, (ctx) => clients.destroySession(readSessionId(ctx.call.args)));
  op(Op.DESTROY_CLIENTID, (ctx) => clients.destroyClientId(ctx.call.args.uint64()));
  op(Op.BIND_CONN_TO_SESSION, (ctx, res) => {
    const sessionId = readSessionId(ctx.call.args);
    ctx.call.args.uint32();
    ctx.call.args.bool();
    if (clients.clientOf(sessionId) === undefined) throw new Nfs4Error(Nfs4Status.BADSESSION, 'no such session');
    // Every connection may carry any session: both directions, never RDMA.
    res.fixedOpaque(sessionId).uint32(CDFS4_BOTH).bool(false);
  });
  op(Op.BACKCHANNEL_CTL, (ctx) => {
    ctx.call.args.uint32();
    skipCallbackSecurity(ctx.call.args);
  });
  op(Op.RECLAIM_COMPLETE, (ctx) => {
    ctx.call.args.bool();
    if (ctx.clientId === undefined) throw new Nfs4Error(Nfs4Status.OP_NOT_IN_SESSION, 'no session');
    clients.reclaimComplete(ctx.clientId);
  });
  return ops;
}

/** SEQUENCE: the slot decides between running the compound and resending the reply it cached. */
export function sequenceOperation(clients: Nfs4Clients) {
  return (ctx: CompoundContext, res: XdrWriter): SequenceStart => {
    const args = ctx.call.args;
    const sessionId = readSessionId(args);
    const sequenceId = args.uint32();
    const slotId = args.uint32();
    const highestSlotId = args.uint32();
    const cacheThis = args.bool();
    const outcome = clients.sequence(sessionId, sequenceId, slotId, highestSlotId, cacheThis);
    if (outcome.kind === 'replay') return outcome;
    const r = outcome.result;
    ctx.clientId = clients.clientOf(sessionId);
    ctx.maxOperations = outcome.session.fore.maxOperations;
    res.fixedOpaque(r.sessionId).uint32(r.sequenceId).uint32(r.slotId).uint32(r.highestSlotId).uint32(r.targetHighestSlotId).uint32(r.statusFlags);
    return { kind: 'execute', finish: outcome.finish, cacheThis };
  };
}
