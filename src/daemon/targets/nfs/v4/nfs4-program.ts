/**
 * NFSv4.1 beside NFSv3 on the NFS program's port: the COMPOUND procedure with the session and file operations,
 * over the client and open state of this run. What outlives a restart is kept in the state directory: the
 * server's identity (so clients know it again) and the owners of clients that held state (so they get a grace
 * period to reclaim it, and nobody waits for one when there were none).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { nowNs } from '../../../../storage/files/local-files.js';
import type { ShareRegistry } from '../../../../storage/files/share-registry.js';
import type { ProcedureHandler } from '../../rpc/rpc-dispatcher.js';
import { compoundProcedure } from './nfs4-compound.js';
import { fileOperations } from './nfs4-file-ops.js';
import { NUMERIC_OWNERS, domainOwners } from './nfs4-owners.js';
import { sequenceOperation, sessionOperations } from './nfs4-session-ops.js';
import { Nfs4Clients, fileClientOwnerStore } from './nfs4-sessions.js';
import { Nfs4State } from './nfs4-state.js';

const COMPOUND = 1;
/** How often clients whose lease lapsed are looked for. */
const EXPIRY_SWEEP_MS = 15_000;

export interface Nfs4Service {
  procedures: Record<number, ProcedureHandler>;
  close(): void;
}

export interface Nfs4Options {
  shares: ShareRegistry;
  stateDir: string;
  /** The ID-mapping domain (idmapd's Domain): owners are then also name@domain; without one, numeric ids only. */
  idmapDomain?: string;
  log: Logger;
}

export async function startNfs4(o: Nfs4Options): Promise<Nfs4Service> {
  const dir = path.join(o.stateDir, 'nfs4');
  await mkdir(dir, { recursive: true });
  const bootEpoch = await nextBoot(path.join(dir, 'boot'));
  const state = new Nfs4State({ bootEpoch });
  const clients = new Nfs4Clients({ store: fileClientOwnerStore(path.join(dir, 'clients.json')), bootEpoch, hasState: (id) => state.hasState(id), log: o.log });
  clients.onExpire((clientId) => state.dropClient(clientId));
  await clients.start();
  const serverId = await persistentId(path.join(dir, 'server-id'));
  const operations = new Map([
    ...sessionOperations(clients, { majorId: serverId, scope: serverId }),
    ...fileOperations({ shares: o.shares, clients, state, startedNs: nowNs(), owners: o.idmapDomain ? await domainOwners(o.idmapDomain) : NUMERIC_OWNERS }),
  ]);
  const sweep = setInterval(() => clients.expireIdle(), EXPIRY_SWEEP_MS);
  sweep.unref();
  return {
    procedures: { [COMPOUND]: compoundProcedure({ operations, sequence: sequenceOperation(clients), log: o.log }) },
    close: () => clearInterval(sweep),
  };
}

/**
 * This run's number, one more than the last: client ids and stateids carry it, so those of an earlier run are
 * told apart however quickly the daemon came back.
 */
async function nextBoot(file: string): Promise<number> {
  const last = Number((await readFile(file, 'utf8').catch(() => '0')).trim()) || 0;
  const boot = ((last + 1) >>> 0) || 1;
  await writeFile(file, `${boot}\n`, { flush: true });
  return boot;
}

/** Random once, then the same for this state directory. */
async function persistentId(file: string): Promise<Buffer> {
  const saved = await readFile(file).catch(() => undefined);
  if (saved?.length === 16) return saved;
  const id = randomBytes(16);
  await writeFile(file, id, { flush: true });
  return id;
}
