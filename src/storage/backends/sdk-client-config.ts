import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { withDefaultScheme } from './endpoint.js';

/** Connection settings shared by the S3 and Glacier clients, so both behave alike on a bad network. */

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface ConnectionTuning {
  /** Tries per request, the first included; the SDK backs off exponentially with jitter between them. */
  maxAttempts: number;
  connectTimeoutMs: number;
  /** For a whole request and its response: large parts on slow links need minutes. */
  requestTimeoutMs: number;
  /** A socket with no traffic for this long is given up. */
  idleTimeoutMs: number;
  /** Sockets per host: enough for parts uploaded in parallel. */
  maxSockets: number;
}

const DEFAULT_TUNING: ConnectionTuning = {
  maxAttempts: 4,
  connectTimeoutMs: 5_000,
  requestTimeoutMs: 300_000,
  idleTimeoutMs: 60_000,
  maxSockets: 64,
};

export const DEFAULT_REGION = 'us-east-1';

export interface AwsConnectionConfig {
  /** An S3- or Glacier-compatible endpoint; without a scheme, https:// is meant. Absent: AWS itself. */
  endpoint?: string;
  region?: string;
  /** A profile of the shared AWS config files; otherwise the standard credential chain decides. */
  profile?: string;
  /** Only for tests: production credentials come from the standard chain, never from sgw's settings. */
  credentials?: AwsCredentials;
  tuning?: Partial<ConnectionTuning>;
}

export interface SdkClientOptions {
  region: string;
  endpoint?: string;
  profile?: string;
  credentials?: AwsCredentials;
  maxAttempts: number;
  requestHandler: NodeHttpHandler;
}

/** How messages and describe() name the endpoint. */
export function endpointLabel(config: AwsConnectionConfig, service: string): string {
  return config.endpoint ? withDefaultScheme(config.endpoint) : `AWS ${service} (${config.region ?? DEFAULT_REGION})`;
}

export function sdkClientOptions(config: AwsConnectionConfig): SdkClientOptions {
  // The SDK's own switch for its notice that later versions will need Node 22; an explicit setting is kept.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const tuning = { ...DEFAULT_TUNING, ...config.tuning };
  const agentOptions = { keepAlive: true, maxSockets: tuning.maxSockets };
  const options: SdkClientOptions = {
    region: config.region ?? DEFAULT_REGION,
    maxAttempts: tuning.maxAttempts,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: tuning.connectTimeoutMs,
      requestTimeout: tuning.requestTimeoutMs,
      throwOnRequestTimeout: true,
      socketTimeout: tuning.idleTimeoutMs,
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
    }),
  };
  if (config.endpoint) options.endpoint = withDefaultScheme(config.endpoint);
  if (config.profile) options.profile = config.profile;
  if (config.credentials) options.credentials = config.credentials;
  return options;
}
