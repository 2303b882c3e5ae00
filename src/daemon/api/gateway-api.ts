import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import { SgwError, UsageError } from '../../errors.js';
import type { ActivateResult, BackendSettings, GatewayInfo, GatewaySettings } from '../../rpc/api.js';
import { checkBucketName, normalizePrefix } from '../../storage/backends/bucket-location.js';
import { withDefaultScheme } from '../../storage/backends/endpoint.js';
import { checkBackend } from '../../storage/gateway-backend.js';
import { VERSION } from '../../version.js';
import type { DaemonContext } from '../context.js';
import { parseParams, withoutParams } from './params.js';

// The name becomes part of every iSCSI target name, so it keeps to what an IQN allows.
const GATEWAY_NAME = /^[a-z0-9][a-z0-9.-]{0,62}$/;

const activateParams = z.object({
  name: z.string().optional(),
  timezone: z.string().optional(),
  endpoint: z.string().min(1).optional(),
  bucket: z.string().optional(),
  region: z.string().min(1).optional(),
  prefix: z.string().optional(),
  profile: z.string().min(1).optional(),
  force: z.boolean().optional(),
}).strict();

type ActivateRequest = z.infer<typeof activateParams>;

export function gatewayHandlers(ctx: DaemonContext) {
  return {
    ping: withoutParams(() => ({ pong: true as const, pid: process.pid })),
    version: withoutParams(() => ({ version: VERSION })),
    'gateway.info': withoutParams((): GatewayInfo => {
      const gateway = ctx.catalog.gateway();
      return {
        activated: gateway !== null,
        gateway,
        daemon: {
          version: VERSION,
          pid: process.pid,
          startedAt: ctx.startedAt.toISOString(),
          stateDir: ctx.stateDir,
          socket: ctx.socketPath,
          iscsiPortal: hostPort(ctx.iscsi.host, ctx.iscsi.portal.port),
          nfsServer: hostPort(ctx.nfs.host, ctx.nfs.server.port),
        },
        counts: ctx.catalog.counts(),
      };
    }),
    'gateway.activate': async (params: unknown): Promise<ActivateResult> => activate(ctx, parseParams(activateParams, params)),
  };
}

async function activate(ctx: DaemonContext, req: ActivateRequest): Promise<ActivateResult> {
  const current = ctx.catalog.gateway();
  const wanted = desiredSettings(req, current);
  if (current) {
    const same = current.name === wanted.name && current.timezone === wanted.timezone && isDeepStrictEqual(current.backend, wanted.backend);
    if (same) return { changed: false, gateway: current };
    if (!req.force) {
      throw new SgwError('SGW_ALREADY_ACTIVATED', `gateway ${current.name} is already activated with other settings; add --force to change them`);
    }
    const counts = ctx.catalog.counts();
    const holdsData = counts.volumes + counts.shares + counts.tapes > 0;
    if (holdsData && !isDeepStrictEqual(current.backend, wanted.backend)) {
      throw new SgwError('SGW_ALREADY_ACTIVATED', `gateway ${current.name} holds volumes, shares or tapes in its backend; delete them before moving it to another backend`);
    }
  }
  await checkBackend(wanted.backend, ctx.stateDir);
  const gateway: GatewaySettings = {
    gatewayId: current?.gatewayId ?? `sgw-${randomBytes(4).toString('hex')}`,
    name: wanted.name,
    timezone: wanted.timezone,
    backend: wanted.backend,
    activatedAt: current?.activatedAt ?? new Date().toISOString(),
  };
  ctx.catalog.saveGateway(gateway);
  ctx.log.info({ gatewayId: gateway.gatewayId, name: gateway.name, backend: gateway.backend.kind }, 'gateway activated');
  return { changed: true, gateway };
}

/** What the request asks for; on an activated gateway, whatever it leaves out stays as it is. */
function desiredSettings(req: ActivateRequest, current: GatewaySettings | null): Omit<GatewaySettings, 'gatewayId' | 'activatedAt'> {
  const name = req.name ?? current?.name ?? defaultGatewayName();
  if (!GATEWAY_NAME.test(name)) {
    throw new UsageError(`"${name}" is not a gateway name: use 1-63 lowercase letters, digits, '.' and '-', starting with a letter or digit`, 'SGW_INVALID_ARGUMENT');
  }
  const timezone = req.timezone ?? current?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!isTimeZone(timezone)) {
    throw new UsageError(`"${timezone}" is not a time zone: use an IANA name such as Europe/Berlin or UTC`, 'SGW_INVALID_ARGUMENT');
  }
  return { name, timezone, backend: backendSettings(req) ?? current?.backend ?? { kind: 'local' } };
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function backendSettings(req: ActivateRequest): BackendSettings | undefined {
  if (req.bucket === undefined) {
    if (req.endpoint || req.region || req.prefix || req.profile) {
      throw new UsageError('--endpoint, --region, --prefix and --profile need --bucket', 'SGW_INVALID_ARGUMENT');
    }
    return undefined;
  }
  const settings: BackendSettings = { kind: 's3', bucket: checkBucketName(req.bucket), region: req.region ?? 'us-east-1' };
  if (req.endpoint) settings.endpoint = canonicalEndpoint(req.endpoint);
  if (req.prefix) settings.prefix = normalizePrefix(req.prefix);
  if (req.profile) settings.profile = req.profile;
  return settings;
}

/** The canonical form stored in the catalog: scheme, host and port. */
function canonicalEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(withDefaultScheme(endpoint));
  } catch {
    throw new UsageError(`"${endpoint}" is not an endpoint URL: write e.g. https://s3.example.com`, 'SGW_INVALID_ARGUMENT');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UsageError(`"${endpoint}" is not an http(s) endpoint`, 'SGW_INVALID_ARGUMENT');
  }
  return url.origin;
}

function defaultGatewayName(): string {
  const host = os.hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 63);
  return host || 'sgw';
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
