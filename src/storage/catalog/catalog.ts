import Database from 'better-sqlite3';
import type {
  BackendSettings, BandwidthSettings, Disk, GatewaySettings, ShareSummary, SnapshotSummary, TapeStatus, TapeSummary, VolumeSummary,
} from '../../rpc/api.js';
import { SgwError } from '../../errors.js';
import { ROOT_INO, type FileKind } from '../files/file-attributes.js';
import type { ShareSettings } from '../files/share-settings.js';
import { MIGRATIONS } from './migrations.js';

type Row = Record<string, unknown>;

/** The chunk maps: each row references a chunk object and counts in its `refs`. Names are constants, not input. */
const MAPS = {
  volume: { table: 'volume_chunks', owner: 'volume_id' },
  snapshot: { table: 'snapshot_chunks', owner: 'snapshot_id' },
  recoveryPoint: { table: 'recovery_point_chunks', owner: 'volume_id' },
} as const;
type MapKind = keyof typeof MAPS;

/**
 * The catalog is the gateway's single source of truth. WAL with synchronous=FULL: a change the API has answered
 * is on disk, so neither kill -9 nor power loss takes it back.
 */
export class Catalog {
  /** Statements of the lookups every NFS call makes, prepared once. */
  private readonly prepared = new Map<string, Database.Statement>();

  private constructor(private readonly db: Database.Database) {}

  private hot(sql: string): Database.Statement {
    let statement = this.prepared.get(sql);
    if (!statement) this.prepared.set(sql, (statement = this.db.prepare(sql)));
    return statement;
  }

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

  volume(volumeId: string): VolumeRecord | undefined {
    const row = this.db.prepare('SELECT * FROM volumes WHERE volume_id = ? OR name = ?').get(volumeId, volumeId) as Row | undefined;
    return row && volumeFromRow(row);
  }

  volumeRecords(): VolumeRecord[] {
    return (this.db.prepare('SELECT * FROM volumes ORDER BY created_at, name').all() as Row[]).map(volumeFromRow);
  }

  addVolume(v: VolumeRecord): void {
    try {
      this.db.prepare(`
        INSERT INTO volumes (volume_id, name, type, size_bytes, status, created_at, chunk_size, disk_path)
        VALUES (@volumeId, @name, @type, @sizeBytes, @status, @createdAt, @chunkSize, @diskPath)
      `).run(v);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' || (err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new SgwError('SGW_ALREADY_EXISTS', `a volume named ${v.name} already exists; pick another name`);
      }
      throw err;
    }
  }

  /** A stored volume goes PASS THROUGH: its records up to `seq` are on its disk and are not replayed. */
  enterPassThrough(volumeId: string, seq: number): void {
    this.db.prepare("UPDATE volumes SET status = 'PASS THROUGH', pass_through_seq = ? WHERE volume_id = ?").run(seq, volumeId);
  }

  passThroughSeq(volumeId: string): number {
    const row = this.db.prepare('SELECT pass_through_seq AS seq FROM volumes WHERE volume_id = ?').get(volumeId) as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  chapCredentials(volumeId: string): ChapCredential[] {
    return (this.db.prepare('SELECT * FROM chap_credentials WHERE volume_id = ? ORDER BY initiator_name').all(volumeId) as Row[]).map((r) => ({
      volumeId: String(r.volume_id), initiatorName: String(r.initiator_name), initiatorSecret: String(r.initiator_secret),
      targetSecret: r.target_secret === null ? null : String(r.target_secret),
    }));
  }

  /** Adds or replaces the secrets of one initiator of a volume's target. */
  setChapCredential(c: ChapCredential): void {
    this.db.prepare(`
      INSERT INTO chap_credentials (volume_id, initiator_name, initiator_secret, target_secret)
      VALUES (@volumeId, @initiatorName, @initiatorSecret, @targetSecret)
      ON CONFLICT (volume_id, initiator_name) DO UPDATE SET initiator_secret = excluded.initiator_secret, target_secret = excluded.target_secret
    `).run(c);
  }

  /** False when there was no such entry. */
  deleteChapCredential(volumeId: string, initiatorName: string): boolean {
    return this.db.prepare('DELETE FROM chap_credentials WHERE volume_id = ? AND initiator_name = ?').run(volumeId, initiatorName).changes > 0;
  }

  setVolumeStatus(volumeId: string, status: string): void {
    this.db.prepare('UPDATE volumes SET status = ? WHERE volume_id = ?').run(status, volumeId);
  }

  /** Deletes the volume and its map; the chunks it alone referenced become garbage for collectGarbage. */
  deleteVolume(volumeId: string): void {
    this.db.transaction(() => {
      this.moveRefs('volume', volumeId, -1);
      this.moveRefs('recoveryPoint', volumeId, -1);
      this.db.prepare('DELETE FROM volume_chunks WHERE volume_id = ?').run(volumeId);
      this.db.prepare('DELETE FROM volumes WHERE volume_id = ?').run(volumeId);
    })();
  }

  /** The sparse chunk map of a volume: only chunks that hold data. */
  chunkMap(volumeId: string): Map<number, string> {
    const rows = this.db.prepare('SELECT chunk_index, hash FROM volume_chunks WHERE volume_id = ?').raw().all(volumeId) as Array<[number, string]>;
    return new Map(rows);
  }

  /** Whether the chunk's object is known to be in the store. */
  isChunkStored(hash: string): boolean {
    return this.db.prepare('SELECT 1 FROM chunks WHERE hash = ? AND stored = 1').get(hash) !== undefined;
  }

  /** Records that an upload of this chunk is about to start, so garbage collection can find it if it is abandoned. */
  chunkUploadStarting(hash: string): void {
    this.db.prepare('INSERT INTO chunks (hash, refs, stored) VALUES (?, 0, 0) ON CONFLICT (hash) DO NOTHING').run(hash);
  }

  chunkStored(hash: string): void {
    this.db.prepare('UPDATE chunks SET stored = 1 WHERE hash = ?').run(hash);
  }

  chunkDeleting(hash: string): void {
    this.db.prepare('UPDATE chunks SET stored = 0 WHERE hash = ?').run(hash);
  }

  /**
   * Points one chunk of a volume at new content (null: all zeros, nothing stored), moving the reference counts
   * with it in the same transaction.
   */
  setChunk(volumeId: string, index: number, hash: string | null, uploadedAt: string): void {
    this.db.transaction(() => {
      if (!this.pointChunk('volume', volumeId, index, hash)) return;
      this.db.prepare('UPDATE volumes SET last_upload_at = ? WHERE volume_id = ?').run(uploadedAt, volumeId);
    })();
  }

  /** Points one entry of a map at `hash` (null: none), moving the references; false when it already was. */
  private pointChunk(kind: MapKind, id: string, index: number, hash: string | null): boolean {
    const { table, owner } = MAPS[kind];
    const old = this.db.prepare(`SELECT hash FROM ${table} WHERE ${owner} = ? AND chunk_index = ?`).pluck().get(id, index) as string | undefined;
    if (old === (hash ?? undefined)) return false;
    if (old !== undefined) this.db.prepare('UPDATE chunks SET refs = refs - 1 WHERE hash = ?').run(old);
    if (hash === null) {
      this.db.prepare(`DELETE FROM ${table} WHERE ${owner} = ? AND chunk_index = ?`).run(id, index);
    } else {
      this.db.prepare('INSERT INTO chunks (hash, refs, stored) VALUES (?, 1, 1) ON CONFLICT (hash) DO UPDATE SET refs = refs + 1').run(hash);
      this.db.prepare(`
        INSERT INTO ${table} (${owner}, chunk_index, hash) VALUES (?, ?, ?)
        ON CONFLICT (${owner}, chunk_index) DO UPDATE SET hash = excluded.hash
      `).run(id, index, hash);
    }
    return true;
  }

  /**
   * Records a cached volume's recovery point: its map as it is now. `changed` lists the entries that may differ
   * from the recovery point before; 'all' compares the whole map.
   */
  setRecoveryPoint(volumeId: string, at: string, changed: ReadonlySet<number> | 'all'): void {
    this.db.transaction(() => {
      if (changed === 'all') {
        this.moveRefs('recoveryPoint', volumeId, -1);
        this.db.prepare('DELETE FROM recovery_point_chunks WHERE volume_id = ?').run(volumeId);
        this.copyMap('volume', volumeId, 'recoveryPoint', volumeId);
      } else {
        const current = this.db.prepare('SELECT hash FROM volume_chunks WHERE volume_id = ? AND chunk_index = ?').pluck();
        for (const index of changed) this.pointChunk('recoveryPoint', volumeId, index, (current.get(volumeId, index) as string | undefined) ?? null);
      }
      this.db.prepare('UPDATE volumes SET recovery_point_at = ? WHERE volume_id = ?').run(at, volumeId);
    })();
  }

  /** When the volume's recovery point was taken; null for a volume that has none (a stored one). */
  recoveryPointAt(volumeId: string): string | null {
    return (this.db.prepare('SELECT recovery_point_at FROM volumes WHERE volume_id = ?').pluck().get(volumeId) as string | null | undefined) ?? null;
  }

  unreferencedChunks(limit: number): string[] {
    return this.db.prepare('SELECT hash FROM chunks WHERE refs = 0 LIMIT ?').pluck().all(limit) as string[];
  }

  isUnreferenced(hash: string): boolean {
    return this.db.prepare('SELECT 1 FROM chunks WHERE hash = ? AND refs = 0').get(hash) !== undefined;
  }

  /** Forgets a chunk whose object has been deleted, unless something referenced it again meanwhile. */
  forgetChunk(hash: string): void {
    this.db.prepare('DELETE FROM chunks WHERE hash = ? AND refs = 0').run(hash);
  }

  shares(): ShareRecord[] {
    return (this.db.prepare('SELECT * FROM shares ORDER BY created_at, name').all() as Row[]).map(shareFromRow);
  }

  share(idOrName: string): ShareRecord | undefined {
    const row = this.hot('SELECT * FROM shares WHERE share_id = ? OR name = ?').get(idOrName, idOrName) as Row | undefined;
    return row && shareFromRow(row);
  }

  addShare(s: ShareRecord): void {
    try {
      this.db.prepare(`
        INSERT INTO shares (share_id, name, location, status, created_at, settings)
        VALUES (@shareId, @name, @location, @status, @createdAt, @settings)
      `).run({ ...s, settings: JSON.stringify(s.settings) });
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' || (err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new SgwError('SGW_ALREADY_EXISTS', `a share named ${s.name} already exists; pick another name`);
      }
      throw err;
    }
  }

  setShareSettings(shareId: string, settings: ShareSettings): void {
    this.db.prepare('UPDATE shares SET settings = ? WHERE share_id = ?').run(JSON.stringify(settings), shareId);
  }

  deleteShare(shareId: string): void {
    this.db.prepare('DELETE FROM shares WHERE share_id = ?').run(shareId);
  }

  /**
   * The inodes of names in a directory of a share, numbered on first sight; their kinds follow what the bucket
   * shows. One transaction for a whole listing.
   */
  childInodes(shareId: string, parent: number, children: ReadonlyArray<{ name: string; kind: FileKind }>): number[] {
    return this.db.transaction(() => children.map(({ name, kind }) => this.childInode(shareId, parent, name, kind)))();
  }

  /** The caller runs a transaction. */
  private childInode(shareId: string, parent: number, name: string, kind: FileKind): number {
    const row = this.db.prepare('SELECT ino, kind FROM share_inodes WHERE share_id = ? AND parent = ? AND name = ?').get(shareId, parent, name) as { ino: number; kind: string } | undefined;
    if (row) {
      if (row.kind !== kind) this.db.prepare('UPDATE share_inodes SET kind = ? WHERE share_id = ? AND ino = ?').run(kind, shareId, row.ino);
      return row.ino;
    }
    const ino = this.db.prepare('UPDATE shares SET next_ino = next_ino + 1 WHERE share_id = ? RETURNING next_ino - 1').pluck().get(shareId) as number | undefined;
    if (ino === undefined) throw new SgwError('SGW_NOT_FOUND', `there is no share ${shareId}`);
    this.db.prepare('INSERT INTO share_inodes (share_id, ino, parent, name, kind) VALUES (?, ?, ?, ?, ?)').run(shareId, ino, parent, name, kind);
    return ino;
  }

  /** An inode's path from the share's root ('' for the root), its parent and kind; undefined for an unknown one. */
  inode(shareId: string, ino: number): { path: string; parent: number; kind: FileKind } | undefined {
    if (ino === ROOT_INO) return { path: '', parent: ROOT_INO, kind: 'dir' };
    const rows = this.hot(`
      WITH RECURSIVE up (ino, parent, name, kind, depth) AS (
        SELECT ino, parent, name, kind, 0 FROM share_inodes WHERE share_id = @shareId AND ino = @ino
        UNION ALL
        SELECT i.ino, i.parent, i.name, i.kind, up.depth + 1 FROM share_inodes i JOIN up ON i.share_id = @shareId AND i.ino = up.parent
      )
      SELECT parent, name, kind FROM up ORDER BY depth DESC
    `).all({ shareId, ino }) as Array<{ parent: number; name: string; kind: FileKind }>;
    const top = rows[0];
    const self = rows[rows.length - 1];
    if (!top || !self || top.parent !== ROOT_INO) return undefined;
    return { path: rows.map((r) => r.name).join('/'), parent: self.parent, kind: self.kind };
  }

  /** Forgets an inode (its name is gone): a new file of the same name gets a new number, and old handles go stale. */
  removeInode(shareId: string, ino: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM share_inodes WHERE share_id = ? AND ino = ?').run(shareId, ino);
      this.db.prepare('DELETE FROM share_files WHERE share_id = ? AND ino = ?').run(shareId, ino);
    })();
  }

  /**
   * Gives an inode a new name, in one transaction with the end of its journaled rename if there is one. An inode
   * that had that name before is forgotten, as a rename replaces its target.
   */
  moveInode(shareId: string, ino: number, parent: number, name: string): void {
    this.db.transaction(() => {
      const replaced = this.db.prepare('SELECT ino FROM share_inodes WHERE share_id = ? AND parent = ? AND name = ?').pluck().get(shareId, parent, name) as number | undefined;
      if (replaced !== undefined && replaced !== ino) this.removeInode(shareId, replaced);
      this.db.prepare('UPDATE share_inodes SET parent = ?, name = ? WHERE share_id = ? AND ino = ?').run(parent, name, shareId, ino);
      this.db.prepare('DELETE FROM share_renames WHERE share_id = ? AND ino = ?').run(shareId, ino);
    })();
  }

  /** The names in a directory whose files have a local state (some may not be in the bucket yet). */
  localChildren(shareId: string, parent: number): Array<{ ino: number; name: string; kind: FileKind }> {
    return this.db.prepare(`
      SELECT i.ino, i.name, i.kind FROM share_inodes i JOIN share_files f ON f.share_id = i.share_id AND f.ino = i.ino
      WHERE i.share_id = ? AND i.parent = ?
    `).all(shareId, parent) as Array<{ ino: number; name: string; kind: FileKind }>;
  }

  shareFiles(shareId: string): Array<{ ino: number; state: string }> {
    return this.db.prepare('SELECT ino, state FROM share_files WHERE share_id = ?').all(shareId) as Array<{ ino: number; state: string }>;
  }

  saveShareFile(shareId: string, ino: number, state: string): void {
    this.db.prepare('INSERT INTO share_files (share_id, ino, state) VALUES (?, ?, ?) ON CONFLICT (share_id, ino) DO UPDATE SET state = excluded.state').run(shareId, ino, state);
  }

  deleteShareFile(shareId: string, ino: number): void {
    this.db.prepare('DELETE FROM share_files WHERE share_id = ? AND ino = ?').run(shareId, ino);
  }

  /** Renames begun and not finished: their objects are still being copied. */
  shareRenames(shareId: string): ShareRename[] {
    return (this.db.prepare('SELECT ino, from_path, to_parent, to_name FROM share_renames WHERE share_id = ?').all(shareId) as Row[])
      .map((r) => ({ ino: Number(r.ino), fromPath: String(r.from_path), toParent: Number(r.to_parent), toName: String(r.to_name) }));
  }

  beginShareRename(shareId: string, r: ShareRename): void {
    this.db.prepare('INSERT INTO share_renames (share_id, ino, from_path, to_parent, to_name) VALUES (?, ?, ?, ?, ?)').run(shareId, r.ino, r.fromPath, r.toParent, r.toName);
  }

  snapshots(volumeId?: string): SnapshotRecord[] {
    const rows = volumeId === undefined
      ? this.db.prepare('SELECT * FROM snapshots ORDER BY created_at, snapshot_id').all()
      : this.db.prepare('SELECT * FROM snapshots WHERE volume_id = ? ORDER BY created_at, snapshot_id').all(volumeId);
    return (rows as Row[]).map(snapshotFromRow);
  }

  snapshot(snapshotId: string): SnapshotRecord | undefined {
    const row = this.db.prepare('SELECT * FROM snapshots WHERE snapshot_id = ?').get(snapshotId) as Row | undefined;
    return row && snapshotFromRow(row);
  }

  /**
   * The snapshot's instant, in one transaction: the chunks whose content the store already holds are referenced
   * at once; the others are pending until captured.
   */
  beginSnapshot(s: SnapshotRecord, stored: ReadonlyMap<number, string>, pending: readonly number[]): void {
    this.db.transaction(() => {
      this.insertSnapshot(s);
      this.addSnapshotChunks(s.snapshotId, stored);
      const owe = this.db.prepare('INSERT INTO snapshot_pending (snapshot_id, chunk_index) VALUES (?, ?)');
      for (const index of pending) owe.run(s.snapshotId, index);
    })();
  }

  /** A snapshot of a volume's recovery point: all its chunks are in the store, so none is pending. */
  beginSnapshotFromRecoveryPoint(s: SnapshotRecord): void {
    this.db.transaction(() => {
      this.insertSnapshot(s);
      this.copyMap('recoveryPoint', s.volumeId, 'snapshot', s.snapshotId);
    })();
  }

  /** A snapshot found in the bucket: its chunks are in the store, and it now holds references to them. */
  importSnapshot(s: SnapshotRecord, chunks: ReadonlyMap<number, string>): void {
    this.db.transaction(() => {
      this.insertSnapshot(s);
      this.addSnapshotChunks(s.snapshotId, chunks);
    })();
  }

  /** Chunks of a snapshot, each a reference that keeps its object in the store; the caller runs a transaction. */
  private addSnapshotChunks(snapshotId: string, chunks: Iterable<[number, string]>): void {
    const refer = this.db.prepare('INSERT INTO chunks (hash, refs, stored) VALUES (?, 1, 1) ON CONFLICT (hash) DO UPDATE SET refs = refs + 1');
    const add = this.db.prepare('INSERT INTO snapshot_chunks (snapshot_id, chunk_index, hash) VALUES (?, ?, ?)');
    for (const [index, hash] of chunks) {
      refer.run(hash);
      add.run(snapshotId, index, hash);
    }
  }

  private insertSnapshot(s: SnapshotRecord): void {
    this.db.prepare(`
      INSERT INTO snapshots (snapshot_id, volume_id, volume_name, description, status, created_at, size_bytes, chunk_size, completed_at, error)
      VALUES (@snapshotId, @volumeId, @volumeName, @description, @status, @createdAt, @sizeBytes, @chunkSize, @completedAt, @error)
    `).run(s);
  }

  pendingSnapshotChunks(snapshotId: string): number[] {
    return this.db.prepare('SELECT chunk_index FROM snapshot_pending WHERE snapshot_id = ? ORDER BY chunk_index').pluck().all(snapshotId) as number[];
  }

  /** The chunk's content at the snapshot's instant is `hash` (null: zeros): referenced, and no longer pending. */
  captureSnapshotChunk(snapshotId: string, index: number, hash: string | null): void {
    this.db.transaction(() => {
      if (hash !== null) this.addSnapshotChunks(snapshotId, [[index, hash]]);
      this.db.prepare('DELETE FROM snapshot_pending WHERE snapshot_id = ? AND chunk_index = ?').run(snapshotId, index);
    })();
  }

  snapshotChunkMap(snapshotId: string): Map<number, string> {
    const rows = this.db.prepare('SELECT chunk_index, hash FROM snapshot_chunks WHERE snapshot_id = ?').raw().all(snapshotId) as Array<[number, string]>;
    return new Map(rows);
  }

  snapshotChunkCounts(snapshotId: string): { captured: number; pending: number } {
    const count = (table: string) => this.db.prepare(`SELECT count(*) FROM ${table} WHERE snapshot_id = ?`).pluck().get(snapshotId) as number;
    return { captured: count('snapshot_chunks'), pending: count('snapshot_pending') };
  }

  setSnapshotStatus(snapshotId: string, status: string, fields: { completedAt?: string; error?: string } = {}): void {
    this.db.prepare('UPDATE snapshots SET status = ?, completed_at = coalesce(?, completed_at), error = coalesce(?, error) WHERE snapshot_id = ?')
      .run(status, fields.completedAt ?? null, fields.error ?? null, snapshotId);
  }

  /** Drops the snapshot and its references; chunks nothing else references become garbage. */
  deleteSnapshot(snapshotId: string): void {
    this.db.transaction(() => {
      this.moveRefs('snapshot', snapshotId, -1);
      this.db.prepare('DELETE FROM snapshots WHERE snapshot_id = ?').run(snapshotId);
    })();
  }

  /** The schedule set for a volume (JSON as the scheduler writes it) and when it last ran; undefined: none set. */
  snapshotSchedule(volumeId: string): { schedule: string; lastRunAt: string } | undefined {
    const row = this.db.prepare('SELECT * FROM snapshot_schedules WHERE volume_id = ?').get(volumeId) as Row | undefined;
    return row && { schedule: String(row.schedule), lastRunAt: String(row.last_run_at) };
  }

  /** Sets a volume's schedule, or records a run of it (before the snapshot is taken, so a crash does not repeat it). */
  setSnapshotSchedule(volumeId: string, schedule: string, lastRunAt: string): void {
    this.db.prepare(`
      INSERT INTO snapshot_schedules (volume_id, schedule, last_run_at) VALUES (?, ?, ?)
      ON CONFLICT (volume_id) DO UPDATE SET schedule = excluded.schedule, last_run_at = excluded.last_run_at
    `).run(volumeId, schedule, lastRunAt);
  }

  /**
   * A new volume whose map is a snapshot's or another volume's recovery point: it reads those chunks until it
   * writes its own. With `restore`, the volume is a stored one whose disk gets the chunks in the background.
   */
  addVolumeCopy(v: VolumeRecord, from: { snapshotId: string } | { recoveryPointOf: string }, { restore = false } = {}): void {
    this.db.transaction(() => {
      this.addVolume(v);
      if ('snapshotId' in from) this.copyMap('snapshot', from.snapshotId, 'volume', v.volumeId);
      else this.copyMap('recoveryPoint', from.recoveryPointOf, 'volume', v.volumeId);
      if (restore) this.db.prepare('INSERT INTO restore_pending (volume_id, chunk_index) SELECT volume_id, chunk_index FROM volume_chunks WHERE volume_id = ?').run(v.volumeId);
    })();
  }

  /** Chunks of a restored stored volume that its disk does not hold yet. */
  restorePending(volumeId: string): number[] {
    return this.db.prepare('SELECT chunk_index FROM restore_pending WHERE volume_id = ? ORDER BY chunk_index').pluck().all(volumeId) as number[];
  }

  /** These chunks are on the restored volume's disk, synced. */
  restoreFilled(volumeId: string, indices: readonly number[]): void {
    const done = this.db.prepare('DELETE FROM restore_pending WHERE volume_id = ? AND chunk_index = ?');
    this.db.transaction(() => {
      for (const index of indices) done.run(volumeId, index);
    })();
  }

  /** Copies one map into an empty one of another owner, with a reference for each entry; the caller runs a transaction. */
  private copyMap(from: MapKind, fromId: string, to: MapKind, toId: string): void {
    const source = MAPS[from];
    const target = MAPS[to];
    this.db.prepare(`INSERT INTO ${target.table} (${target.owner}, chunk_index, hash) SELECT ?, chunk_index, hash FROM ${source.table} WHERE ${source.owner} = ?`)
      .run(toId, fromId);
    this.moveRefs(to, toId, 1);
  }

  /** Adds (+1) or drops (-1) the references a whole map holds; the caller runs a transaction. */
  private moveRefs(kind: MapKind, id: string, sign: 1 | -1): void {
    const { table, owner } = MAPS[kind];
    this.db.prepare(`
      UPDATE chunks SET refs = refs + @sign * (SELECT count(*) FROM ${table} m WHERE m.${owner} = @id AND m.hash = chunks.hash)
      WHERE hash IN (SELECT hash FROM ${table} WHERE ${owner} = @id)
    `).run({ id, sign });
  }

  tapes(): TapeRecord[] {
    return (this.db.prepare('SELECT * FROM tapes ORDER BY barcode').all() as Row[]).map(tapeFromRow);
  }

  tape(barcode: string): TapeRecord | undefined {
    const row = this.db.prepare('SELECT * FROM tapes WHERE barcode = ?').get(barcode) as Row | undefined;
    return row && tapeFromRow(row);
  }

  addTapes(tapes: TapeRecord[]): void {
    const insert = this.db.prepare(`
      INSERT INTO tapes (barcode, size_bytes, status, created_at, pool, element, source_element, used_bytes, archived_at, retrieval_eta)
      VALUES (@barcode, @sizeBytes, @status, @createdAt, @pool, @element, @sourceElement, @usedBytes, @archivedAt, @retrievalEta)
    `);
    this.db.transaction(() => {
      for (const t of tapes) {
        try {
          insert.run({ ...t, element: t.element ?? null, sourceElement: t.sourceElement ?? null, archivedAt: t.archivedAt ?? null, retrievalEta: t.retrievalEta ?? null });
        } catch (err) {
          if ((err as { code?: string }).code?.startsWith('SQLITE_CONSTRAINT')) throw new SgwError('SGW_ALREADY_EXISTS', `a tape with barcode ${t.barcode} already exists`);
          throw err;
        }
      }
    })();
  }

  updateTape(barcode: string, change: TapeChange): void {
    const columns: Record<string, string> = {
      status: 'status', pool: 'pool', element: 'element', sourceElement: 'source_element', usedBytes: 'used_bytes', archivedAt: 'archived_at', retrievalEta: 'retrieval_eta',
    };
    const sets = Object.keys(change).filter((k) => columns[k]).map((k) => `${columns[k]} = @${k}`);
    if (sets.length === 0) return;
    const values = Object.fromEntries(Object.entries(change).map(([k, v]) => [k, v ?? null]));
    this.db.prepare(`UPDATE tapes SET ${sets.join(', ')} WHERE barcode = @barcode`).run({ ...values, barcode });
  }

  deleteTape(barcode: string): void {
    this.db.prepare('DELETE FROM tapes WHERE barcode = ?').run(barcode);
  }

  tapeSegments(barcode: string): TapeSegment[] {
    return (this.db.prepare('SELECT * FROM tape_segments WHERE barcode = ? ORDER BY seq').all(barcode) as Row[]).map((r) => ({
      seq: Number(r.seq), firstObject: Number(r.first_object), objects: JSON.parse(String(r.objects)) as number[],
      logOffset: Number(r.log_offset), bytes: Number(r.bytes), key: r.key === null ? null : String(r.key), archiveId: r.archive_id === null ? null : String(r.archive_id),
    }));
  }

  addTapeSegment(barcode: string, s: TapeSegment): void {
    this.db.prepare(`
      INSERT INTO tape_segments (barcode, seq, first_object, objects, log_offset, bytes, key, archive_id)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    `).run(barcode, s.seq, s.firstObject, JSON.stringify(s.objects), s.logOffset, s.bytes, s.key, s.archiveId);
  }

  setTapeSegment(barcode: string, seq: number, change: { key?: string | null; archiveId?: string | null }): void {
    if (change.key !== undefined) this.db.prepare('UPDATE tape_segments SET key = ? WHERE barcode = ? AND seq = ?').run(change.key, barcode, seq);
    if (change.archiveId !== undefined) this.db.prepare('UPDATE tape_segments SET archive_id = ? WHERE barcode = ? AND seq = ?').run(change.archiveId, barcode, seq);
  }

  deleteTapeSegment(barcode: string, seq: number): void {
    this.db.prepare('DELETE FROM tape_segments WHERE barcode = ? AND seq = ?').run(barcode, seq);
  }

  tapePolicy(): TapePolicy | undefined {
    const r = this.db.prepare('SELECT * FROM tape_policy WHERE id = 1').get() as Row | undefined;
    return r && { minimumAvailable: Number(r.minimum_available), sizeBytes: Number(r.size_bytes), barcodePrefix: String(r.barcode_prefix), pool: String(r.pool) };
  }

  setTapePolicy(p: TapePolicy | undefined): void {
    if (!p) {
      this.db.prepare('DELETE FROM tape_policy').run();
      return;
    }
    this.db.prepare(`
      INSERT INTO tape_policy (id, minimum_available, size_bytes, barcode_prefix, pool) VALUES (1, @minimumAvailable, @sizeBytes, @barcodePrefix, @pool)
      ON CONFLICT (id) DO UPDATE SET minimum_available = excluded.minimum_available, size_bytes = excluded.size_bytes,
        barcode_prefix = excluded.barcode_prefix, pool = excluded.pool
    `).run(p);
  }

  /** The bandwidth limits as saved: rates and schedule, without the time zone (the gateway's, read when applied). */
  bandwidth(): Omit<BandwidthSettings, 'timezone'> | undefined {
    const r = this.db.prepare('SELECT settings FROM bandwidth WHERE id = 1').get() as Row | undefined;
    return r && (JSON.parse(String(r.settings)) as Omit<BandwidthSettings, 'timezone'>);
  }

  setBandwidth(settings: Omit<BandwidthSettings, 'timezone'> | undefined): void {
    if (!settings) {
      this.db.prepare('DELETE FROM bandwidth').run();
      return;
    }
    const json = JSON.stringify({ rates: settings.rates, schedule: settings.schedule });
    this.db.prepare('INSERT INTO bandwidth (id, settings) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET settings = excluded.settings').run(json);
  }

  counts(): { disks: number; volumes: number; shares: number; tapes: number; snapshots: number } {
    const count = (table: string): number => (this.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return {
      disks: count('disks'), volumes: count('volumes'), shares: count('shares'), tapes: count('tapes'), snapshots: count('snapshots'),
    };
  }
}

export interface ChapCredential {
  volumeId: string;
  initiatorName: string;
  initiatorSecret: string;
  /** Set for mutual CHAP: the secret the target proves to the initiator. */
  targetSecret: string | null;
}

export interface VolumeRecord extends VolumeSummary {
  chunkSize: number;
  lastUploadAt: string | null;
  /** The local disk of a stored volume. */
  diskPath: string | null;
}

/** A file or directory moving to a new name: its objects are copied from `fromPath` to the new path, then deleted. */
export interface ShareRename {
  ino: number;
  fromPath: string;
  toParent: number;
  toName: string;
}

export interface TapeRecord extends TapeSummary {
  /** The library element that holds it; null once archived (it is on the shelf, not in the library). */
  element: number | null;
  /** Where it was before it was moved into a drive (SMC's source element). */
  sourceElement: number | null;
  archivedAt?: string;
  retrievalEta?: string;
}

export type TapeChange = Partial<{
  status: TapeStatus; pool: string; element: number | null; sourceElement: number | null; usedBytes: number; archivedAt: string | null; retrievalEta: string | null;
}>;

/** A piece of a tape's log uploaded as one object: objects [firstObject, firstObject + objects.length). */
export interface TapeSegment {
  seq: number;
  firstObject: number;
  /** Length of each object, -1 for a filemark. */
  objects: number[];
  logOffset: number;
  bytes: number;
  /** The object in the gateway's store, while the tape is in the library. */
  key: string | null;
  /** The blob in the archive, once archived. */
  archiveId: string | null;
}

export interface TapePolicy {
  minimumAvailable: number;
  sizeBytes: number;
  barcodePrefix: string;
  pool: string;
}

export interface ShareRecord extends ShareSummary {
  settings: ShareSettings;
}

function tapeFromRow(r: Row): TapeRecord {
  return {
    barcode: String(r.barcode), sizeBytes: Number(r.size_bytes), status: String(r.status) as TapeStatus, createdAt: String(r.created_at),
    pool: String(r.pool), usedBytes: Number(r.used_bytes), element: r.element === null ? null : Number(r.element),
    sourceElement: r.source_element === null ? null : Number(r.source_element),
    ...(r.archived_at !== null ? { archivedAt: String(r.archived_at) } : {}), ...(r.retrieval_eta !== null ? { retrievalEta: String(r.retrieval_eta) } : {}),
  };
}

function shareFromRow(r: Row): ShareRecord {
  return {
    shareId: String(r.share_id), name: String(r.name), location: String(r.location),
    status: String(r.status), createdAt: String(r.created_at), settings: JSON.parse(String(r.settings)) as ShareSettings,
  };
}

export interface SnapshotRecord extends SnapshotSummary {
  chunkSize: number;
  completedAt: string | null;
  error: string | null;
}

function snapshotFromRow(r: Row): SnapshotRecord {
  return {
    snapshotId: String(r.snapshot_id), volumeId: String(r.volume_id), volumeName: String(r.volume_name),
    description: String(r.description), status: String(r.status), createdAt: String(r.created_at),
    sizeBytes: Number(r.size_bytes), chunkSize: Number(r.chunk_size),
    completedAt: r.completed_at === null ? null : String(r.completed_at), error: r.error === null ? null : String(r.error),
  };
}

function volumeFromRow(r: Row): VolumeRecord {
  return {
    volumeId: String(r.volume_id), name: String(r.name), type: r.type as VolumeSummary['type'],
    sizeBytes: Number(r.size_bytes), status: String(r.status), createdAt: String(r.created_at),
    chunkSize: Number(r.chunk_size), lastUploadAt: r.last_upload_at === null ? null : String(r.last_upload_at),
    diskPath: r.disk_path === null ? null : String(r.disk_path),
  };
}

function diskFromRow(r: Row): Disk {
  return {
    diskId: String(r.disk_id), path: String(r.path), kind: r.kind as Disk['kind'], role: r.role as Disk['role'],
    sizeBytes: Number(r.size_bytes), addedAt: String(r.added_at),
  };
}
