/**
 * ONC RPC messages (RFC 5531 §9): decoding the header of a CALL and encoding the header of every REPLY we send.
 * Anything that still lets us name the xid gets a reply; a message without a CALL header is a protocol error.
 */
import { AuthFlavor, readOpaqueAuth, type AuthStat, type OpaqueAuth } from './auth.js';
import { RpcProtocolError } from './protocol-error.js';
import { XdrDecodeError, XdrReader, type XdrWriter } from './xdr.js';

const RPC_VERSION = 2;
const MsgType = { CALL: 0, REPLY: 1 } as const;
const ReplyStat = { MSG_ACCEPTED: 0, MSG_DENIED: 1 } as const;
const RejectStat = { RPC_MISMATCH: 0, AUTH_ERROR: 1 } as const;
const AcceptStat = {
  SUCCESS: 0,
  PROG_UNAVAIL: 1,
  PROG_MISMATCH: 2,
  PROC_UNAVAIL: 3,
  GARBAGE_ARGS: 4,
  SYSTEM_ERR: 5,
} as const;

export interface CallHeader {
  xid: number;
  program: number;
  version: number;
  procedure: number;
  cred: OpaqueAuth;
  verf: OpaqueAuth;
}

export type DecodedCall =
  /** `args` is positioned just after the header. */
  | { kind: 'call'; header: CallHeader; args: XdrReader }
  /** Not RPC version 2: the rest of the header may mean something else, so only the xid is known. */
  | { kind: 'rpc-mismatch'; xid: number };

export type Reply =
  /** The results follow the header, written by the procedure. */
  | { stat: 'SUCCESS' }
  | { stat: 'PROG_UNAVAIL' }
  | { stat: 'PROG_MISMATCH'; low: number; high: number }
  | { stat: 'PROC_UNAVAIL' }
  | { stat: 'GARBAGE_ARGS' }
  | { stat: 'SYSTEM_ERR' }
  | { stat: 'RPC_MISMATCH' }
  | { stat: 'AUTH_ERROR'; auth: AuthStat };

/** Throws RpcProtocolError for anything that is not a CALL with a whole header. */
export function decodeCall(message: Buffer): DecodedCall {
  const reader = new XdrReader(message);
  try {
    const xid = reader.uint32();
    const type = reader.uint32();
    if (type !== MsgType.CALL) throw new RpcProtocolError(type === MsgType.REPLY ? 'the peer sent a REPLY' : `unknown msg_type ${type}`);
    if (reader.uint32() !== RPC_VERSION) return { kind: 'rpc-mismatch', xid };
    const header: CallHeader = {
      xid,
      program: reader.uint32(),
      version: reader.uint32(),
      procedure: reader.uint32(),
      cred: readOpaqueAuth(reader),
      verf: readOpaqueAuth(reader),
    };
    return { kind: 'call', header, args: reader };
  } catch (err) {
    if (err instanceof XdrDecodeError) throw new RpcProtocolError(`malformed call header: ${err.message}`, { cause: err });
    throw err;
  }
}

export function writeReplyHeader(writer: XdrWriter, xid: number, reply: Reply): void {
  writer.uint32(xid).uint32(MsgType.REPLY);
  switch (reply.stat) {
    case 'RPC_MISMATCH':
      writer.uint32(ReplyStat.MSG_DENIED).uint32(RejectStat.RPC_MISMATCH).uint32(RPC_VERSION).uint32(RPC_VERSION);
      return;
    case 'AUTH_ERROR':
      writer.uint32(ReplyStat.MSG_DENIED).uint32(RejectStat.AUTH_ERROR).uint32(reply.auth);
      return;
    default:
      // The verifier: AUTH_NONE with an empty body.
      writer.uint32(ReplyStat.MSG_ACCEPTED).uint32(AuthFlavor.NONE).uint32(0).uint32(AcceptStat[reply.stat]);
      if (reply.stat === 'PROG_MISMATCH') writer.uint32(reply.low).uint32(reply.high);
  }
}
