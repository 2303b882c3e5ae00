/**
 * Numbered schema migrations. The catalog's `user_version` is the number of the last one applied; each runs in
 * its own transaction, so a crash mid-upgrade leaves the previous version intact. Never edit a released
 * migration: add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: gateway settings, disks, and the objects later engines own.
  `
  CREATE TABLE gateway (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    gateway_id TEXT NOT NULL,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    backend TEXT NOT NULL,
    activated_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE disks (
    disk_id TEXT PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'block')),
    role TEXT NOT NULL CHECK (role IN ('cache', 'upload-buffer')),
    size_bytes INTEGER NOT NULL CHECK (size_bytes > 0),
    added_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE volumes (
    volume_id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL CHECK (type IN ('cached', 'stored')),
    size_bytes INTEGER NOT NULL CHECK (size_bytes > 0),
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE snapshots (
    snapshot_id TEXT PRIMARY KEY,
    volume_id TEXT NOT NULL REFERENCES volumes (volume_id),
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE shares (
    share_id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    location TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) STRICT;

  CREATE TABLE tapes (
    barcode TEXT PRIMARY KEY,
    size_bytes INTEGER NOT NULL CHECK (size_bytes > 0),
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
  ) STRICT;
  `,
  // 2: the block engine. A volume's data is a sparse map chunk index -> content hash; chunk objects are shared by
  // content, so `chunks` counts the references that keep each object alive.
  `
  ALTER TABLE volumes ADD COLUMN chunk_size INTEGER NOT NULL DEFAULT 1048576;
  ALTER TABLE volumes ADD COLUMN last_upload_at TEXT;

  CREATE TABLE volume_chunks (
    volume_id TEXT NOT NULL REFERENCES volumes (volume_id) ON DELETE CASCADE,
    chunk_index INTEGER NOT NULL,
    hash TEXT NOT NULL REFERENCES chunks (hash),
    PRIMARY KEY (volume_id, chunk_index)
  ) STRICT, WITHOUT ROWID;

  -- A row is written before its object is uploaded (stored = 0), so an upload that fails after the object
  -- did reach the store leaves a row that garbage collection finds, never an orphan object.
  CREATE TABLE chunks (
    hash TEXT PRIMARY KEY,
    refs INTEGER NOT NULL CHECK (refs >= 0),
    stored INTEGER NOT NULL DEFAULT 0 CHECK (stored IN (0, 1))
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX chunks_unreferenced ON chunks (hash) WHERE refs = 0;
  `,
  // 3: stored volumes keep their data on a local disk of their own.
  `
  ALTER TABLE volumes ADD COLUMN disk_path TEXT;
  `,
  // 4: a stored volume that went PASS THROUGH has its upload-buffer records up to this seq on its disk already;
  // replaying them after a restart would put older data over newer.
  `
  ALTER TABLE volumes ADD COLUMN pass_through_seq INTEGER NOT NULL DEFAULT 0;
  `,
  // 5: CHAP secrets per volume target and initiator, as AWS keeps them; a target with any entry requires CHAP.
  `
  CREATE TABLE chap_credentials (
    volume_id TEXT NOT NULL REFERENCES volumes (volume_id) ON DELETE CASCADE,
    initiator_name TEXT NOT NULL,
    initiator_secret TEXT NOT NULL,
    target_secret TEXT,
    PRIMARY KEY (volume_id, initiator_name)
  ) STRICT;
  `,
  // 6: snapshots. A snapshot outlives its volume (so no foreign key to it) and holds its own chunk references.
  // Chunks that were dirty at the snapshot's instant are listed in snapshot_pending until their content is
  // captured; a write to one of them captures it first, so after a crash a pending chunk still holds its content
  // of that instant.
  `
  CREATE TABLE snapshots_v6 (
    snapshot_id TEXT PRIMARY KEY,
    volume_id TEXT NOT NULL,
    volume_name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    size_bytes INTEGER NOT NULL CHECK (size_bytes > 0),
    chunk_size INTEGER NOT NULL CHECK (chunk_size > 0),
    completed_at TEXT,
    error TEXT
  ) STRICT;
  DROP TABLE snapshots;
  ALTER TABLE snapshots_v6 RENAME TO snapshots;

  CREATE TABLE snapshot_chunks (
    snapshot_id TEXT NOT NULL REFERENCES snapshots (snapshot_id) ON DELETE CASCADE,
    chunk_index INTEGER NOT NULL,
    hash TEXT NOT NULL REFERENCES chunks (hash),
    PRIMARY KEY (snapshot_id, chunk_index)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE snapshot_pending (
    snapshot_id TEXT NOT NULL REFERENCES snapshots (snapshot_id) ON DELETE CASCADE,
    chunk_index INTEGER NOT NULL,
    PRIMARY KEY (snapshot_id, chunk_index)
  ) STRICT, WITHOUT ROWID;

  -- A volume without a row has AWS's default schedule: daily from the hour it was created.
  CREATE TABLE snapshot_schedules (
    volume_id TEXT PRIMARY KEY REFERENCES volumes (volume_id) ON DELETE CASCADE,
    schedule TEXT NOT NULL,
    last_run_at TEXT NOT NULL
  ) STRICT;
  `,
  // 7: a cached volume's latest recovery point (its map at the last moment the store held everything written to
  // it), holding chunk references as a snapshot does; and the chunks a stored volume restored from a snapshot
  // does not have on its disk yet.
  `
  ALTER TABLE volumes ADD COLUMN recovery_point_at TEXT;

  CREATE TABLE recovery_point_chunks (
    volume_id TEXT NOT NULL REFERENCES volumes (volume_id) ON DELETE CASCADE,
    chunk_index INTEGER NOT NULL,
    hash TEXT NOT NULL REFERENCES chunks (hash),
    PRIMARY KEY (volume_id, chunk_index)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE restore_pending (
    volume_id TEXT NOT NULL REFERENCES volumes (volume_id) ON DELETE CASCADE,
    chunk_index INTEGER NOT NULL,
    PRIMARY KEY (volume_id, chunk_index)
  ) STRICT, WITHOUT ROWID;
  `,
  // 8: a file share's settings (bucket, prefix, clients, squash, defaults, ...) as JSON: they are read and
  // written whole, and new ones need no migration.
  `
  ALTER TABLE shares ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';
  `,
  // 9: the inodes of file shares. An inode is a name in a directory, numbered once and never again, so that
  // file handles (share + inode) survive restarts, and renames (which move the row). The root is inode 1 and has
  // no row.
  `
  CREATE TABLE share_inodes (
    share_id TEXT NOT NULL REFERENCES shares (share_id) ON DELETE CASCADE,
    ino INTEGER NOT NULL CHECK (ino > 1),
    parent INTEGER NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'dir')),
    PRIMARY KEY (share_id, ino)
  ) STRICT, WITHOUT ROWID;
  CREATE UNIQUE INDEX share_inodes_by_name ON share_inodes (share_id, parent, name);
  ALTER TABLE shares ADD COLUMN next_ino INTEGER NOT NULL DEFAULT 2;
  `,
  // 10: files of shares that have a local state: written and not yet uploaded, created and not yet in the bucket,
  // or cached for reading. `state` is the file's attributes and range map as JSON, saved only once the cache file
  // holding those ranges is synced; `generation` counts changes and `uploaded` is the one the bucket has. Renames
  // are journaled while their objects are copied, so that a restart finishes them.
  `
  CREATE TABLE share_files (
    share_id TEXT NOT NULL REFERENCES shares (share_id) ON DELETE CASCADE,
    ino INTEGER NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (share_id, ino)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE share_renames (
    share_id TEXT NOT NULL REFERENCES shares (share_id) ON DELETE CASCADE,
    ino INTEGER NOT NULL,
    from_path TEXT NOT NULL,
    to_parent INTEGER NOT NULL,
    to_name TEXT NOT NULL,
    PRIMARY KEY (share_id, ino)
  ) STRICT;
  `,
  // 11: the tape library. A tape sits in a library element (slot, drive, mailslot) or, archived, in none; its
  // data is uploaded in segments of its log, each with the lengths of the objects it holds (-1 a filemark) so
  // that a tape read back from the archive is positioned without reading it. `tape_policy` keeps a number of
  // empty tapes available.
  `
  ALTER TABLE tapes ADD COLUMN pool TEXT NOT NULL DEFAULT 'GLACIER';
  ALTER TABLE tapes ADD COLUMN element INTEGER;
  ALTER TABLE tapes ADD COLUMN source_element INTEGER;
  ALTER TABLE tapes ADD COLUMN used_bytes INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE tapes ADD COLUMN archived_at TEXT;
  ALTER TABLE tapes ADD COLUMN retrieval_eta TEXT;
  CREATE UNIQUE INDEX tapes_by_element ON tapes (element) WHERE element IS NOT NULL;

  CREATE TABLE tape_segments (
    barcode TEXT NOT NULL REFERENCES tapes (barcode) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    first_object INTEGER NOT NULL,
    objects TEXT NOT NULL,
    log_offset INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    key TEXT,
    archive_id TEXT,
    PRIMARY KEY (barcode, seq)
  ) STRICT, WITHOUT ROWID;

  CREATE TABLE tape_policy (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    minimum_available INTEGER NOT NULL,
    size_bytes INTEGER NOT NULL,
    barcode_prefix TEXT NOT NULL,
    pool TEXT NOT NULL
  ) STRICT;
  `,
  // 12: the gateway's bandwidth limits: rates in bits per second and the weekly schedule, as JSON.
  `
  CREATE TABLE bandwidth (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    settings TEXT NOT NULL
  ) STRICT;
  `,
];
