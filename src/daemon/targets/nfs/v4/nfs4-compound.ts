/**
 * NFSv4.1's one procedure, COMPOUND (RFC 8881 §16.2, §18): a list of operations run in order against a current
 * and a saved file handle, stopping at the first that fails. Every compound but the few that create or end a
 * session starts with SEQUENCE, whose slot keeps the reply for an exact resend (the session's exactly-once
 * semantics); a compound of another minor version is refused whole, which is what NFSv4.0 clients (libnfs) get.
 */
import type { Logger } from 'pino';
import type { RpcCall } from '../../rpc/rpc-dispatcher.js';
import { XdrDecodeError, XdrWriter } from '../../rpc/xdr.js';
import { nfsStatusOf } from '../nfs3-status.js';
import { NFS4_MINOR_VERSION, NFS4_OPAQUE_LIMIT, Nfs4Error, Nfs4Status, Op } from './nfs4-constants.js';
import type { Nfs4FileHandle } from './nfs4-file-handle.js';
import type { Stateid } from './nfs4-state.js';

export interface CompoundContext {
  readonly call: RpcCall;
  /** The current and saved file handles (PUTFH, SAVEFH, RESTOREFH, LOOKUP, OPEN, ... move them). */
  current?: Nfs4FileHandle;
  saved?: Nfs4FileHandle;
  /** The stateid the last OPEN, LOCK, ... of this compound returned: the "current stateid" of RFC 8881 §16.2.3.1.2. */
  currentStateid?: Stateid;
  /** The client whose session SEQUENCE named. */
  clientId?: bigint;
  /** SEQUENCE's limits for this compound's session. */
  maxOperations?: number;
}

/**
 * Reads its arguments from `ctx.call.args` and writes its result body (after the status) to `res`; fails by
 * throwing, and then `failure` may write the body its error status carries (LOCK's conflict, SETATTR's bitmap).
 */
export interface Operation {
  run: (ctx: CompoundContext, res: XdrWriter) => Promise<void> | void;
  failure?: (err: unknown, res: XdrWriter) => void;
}

/** What SEQUENCE decided: run the compound, or answer it with the reply its slot cached. */
export type SequenceStart =
  | { kind: 'execute'; finish(reply: Buffer | undefined): void; cacheThis: boolean }
  | { kind: 'replay'; reply: Buffer };

/** The operations that may start a compound without SEQUENCE, and then must be its only operation. */
const SESSIONLESS: ReadonlySet<number> = new Set([Op.EXCHANGE_ID, Op.CREATE_SESSION, Op.BIND_CONN_TO_SESSION, Op.DESTROY_SESSION, Op.DESTROY_CLIENTID]);
/** Operation numbers of NFSv4.1; anything else is OP_ILLEGAL. */
const FIRST_OP = Op.ACCESS;
const LAST_OP = Op.RECLAIM_COMPLETE;

export interface CompoundOptions {
  /** The operations by number; a valid number with none here answers NOTSUPP. */
  operations: ReadonlyMap<number, Operation>;
  /** SEQUENCE, which alone may decide that the compound is not run at all. */
  sequence(ctx: CompoundContext, res: XdrWriter): SequenceStart;
  log: Logger;
}

export function compoundProcedure(o: CompoundOptions) {
  return async (call: RpcCall, results: XdrWriter): Promise<void> => {
    const tag = call.args.opaque(NFS4_OPAQUE_LIMIT);
    const minorVersion = call.args.uint32();
    const count = call.args.uint32();
    if (minorVersion !== NFS4_MINOR_VERSION) {
      results.uint32(Nfs4Status.MINOR_VERS_MISMATCH).opaque(tag).uint32(0);
      return;
    }
    const ctx: CompoundContext = { call };
    const resarray = new XdrWriter(512);
    let done = 0;
    let status: number = Nfs4Status.OK;
    let sequence: SequenceStart | undefined;
    for (let i = 0; i < count && status === Nfs4Status.OK; i++) {
      let opcode: number;
      try {
        opcode = call.args.uint32();
      } catch {
        status = Nfs4Status.BADXDR;
        break;
      }
      const valid = opcode >= FIRST_OP && opcode <= LAST_OP;
      const res = new XdrWriter();
      try {
        if (!valid) throw new Nfs4Error(Nfs4Status.OP_ILLEGAL, `operation ${opcode}`);
        if (opcode === Op.SEQUENCE) {
          if (i !== 0) throw new Nfs4Error(Nfs4Status.SEQUENCE_POS, 'SEQUENCE is not the first operation');
          sequence = o.sequence(ctx, res);
          if (sequence.kind === 'replay') {
            results.fixedOpaque(sequence.reply);
            return;
          }
          if (ctx.maxOperations !== undefined && count > ctx.maxOperations) throw new Nfs4Error(Nfs4Status.TOO_MANY_OPS, `${count} operations`);
        } else if (i === 0 && SESSIONLESS.has(opcode)) {
          if (count > 1) throw new Nfs4Error(Nfs4Status.NOT_ONLY_OP, 'a session-less operation with others');
        } else if (i === 0) {
          throw new Nfs4Error(Nfs4Status.OP_NOT_IN_SESSION, 'the compound does not start with SEQUENCE');
        }
        if (opcode !== Op.SEQUENCE) {
          const operation = o.operations.get(opcode);
          if (!operation) throw new Nfs4Error(Nfs4Status.NOTSUPP, `operation ${opcode} is not supported`);
          await operation.run(ctx, res);
        }
        resarray.uint32(opcode).uint32(Nfs4Status.OK).fixedOpaque(res.toBuffer());
      } catch (err) {
        status = statusOf(err, o.log, opcode);
        const body = new XdrWriter();
        if (valid) o.operations.get(opcode)?.failure?.(err, body);
        resarray.uint32(valid ? opcode : Op.ILLEGAL).uint32(status).fixedOpaque(body.toBuffer());
      }
      done++;
    }
    const reply = new XdrWriter(512);
    reply.uint32(status).opaque(tag).uint32(done).fixedOpaque(resarray.toBuffer());
    const bytes = reply.toBuffer();
    if (sequence?.kind === 'execute') sequence.finish(sequence.cacheThis ? Buffer.from(bytes) : undefined);
    results.fixedOpaque(bytes);
  };
}

/**
 * The status of a failed operation. Storage failures map as for NFSv3, whose numbers v4 shares (JUKEBOX is v4's
 * DELAY); a defect is SERVERFAULT and logged.
 */
function statusOf(err: unknown, log: Logger, opcode: number): number {
  if (err instanceof Nfs4Error) return err.status;
  if (err instanceof XdrDecodeError) return Nfs4Status.BADXDR;
  const status = nfsStatusOf(err);
  if (status === Nfs4Status.SERVERFAULT) log.error({ err, opcode }, 'NFSv4 operation failed');
  return status;
}
