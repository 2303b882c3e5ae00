/**
 * The RPC programs the gateway serves, and the routing of one call to a procedure: credentials first, as Linux
 * nfsd checks them, then program, version and procedure. NULL (procedure 0) of every registered version answers
 * itself. A procedure writes its results after the SUCCESS header; if it throws instead, what it wrote is dropped
 * and the reply says why: XdrDecodeError (its arguments did not decode) → GARBAGE_ARGS, AuthError → AUTH_ERROR,
 * anything else → SYSTEM_ERR and an error in the log.
 */
import type { Logger } from 'pino';
import { BugError } from '../../../errors.js';
import { AuthError, authenticate, type Credentials } from './auth.js';
import { writeReplyHeader, type CallHeader, type DecodedCall, type Reply } from './rpc-message.js';
import { XdrDecodeError, type XdrReader, type XdrWriter } from './xdr.js';

export interface RpcClientAddress {
  transport: 'tcp' | 'udp';
  address: string;
  port: number;
}

export interface RpcCall {
  readonly xid: number;
  readonly program: number;
  readonly version: number;
  readonly procedure: number;
  readonly auth: Credentials;
  readonly args: XdrReader;
  readonly client: RpcClientAddress;
}

/** Reads `call.args` and appends the results to `results`, which already holds the reply header. */
export type ProcedureHandler = (call: RpcCall, results: XdrWriter) => void | Promise<void>;

export interface RpcProgram {
  /** For the log: 'portmap', 'mount', 'nfs'. */
  readonly name: string;
  readonly program: number;
  /** Procedures by number, by version. Procedure 0 is not listed: NULL of every version is answered here. */
  readonly versions: Readonly<Record<number, Readonly<Record<number, ProcedureHandler>>>>;
}

interface Registered {
  program: RpcProgram;
  low: number;
  high: number;
}

const NULL_PROCEDURE = 0;
const answerNull: ProcedureHandler = () => {};

export class RpcDispatcher {
  private readonly programs = new Map<number, Registered>();

  constructor(private readonly log: Logger) {}

  register(program: RpcProgram): void {
    const versions = Object.keys(program.versions).map(Number);
    if (this.programs.has(program.program)) throw new BugError(`RPC program ${program.program} is registered twice`);
    if (versions.length === 0) throw new BugError(`RPC program ${program.program} has no versions`);
    if (Object.values(program.versions).some((procedures) => Object.hasOwn(procedures, NULL_PROCEDURE))) {
      throw new BugError(`RPC program ${program.program} lists procedure 0, which the dispatcher answers itself`);
    }
    this.programs.set(program.program, { program, low: Math.min(...versions), high: Math.max(...versions) });
  }

  /** The whole reply to one call, in a writer made by `startReply` (which puts the record mark first on TCP). Never rejects. */
  async reply(decoded: DecodedCall, client: RpcClientAddress, startReply: () => XdrWriter): Promise<XdrWriter> {
    if (decoded.kind === 'rpc-mismatch') return refusal(startReply, decoded.xid, { stat: 'RPC_MISMATCH' });
    const { header, args } = decoded;
    try {
      const auth = authenticate(header.cred, header.verf);
      const route = this.route(header);
      if (typeof route !== 'function') return refusal(startReply, header.xid, route);
      const results = startReply();
      writeReplyHeader(results, header.xid, { stat: 'SUCCESS' });
      const { xid, program, version, procedure } = header;
      await route({ xid, program, version, procedure, auth, args, client }, results);
      return results;
    } catch (err) {
      return refusal(startReply, header.xid, this.failure(err, header, client));
    }
  }

  private route(header: CallHeader): ProcedureHandler | Reply {
    const registered = this.programs.get(header.program);
    if (registered === undefined) return { stat: 'PROG_UNAVAIL' };
    const procedures = registered.program.versions[header.version];
    if (procedures === undefined) return { stat: 'PROG_MISMATCH', low: registered.low, high: registered.high };
    if (header.procedure === NULL_PROCEDURE) return answerNull;
    return procedures[header.procedure] ?? { stat: 'PROC_UNAVAIL' };
  }

  private failure(err: unknown, header: CallHeader, client: RpcClientAddress): Reply {
    if (err instanceof AuthError) return { stat: 'AUTH_ERROR', auth: err.stat };
    const call = { program: this.programs.get(header.program)?.program.name ?? header.program, version: header.version, procedure: header.procedure, xid: header.xid, client };
    if (err instanceof XdrDecodeError) {
      this.log.debug({ ...call, reason: err.message }, 'RPC arguments do not decode');
      return { stat: 'GARBAGE_ARGS' };
    }
    this.log.error({ ...call, err }, 'RPC procedure failed');
    return { stat: 'SYSTEM_ERR' };
  }
}

function refusal(startReply: () => XdrWriter, xid: number, reply: Reply): XdrWriter {
  const writer = startReply();
  writeReplyHeader(writer, xid, reply);
  return writer;
}

/** The peer as a socket reports it, with IPv4-mapped IPv6 addresses (from a dual-stack listener) shown as IPv4. */
export function rpcClientAddress(transport: RpcClientAddress['transport'], address: string | undefined, port: number | undefined): RpcClientAddress {
  return { transport, address: (address ?? '').replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, ''), port: port ?? 0 };
}
