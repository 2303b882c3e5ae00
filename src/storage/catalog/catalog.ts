import Database from 'better-sqlite3';
import type {
  BackendSettings, Disk, GatewaySettings, ShareSummary, SnapshotSummary, TapeSummary, VolumeSummary,
} from '../../rpc/api.js';
import { SgwError } from '../../errors.js';
import { MIGRATIONS } from './migrations.js';

type Row = Record<string, unknown>;

/**
 * The catalog is the gateway's single source of truth. WAL with synchronous=FULL: a change the API has answered
 * is on disk, so neither kill -9 nor power loss takes it back.
 */
export class Catalog {
  private constructor(private readonly db: Database.Database) {}

  static open(file: string): Catalog {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    const catalog = new Catalog(db);
    catalog.migrate();
    return catalog;
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  private migrate(): void {
    const current = this.schemaVersion;
    if (current > MIGRATIONS.length) {
      throw new SgwError('SGW_CATALOG_TOO_NEW', `the catalog has schema ${current}, newer than this sgw (${MIGRATIONS.length}); upgrade sgw`);
    }
    MIGRATIONS.slice(current).forEach((sql, i) => {
      this.db.transaction(() => {
        this.db.exec(sql);
        this.db.pragma(`user_version = ${current + i + 1}`);
      })();
    });
  }

  close(): void {
    this.db.close();
  }

  gateway(): GatewaySettings | null {
    const row = this.db.prepare('SELECT * FROM gateway WHERE singleton = 1').get() as Row | undefined;
    if (!row) return null;
    return {
      gatewayId: String(row.gateway_id),
      name: String(row.name),
      timezone: String(row.timezone),
      backend: JSON.parse(String(row.backend)) as BackendSettings,
      activatedAt: String(row.activated_at),
    };
  }

  saveGateway(g: GatewaySettings): void {
    this.db.prepare(`
      INSERT INTO gateway (singleton, gateway_id, name, timezone, backend, activated_at)
      VALUES (1, @gatewayId, @name, @timezone, @backend, @activatedAt)
      ON CONFLICT (singleton) DO UPDATE SET gateway_id = excluded.gateway_id, name = excluded.name,
        timezone = excluded.timezone, backend = excluded.backend, activated_at = excluded.activated_at
    `).run({ ...g, backend: JSON.stringify(g.backend) });
  }

  disks(): Disk[] {
    return (this.db.prepare('SELECT * FROM disks ORDER BY added_at, disk_id').all() as Row[]).map(diskFromRow);
  }

  addDisk(disk: Disk): void {
    try {
      this.db.prepare(`
        INSERT INTO disks (disk_id, path, kind, role, size_bytes, added_at)
        VALUES (@diskId, @path, @kind, @role, @sizeBytes, @addedAt)
      `).run(disk);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new SgwError('SGW_ALREADY_EXISTS', `${disk.path} is already allocated; a disk is added once and never removed`);
      }
      throw err;
    }
  }

  volumes(): VolumeSummary[] {
    return (this.db.prepare('SELECT * FROM volumes ORDER BY created_at, name').all() as Row[]).map((r) => ({
      volumeId: String(r.volume_id), name: String(r.name), type: r.type as VolumeSummary['type'],
      sizeBytes: Number(r.size_bytes), status: String(r.status), createdAt: String(r.created_at),
    }));
  }

  shares(): ShareSummary[] {
    return (this.db.prepare('SELECT * FROM shares ORDER BY created_at, name').all() as Row[]).map((r) => ({
      shareId: String(r.share_id), name: String(r.name), location: String(r.location),
      status: String(r.status), createdAt: String(r.created_at),
    }));
  }

  snapshots(): SnapshotSummary[] {
    return (this.db.prepare('SELECT * FROM snapshots ORDER BY created_at, snapshot_id').all() as Row[]).map((r) => ({
      snapshotId: String(r.snapshot_id), volumeId: String(r.volume_id), description: String(r.description),
      status: String(r.status), createdAt: String(r.created_at),
    }));
  }

  tapes(): TapeSummary[] {
    return (this.db.prepare('SELECT * FROM tapes ORDER BY barcode').all() as Row[]).map((r) => ({
      barcode: String(r.barcode), sizeBytes: Number(r.size_bytes), status: String(r.status), createdAt: String(r.created_at),
    }));
  }

  counts(): { disks: number; volumes: number; shares: number; tapes: number; snapshots: number } {
    const count = (table: string): number => (this.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return {
      disks: count('disks'), volumes: count('volumes'), shares: count('shares'), tapes: count('tapes'), snapshots: count('snapshots'),
    };
  }
}

function diskFromRow(r: Row): Disk {
  return {
    diskId: String(r.disk_id), path: String(r.path), kind: r.kind as Disk['kind'], role: r.role as Disk['role'],
    sizeBytes: Number(r.size_bytes), addedAt: String(r.added_at),
  };
}
