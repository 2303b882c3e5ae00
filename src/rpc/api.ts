/**
 * The control API between the sgw CLI and sgwd: method names with their parameter and result shapes. Types only,
 * so the CLI pays nothing at run time for importing it.
 */
import type { WireError } from '../errors.js';

export type BackendSettings =
  | { kind: 'local' }
  | { kind: 's3'; bucket: string; region: string; endpoint?: string; prefix?: string; profile?: string };

export interface GatewaySettings {
  gatewayId: string;
  name: string;
  timezone: string;
  backend: BackendSettings;
  activatedAt: string;
}

export interface DaemonStatus {
  version: string;
  pid: number;
  startedAt: string;
  stateDir: string;
  socket: string;
  /** Where the iSCSI portal listens, HOST:PORT. */
  iscsiPortal: string;
  /** Where NFS and MOUNT listen, HOST:PORT. */
  nfsServer: string;
}

export interface GatewayInfo {
  activated: boolean;
  gateway: GatewaySettings | null;
  daemon: DaemonStatus;
  counts: { disks: number; volumes: number; shares: number; tapes: number; snapshots: number };
}

export interface ActivateParams {
  name?: string;
  timezone?: string;
  endpoint?: string;
  bucket?: string;
  region?: string;
  prefix?: string;
  profile?: string;
  force?: boolean;
}

export interface ActivateResult {
  changed: boolean;
  gateway: GatewaySettings;
}

export type DiskRole = 'cache' | 'upload-buffer';

export interface Disk {
  diskId: string;
  path: string;
  kind: 'file' | 'block';
  role: DiskRole;
  sizeBytes: number;
  addedAt: string;
}

export interface AddDiskParams {
  path: string;
  sizeBytes?: number;
}

export interface AddDiskResult {
  disk: Disk;
  warnings: string[];
}

export interface VolumeSummary {
  volumeId: string;
  name: string;
  type: 'cached' | 'stored';
  sizeBytes: number;
  status: string;
  createdAt: string;
}

export interface VolumeDetails extends VolumeSummary {
  chunkSize: number;
  lastUploadAt: string | null;
  diskPath: string | null;
  /** A cached volume's latest recovery point: the last moment the store held everything written to it. */
  recoveryPointAt: string | null;
  bytesUsed: number;
  dirtyBytes: number;
  cacheHitPercent: number | null;
  uploadBacklogBytes: number;
  /** The iSCSI target initiators log in to. */
  targetName: string;
  initiators: VolumeInitiator[];
}

/** An initiator logged in to a volume's target. */
export interface VolumeInitiator {
  initiatorName: string;
  address: string;
  loggedInAt: string;
}

export interface ChapEntry {
  volume: string;
  initiatorName: string;
  /** Whether the target also proves itself to the initiator. */
  mutual: boolean;
}

export interface SetChapParams {
  volume: string;
  initiatorName: string;
  secret: string;
  targetSecret?: string;
}

export type CreateVolumeParams =
  | { name?: string; type: 'cached'; sizeBytes?: number; fromSnapshot?: string }
  | { name?: string; type: 'stored'; diskPath: string; preserveExistingData?: boolean; fromSnapshot?: string };

/** A new cached volume with the content of another cached volume's latest recovery point. */
export interface CloneVolumeParams {
  source: string;
  name: string;
  sizeBytes?: number;
}

export interface ShareSummary {
  shareId: string;
  name: string;
  location: string;
  status: string;
  createdAt: string;
}

/** What can be set on a share, at creation or later (names and ranges as AWS's NFS file shares). */
export interface ShareOptions {
  /** Addresses and CIDR blocks allowed to mount and call the share. */
  clientList: string[];
  squash: 'root' | 'none' | 'all';
  readOnly: boolean;
  /** Octal modes, owner and group of objects and directories that carry no metadata of their own. */
  fileMode: string;
  dirMode: string;
  ownerId: number;
  groupId: number;
  storageClass: string;
  objectAcl: string;
  /** How long a directory listing is trusted before the bucket is listed again; 0: until sgw share refresh. */
  cacheStaleTimeoutSeconds: number;
  /** How long a file stays unwritten before it is uploaded. */
  uploadSettleSeconds: number;
}

/** Changes of a share not in its bucket yet (after waiting for them, with wait). */
export interface ShareSyncResult {
  shareId: string;
  pendingFiles: number;
  pendingBytes: number;
}

export interface ShareDetails extends ShareSummary, ShareOptions {
  bucket: string;
  prefix: string;
  /** The path NFS clients mount: /<share name>. */
  exportPath: string;
  /** The share's latest refresh since sgwd started (sgw share describe only). */
  refresh?: ShareRefreshStatus;
}

/**
 * A refresh of a share's listings, running in the background as AWS's RefreshCache does; refreshId stands for
 * the NotificationId of its completion.
 */
export interface ShareRefreshStatus {
  refreshId: string;
  shareId: string;
  /** The folders listed again at once; none: the whole share, listed again as it is browsed. */
  folders: string[];
  recursive: boolean;
  running: boolean;
  startedAt: string;
  finishedAt: string | null;
  /** How many of `folders` have been listed again. */
  foldersDone: number;
  /** Why it failed; null while it runs and once it succeeded. */
  error: WireError | null;
}

/** `refreshed` names the share; `refresh` is as the refresh was when the call returned (with wait: when it ended). */
export interface ShareRefreshResult {
  refreshed: string;
  refresh: ShareRefreshStatus;
}

export type CreateShareParams = { name: string; bucket: string; prefix?: string } & Partial<ShareOptions>;
export type UpdateShareParams = { share: string } & Partial<ShareOptions>;

export interface SnapshotSummary {
  snapshotId: string;
  volumeId: string;
  volumeName: string;
  description: string;
  /** PENDING, COMPLETED, ERROR, or DELETING. */
  status: string;
  createdAt: string;
  sizeBytes: number;
}

export interface SnapshotDetails extends SnapshotSummary {
  chunkSize: number;
  completedAt: string | null;
  error: string | null;
  /** Chunks whose content at the snapshot's instant is not in the store yet. */
  chunksPending: number;
  progressPercent: number;
  /** For a snapshot just made of a recovery point: the instant its content is of. */
  recoveryPointAt?: string;
}

export interface SnapshotScheduleInfo {
  volume: string;
  volumeId: string;
  schedule: { kind: 'interval'; startAt: number; everyHours: number } | { kind: 'cron'; expression: string };
  /** e.g. "every 24 h from 03:00". */
  description: string;
  timezone: string;
  lastRunAt: string;
  nextRunAt: string;
}

export interface SetSnapshotScheduleParams {
  volume: string;
  startAt?: number;
  everyHours?: number;
  cron?: string;
}

export interface CreateSnapshotParams {
  volume: string;
  description?: string;
  /** Snapshot the volume's latest recovery point instead of its content now (cached volumes). */
  fromRecoveryPoint?: boolean;
}

/** AWS's tape states: in the library (AVAILABLE, RETRIEVED: read-only), on the way out, or on the shelf. */
export const TAPE_STATUSES = ['AVAILABLE', 'IN TRANSIT TO VTS', 'ARCHIVING', 'ARCHIVED', 'RETRIEVING', 'RETRIEVED', 'DELETING', 'IRRECOVERABLE'] as const;
export type TapeStatus = (typeof TAPE_STATUSES)[number];

export interface TapeSummary {
  barcode: string;
  sizeBytes: number;
  status: TapeStatus;
  createdAt: string;
  /** Where it goes when archived: GLACIER, DEEP_ARCHIVE or vault:NAME. */
  pool: string;
  usedBytes: number;
}

/** Automatic tape creation: this many empty tapes are kept AVAILABLE. */
export interface TapePolicySettings {
  minimumAvailable: number;
  sizeBytes: number;
  barcodePrefix: string;
  pool: string;
}

export interface TapeDetails extends TapeSummary {
  /** Where it is in the library: "slot 3", "drive 1", "mailslot 1", or none on the shelf. */
  location: string | null;
  archivedAt?: string;
  /** While RETRIEVING: when it is expected to be readable. */
  retrievalEta?: string;
  /** Archival or retrieval progress in percent, while one runs. */
  progress?: number;
}

/** Cumulative reads and writes served to clients since the daemon started. */
export interface IoCounters {
  readBytes: number;
  writeBytes: number;
  reads: number;
  writes: number;
  /** Summed time of the reads and writes, in milliseconds: the average is time / count (AWS ReadTime, WriteTime). */
  readTimeMs: number;
  writeTimeMs: number;
}

/** Cumulative traffic to and from the object store since the daemon started. */
export interface CloudCounters {
  bytesUploaded: number;
  bytesDownloaded: number;
  downloads: number;
  /** Summed time of the downloads: CloudDownloadLatency is downloadTimeMs / downloads. */
  downloadTimeMs: number;
}

/**
 * AWS Storage Gateway's gauges. null where it does not apply to the resource, or where the part of the gateway it
 * measures is not open (e.g. the volume cache before the first volume).
 */
export interface GaugeMetrics {
  cachePercentUsed: number | null;
  cachePercentDirty: number | null;
  cacheHitPercent: number | null;
  uploadBufferPercentUsed: number | null;
  /** Bytes written and not yet in the object store. */
  queuedWrites: number | null;
  timeSinceLastRecoveryPointSeconds: number | null;
}

export type MeteredResourceKind = 'volume' | 'share' | 'tape-drive';

export interface ResourceMetrics extends GaugeMetrics {
  kind: MeteredResourceKind;
  /** Volume or share ID, or the drive's number (1-10). */
  id: string;
  name: string;
  status: string;
  io: IoCounters;
  /** Per share (each has its own bucket); null for volumes and drives, whose traffic the gateway's line counts. */
  cloud: CloudCounters | null;
}

/** What still waits for the object store, gateway-wide. */
export interface UploadQueue {
  volumeBytes: number;
  shareFiles: number;
  shareBytes: number;
  /** Tapes IN TRANSIT TO VTS or ARCHIVING. */
  tapesArchiving: number;
}

export interface MetricsSnapshot {
  at: string;
  gateway: GaugeMetrics & { io: IoCounters; cloud: CloudCounters };
  resources: ResourceMetrics[];
  uploadQueue: UploadQueue;
  /** The limits in force now, bits per second; undefined: unlimited. */
  bandwidth: { uploadBitsPerSecond?: number; downloadBitsPerSecond?: number };
}

/** Limits in bits per second, as AWS's AverageUploadRateLimitInBitsPerSec; undefined: unlimited. */
export interface BandwidthRates {
  uploadBitsPerSecond?: number;
  downloadBitsPerSecond?: number;
}

/** One entry of the weekly schedule; the end minute is inclusive, so 23:59 runs to midnight. */
export interface BandwidthInterval extends BandwidthRates {
  /** 0 = Sunday .. 6 = Saturday. */
  daysOfWeek: number[];
  startHourOfDay: number;
  startMinuteOfHour: number;
  endHourOfDay: number;
  endMinuteOfHour: number;
}

/** Inside an interval of the schedule its rates hold; at any other time, `rates` (none: unlimited). */
export interface BandwidthSettings {
  rates: BandwidthRates;
  schedule: BandwidthInterval[];
  /** The gateway's time zone, in which the schedule's clock times are read. */
  timezone: string;
}

export interface BandwidthShow {
  settings: BandwidthSettings | null;
  /** The limits in force now. */
  now: BandwidthRates;
}

export interface DrainStatus {
  /** Nothing left to upload. */
  drained: boolean;
  queue: UploadQueue;
}

/** One line of the audit log: a call that could change the gateway (calls that only read are not recorded). */
export interface AuditRecord {
  /** When the call finished (ISO 8601, UTC), so the log is in time order. */
  time: string;
  /** The caller's real user id from the socket's peer credentials; null where they could not be read. */
  uid: number | null;
  /** The calling process; null where it could not be found out. */
  pid: number | null;
  action: string;
  /** The call's parameters with every secret replaced by "***". */
  params: unknown;
  result: 'ok' | { error: string; message: string };
}

type NoParams = Record<string, never>;

export interface Api {
  ping: { params: NoParams; result: { pong: true; pid: number } };
  version: { params: NoParams; result: { version: string } };
  'gateway.activate': { params: ActivateParams; result: ActivateResult };
  'gateway.info': { params: NoParams; result: GatewayInfo };
  'disk.list': { params: NoParams; result: Disk[] };
  'disk.addCache': { params: AddDiskParams; result: AddDiskResult };
  'disk.addUploadBuffer': { params: AddDiskParams; result: AddDiskResult };
  'disk.describe': { params: { disk: string }; result: Disk };
  'volume.list': { params: NoParams; result: VolumeSummary[] };
  'volume.create': { params: CreateVolumeParams; result: VolumeDetails };
  'volume.clone': { params: CloneVolumeParams; result: VolumeDetails };
  'volume.describe': { params: { volume: string }; result: VolumeDetails };
  'volume.delete': { params: { volume: string; force?: boolean }; result: { deleted: string } };
  'volume.chap.set': { params: SetChapParams; result: ChapEntry };
  'volume.chap.list': { params: { volume?: string }; result: ChapEntry[] };
  'volume.chap.delete': { params: { volume: string; initiatorName: string }; result: { deleted: ChapEntry } };
  'share.list': { params: NoParams; result: ShareSummary[] };
  'share.create': { params: CreateShareParams; result: ShareDetails };
  'share.describe': { params: { share: string }; result: ShareDetails };
  'share.update': { params: UpdateShareParams; result: ShareDetails };
  'share.delete': { params: { share: string; force?: boolean }; result: { deleted: string } };
  'share.sync': { params: { share: string; wait?: boolean }; result: ShareSyncResult };
  /** Starts a refresh, or joins the same one running; with wait, returns once it has ended (failing as it failed). */
  'share.refresh': { params: { share: string; folders?: string[]; recursive?: boolean; wait?: boolean }; result: ShareRefreshResult };
  /** One of the share's recent refreshes (sgwd keeps the last few per share until it stops). */
  'share.refresh.status': { params: { share: string; refreshId: string }; result: ShareRefreshStatus };
  'share.restore': { params: { share: string; path: string; days?: number; tier?: 'Expedited' | 'Standard' | 'Bulk' }; result: { shareId: string; path: string; key: string; status: 'RESTORING' } };
  'snapshot.list': { params: { volume?: string; fromBucket?: boolean }; result: SnapshotSummary[] };
  'snapshot.create': { params: CreateSnapshotParams; result: SnapshotDetails };
  'snapshot.describe': { params: { snapshot: string }; result: SnapshotDetails };
  'snapshot.delete': { params: { snapshot: string }; result: { deleted: string } };
  /** Shows the volume's schedule; with any of startAt, everyHours, cron, sets it first. */
  'snapshot.schedule': { params: SetSnapshotScheduleParams; result: SnapshotScheduleInfo };
  'tape.list': { params: NoParams; result: TapeSummary[] };
  'tape.create': { params: { size: number | string; count?: number; barcodePrefix?: string; barcode?: string; pool?: string }; result: TapeSummary[] };
  'tape.describe': { params: { barcode: string }; result: TapeDetails };
  'tape.delete': { params: { barcode: string }; result: { deleted: string } };
  'tape.eject': { params: { barcode: string }; result: TapeDetails };
  'tape.cancel-archival': { params: { barcode: string }; result: TapeDetails };
  'tape.retrieve': { params: { barcode: string }; result: TapeDetails };
  'tape.delete-archive': { params: { barcode: string }; result: { deleted: string } };
  'tape.policy.show': { params: NoParams; result: TapePolicySettings | null };
  'tape.policy.set': { params: { minimumAvailable: number; size: number | string; barcodePrefix: string; pool?: string }; result: TapePolicySettings };
  'tape.policy.clear': { params: NoParams; result: { cleared: true } };
  'gateway.metrics': { params: NoParams; result: MetricsSnapshot };
  /** Starts uploading everything at once (no settle time) and reports what is still to go. */
  'gateway.drain': { params: NoParams; result: DrainStatus };
  /** What the drain has still to upload; read-only, for polling. */
  'gateway.drain.status': { params: NoParams; result: DrainStatus };
  /** The daemon answers, then stops as on SIGTERM. */
  'gateway.stop': { params: NoParams; result: { stopping: true; pid: number } };
  'gateway.bandwidth.show': { params: NoParams; result: BandwidthShow };
  'gateway.bandwidth.set': { params: { rates: BandwidthRates; schedule?: BandwidthInterval[] }; result: BandwidthShow };
  'gateway.bandwidth.clear': { params: NoParams; result: BandwidthShow };
  /** Audit records, oldest first, from `since` (ISO time) on; at most `limit` of the newest. */
  'gateway.audit': { params: { since?: string; limit?: number }; result: AuditRecord[] };
}

export type Method = keyof Api;
export type Params<M extends Method> = Api[M]['params'];
export type Result<M extends Method> = Api[M]['result'];
