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
];
