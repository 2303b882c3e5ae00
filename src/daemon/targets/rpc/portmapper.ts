/**
 * The portmapper, program 100000 version 2 (RFC 1833 §3), built in so that clients find MOUNT and NFS without a
 * system rpcbind. The mappings are whatever the daemon lists, nothing registers at run time, so SET, UNSET and
 * CALLIT answer PROC_UNAVAIL. Only version 2 is served: over IPv4 it is all Linux, mount.nfs and libnfs use, and
 * rpcbind versions 3 and 4 get PROG_MISMATCH {2, 2}.
 */
import type { RpcProgram } from './rpc-dispatcher.js';
import type { XdrReader, XdrWriter } from './xdr.js';

export const PORTMAP_PROGRAM = 100000;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export interface PortMapping {
  program: number;
  version: number;
  /** IPPROTO_TCP or IPPROTO_UDP. */
  protocol: number;
  port: number;
}

const Procedure = { GETPORT: 3, DUMP: 4 } as const;

/**
 * `mappings` is asked on every call, so it may change as shares come and go. A program served only on TCP is
 * listed only for TCP: a UDP lookup then finds port 0 and the client moves on to TCP.
 */
export function portmapperProgram(mappings: () => readonly PortMapping[]): RpcProgram {
  return {
    name: 'portmap',
    program: PORTMAP_PROGRAM,
    versions: {
      2: {
        [Procedure.GETPORT]: ({ args }, results) => {
          const wanted = readMapping(args);
          const found = mappings().find((m) => m.program === wanted.program && m.version === wanted.version && m.protocol === wanted.protocol);
          results.uint32(found?.port ?? 0);
        },
        [Procedure.DUMP]: (_call, results) => {
          results.list(mappings(), writeMapping);
        },
      },
    },
  };
}

function readMapping(reader: XdrReader): PortMapping {
  return { program: reader.uint32(), version: reader.uint32(), protocol: reader.uint32(), port: reader.uint32() };
}

function writeMapping(writer: XdrWriter, mapping: PortMapping): void {
  writer.uint32(mapping.program).uint32(mapping.version).uint32(mapping.protocol).uint32(mapping.port);
}
