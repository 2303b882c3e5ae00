import type { GatewayInfo } from '../../src/rpc/api.js';
import type { TestDaemon } from './daemon.js';

/** An nfs:// URL that names the ports, so that libnfs asks no portmapper. */
export async function nfsUrl(d: TestDaemon, share: string, file = ''): Promise<string> {
  const [host, port] = (await d.sgwJson<GatewayInfo>('gateway', 'info')).daemon.nfsServer.split(/:(?=\d+$)/);
  return `nfs://${host}/${share}${file}?version=3&nfsport=${port}&mountport=${port}`;
}
