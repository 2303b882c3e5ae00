import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './free-port.js';

/**
 * A real moto_server (moto 5.2.1) on 127.0.0.1 for the tests of the S3 and Glacier backends.
 *
 * Moto accepts any credentials until told otherwise. To test credentials we use its runtime switch
 * POST /moto-api/reset-auth, which sets INITIAL_NO_AUTH_ACTION_COUNT (the number of requests served before
 * authentication is enforced; the env var of that name only sets its start value). With it at 0, moto checks every
 * request's SigV4 signature against the IAM users it knows and their IAM policies, so the valid credentials are an
 * access key of an IAM user created (while auth was still off) through moto's IAM API: `createIamUser` does that.
 */

export interface TestCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface MotoServer {
  endpoint: string;
  /** Forgets every bucket, vault and IAM user, and stops checking credentials. */
  reset(): Promise<void>;
  /** An IAM user with an access key; with `allowAll` it may do anything, without it nothing. */
  createIamUser(name: string, opts: { allowAll: boolean }): Promise<TestCredentials>;
  /** From now on (until reset) moto verifies signatures and IAM permissions of every request. */
  enforceAuth(): Promise<void>;
  stop(): Promise<void>;
}

/** Any key is accepted while auth is off; this one is also what unsigned helper requests claim to be. */
export const ANY_CREDENTIALS: TestCredentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'test-secret' };

const STARTUP_TIMEOUT_MS = 20_000;

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findMotoServer(): Promise<string> {
  const candidates = [
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'moto_server')),
    join(homedir(), '.pyenv', 'shims', 'moto_server'),
  ];
  for (const candidate of candidates) {
    if (await isExecutable(candidate)) return candidate;
  }
  throw new Error('moto_server was found neither on PATH nor in ~/.pyenv/shims: install it with pip install "moto[server]==5.2.1"');
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode} before answering:\n${output()}`);
    try {
      if ((await fetch(`${endpoint}/moto-api/data.json`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`moto_server did not answer within ${STARTUP_TIMEOUT_MS} ms:\n${output()}`);
}

/** A request to moto's IAM API: moto routes it by the service named in the (unchecked while auth is off) signature. */
async function iam(endpoint: string, params: Record<string, string>): Promise<string> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `AWS4-HMAC-SHA256 Credential=${ANY_CREDENTIALS.accessKeyId}/20250101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({ ...params, Version: '2010-05-08' }).toString(),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`moto IAM ${params.Action} failed: ${response.status} ${text}`);
  return text;
}

function xmlField(xml: string, name: string): string {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  if (match?.[1] === undefined) throw new Error(`no <${name}> in ${xml}`);
  return match[1];
}

export async function startMoto(): Promise<MotoServer> {
  const executable = await findMotoServer();
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(executable, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  await waitUntilAnswering(endpoint, child, () => output);

  const post = async (path: string, body?: string) => {
    const response = await fetch(`${endpoint}${path}`, { method: 'POST', body });
    if (!response.ok) throw new Error(`moto ${path} failed: ${response.status} ${await response.text()}`);
  };

  return {
    endpoint,
    async reset() {
      await post('/moto-api/reset-auth', 'inf');
      await post('/moto-api/reset');
    },
    async createIamUser(name, { allowAll }) {
      await iam(endpoint, { Action: 'CreateUser', UserName: name });
      if (allowAll) {
        const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
        await iam(endpoint, { Action: 'PutUserPolicy', UserName: name, PolicyName: 'all', PolicyDocument: JSON.stringify(policy) });
      }
      const key = await iam(endpoint, { Action: 'CreateAccessKey', UserName: name });
      return { accessKeyId: xmlField(key, 'AccessKeyId'), secretAccessKey: xmlField(key, 'SecretAccessKey') };
    },
    async enforceAuth() {
      await post('/moto-api/reset-auth', '0');
    },
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
