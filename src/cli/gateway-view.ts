import type { GatewayInfo, GatewaySettings } from '../rpc/api.js';
import { fields, type View } from './view.js';

export function backendLabel(gateway: GatewaySettings): string {
  const b = gateway.backend;
  if (b.kind === 'local') return 'local (embedded object store in the state directory)';
  return `s3://${b.bucket}/${b.prefix ?? ''} at ${b.endpoint ?? 'AWS'} (${b.region}${b.profile ? `, profile ${b.profile}` : ''})`;
}

export function gatewayView(gateway: GatewaySettings): View {
  return [fields('Gateway', [
    ['Name', gateway.name],
    ['ID', gateway.gatewayId],
    ['Time zone', gateway.timezone],
    ['Backend', backendLabel(gateway)],
    ['Activated', gateway.activatedAt],
  ])];
}

export function gatewayInfoView(info: GatewayInfo): View {
  const gateway = info.gateway ? gatewayView(info.gateway) : [fields('Gateway', [['State', 'not activated: run sgw activate']])];
  return [
    ...gateway,
    fields('Daemon', [
      ['Version', info.daemon.version],
      ['PID', info.daemon.pid],
      ['Started', info.daemon.startedAt],
      ['State dir', info.daemon.stateDir],
      ['Socket', info.daemon.socket],
      ['iSCSI portal', info.daemon.iscsiPortal],
      ['NFS server', info.daemon.nfsServer],
    ]),
    fields('Holds', [
      ['Disks', info.counts.disks],
      ['Volumes', info.counts.volumes],
      ['Snapshots', info.counts.snapshots],
      ['Shares', info.counts.shares],
      ['Tapes', info.counts.tapes],
    ]),
  ];
}
