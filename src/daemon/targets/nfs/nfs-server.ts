/**
 * The file gateway's network face: NFS (v3 and v4.1) and MOUNT on one TCP port (2049 by default; clients are told the MOUNT
 * port by the portmapper, or given it as mountport=), and a built-in portmapper on TCP and UDP (port 111 by
 * default). The portmapper is a convenience: if its port is taken (a system rpcbind), sgwd goes on without it and
 * clients give ports explicitly.
 */
import type { Logger } from 'pino';
import type { ShareRegistry } from '../../../storage/files/share-registry.js';
import { IPPROTO_TCP, IPPROTO_UDP, PORTMAP_PROGRAM, portmapperProgram, type PortMapping } from '../rpc/portmapper.js';
import { RpcDispatcher } from '../rpc/rpc-dispatcher.js';
import { RpcTcpListener } from '../rpc/tcp-listener.js';
import { RpcUdpListener } from '../rpc/udp-listener.js';
import { MOUNT_PROGRAM, mountProgram } from './mount-program.js';
import { NFS_PROGRAM, nfs3Program } from './nfs3-program.js';
import { type Nfs4Service, startNfs4 } from './v4/nfs4-program.js';

export interface NfsServerOptions {
  nfs: { host: string; port: number };
  /** Where the portmapper listens; undefined: none. */
  portmap?: { host: string; port: number };
  shares: ShareRegistry;
  /** Where NFSv4.1 keeps what must outlive a restart. */
  stateDir: string;
  /** NFSv4's ID-mapping domain; undefined: owners are numeric ids. */
  idmapDomain?: string;
  log: Logger;
}

export class NfsServer {
  private constructor(
    private readonly nfs: RpcTcpListener,
    private readonly portmap: Array<RpcTcpListener | RpcUdpListener>,
    private readonly v4: Nfs4Service,
  ) {}

  static async listen(o: NfsServerOptions): Promise<NfsServer> {
    const dispatcher = new RpcDispatcher(o.log);
    dispatcher.register(mountProgram(o.shares));
    const v3 = nfs3Program(o.shares);
    const v4 = await startNfs4(o);
    dispatcher.register({ ...v3, versions: { ...v3.versions, 4: v4.procedures } });
    // The portmapper answers on the NFS port too, so a client given only that port still finds MOUNT.
    dispatcher.register(portmapperProgram(() => mappings));
    const nfs = await RpcTcpListener.listen({ ...o.nfs, dispatcher, log: o.log });
    const mappings: PortMapping[] = [
      { program: NFS_PROGRAM, version: 3, protocol: IPPROTO_TCP, port: nfs.port },
      { program: NFS_PROGRAM, version: 4, protocol: IPPROTO_TCP, port: nfs.port },
      { program: MOUNT_PROGRAM, version: 3, protocol: IPPROTO_TCP, port: nfs.port },
    ];
    const portmap: Array<RpcTcpListener | RpcUdpListener> = [];
    if (o.portmap) {
      const portmapDispatcher = new RpcDispatcher(o.log);
      portmapDispatcher.register(portmapperProgram(() => mappings));
      try {
        const tcp = await RpcTcpListener.listen({ ...o.portmap, dispatcher: portmapDispatcher, log: o.log });
        portmap.push(tcp);
        const udp = await RpcUdpListener.listen({ ...o.portmap, dispatcher: portmapDispatcher, log: o.log });
        portmap.push(udp);
        // Listed too, so that rpcinfo -p shows the portmapper as rpcbind does.
        mappings.push(
          { program: PORTMAP_PROGRAM, version: 2, protocol: IPPROTO_TCP, port: tcp.port },
          { program: PORTMAP_PROGRAM, version: 2, protocol: IPPROTO_UDP, port: udp.port },
        );
      } catch (err) {
        await Promise.all(portmap.map((l) => l.close()));
        portmap.length = 0;
        o.log.warn({ err, ...o.portmap }, 'the portmapper port is taken (a system rpcbind?); clients must give the NFS and MOUNT port themselves');
      }
    }
    return new NfsServer(nfs, portmap, v4);
  }

  get port(): number {
    return this.nfs.port;
  }

  async close(): Promise<void> {
    this.v4.close();
    await Promise.all([this.nfs.close(), ...this.portmap.map((l) => l.close())]);
  }
}
