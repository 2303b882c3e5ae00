import { open, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { AuditRecord } from '../../rpc/api.js';

export const AUDIT_FILE = 'audit.log';
export const DEFAULT_READ_LIMIT = 100;
export const MAX_READ_LIMIT = 10_000;

export interface AuditLogOptions {
  /** The size past which the file is rotated before the next record. */
  maxBytes?: number;
  /** How many rotated files (audit.log.1 the newest .. audit.log.N the oldest) are kept. */
  keep?: number;
}

export interface AuditQuery {
  /** Only records at or after this instant. */
  since?: Date;
  /** At most this many, the newest; DEFAULT_READ_LIMIT when left out, never more than MAX_READ_LIMIT. */
  limit?: number;
}

/**
 * Who changed what and when, as JSON lines in `<stateDir>/audit.log`. Each record is one write(2) on a descriptor
 * opened with O_APPEND, so a crash leaves at worst a torn last line, which `read` skips, never two records mixed.
 * Records are not fsynced: a power loss may take the last few, as it takes the page cache of everything else.
 *
 * Appends, rotations and reads take turns, so a reader never sees a file half-renamed.
 */
export class AuditLog {
  private turn: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(
    readonly file: string,
    private handle: FileHandle,
    private size: number,
    private readonly maxBytes: number,
    private readonly keep: number,
  ) {}

  static async open(dir: string, { maxBytes = 10 * 1024 * 1024, keep = 5 }: AuditLogOptions = {}): Promise<AuditLog> {
    if (!(maxBytes > 0) || !Number.isInteger(keep) || keep < 0) throw new RangeError(`audit log limits out of range: maxBytes ${maxBytes}, keep ${keep}`);
    const file = path.join(dir, AUDIT_FILE);
    const handle = await openForAppend(file);
    let { size } = await handle.stat();
    if (size > 0) {
      // A crash mid-write leaves a torn last line; ended here, it stays one bad line instead of spoiling the next.
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) size += (await handle.write('\n')).bytesWritten;
    }
    return new AuditLog(file, handle, size, maxBytes, keep);
  }

  append(record: AuditRecord): Promise<void> {
    return this.inTurn(async () => {
      if (this.closed) throw new Error('the audit log is closed');
      const line = Buffer.from(`${JSON.stringify(record)}\n`, 'utf8');
      if (this.size > 0 && this.size + line.length > this.maxBytes) await this.rotate();
      let written = 0;
      // A regular file takes the whole line in one write; the loop only guards against a short write (disk full).
      while (written < line.length) {
        const { bytesWritten } = await this.handle.write(line, written, line.length - written);
        if (bytesWritten === 0) throw new Error(`the audit log ${this.file} takes no more bytes`);
        written += bytesWritten;
        this.size += bytesWritten;
      }
    });
  }

  /** Records oldest first across the rotated files; lines that do not parse as records are skipped. */
  read({ since, limit = DEFAULT_READ_LIMIT }: AuditQuery = {}): Promise<AuditRecord[]> {
    const wanted = Number.isFinite(limit) ? Math.min(Math.max(Math.trunc(limit), 0), MAX_READ_LIMIT) : DEFAULT_READ_LIMIT;
    const from = since?.getTime() ?? -Infinity;
    return this.inTurn(async () => {
      const found: AuditRecord[][] = [];
      let count = 0;
      // Newest file first, so a small limit reads one file, and a file that starts before `since` is the last.
      for (let n = 0; n <= this.keep && count < wanted; n++) {
        const records = parseRecords(await readFile(this.fileNumber(n), 'utf8').catch(ignoreMissing));
        const matching = records.filter((r) => Date.parse(r.time) >= from);
        found.unshift(matching);
        count += matching.length;
        if (records.length > 0 && Date.parse(records[0]!.time) < from) break;
      }
      const all = found.flat();
      return wanted === 0 ? [] : all.slice(-wanted);
    });
  }

  async close(): Promise<void> {
    await this.inTurn(async () => {
      if (this.closed) return;
      this.closed = true;
      await this.handle.close();
    });
  }

  /** audit.log becomes audit.log.1, .1 becomes .2, and so on; the oldest beyond `keep` is dropped. */
  private async rotate(): Promise<void> {
    await this.handle.close();
    try {
      await unlink(this.fileNumber(this.keep)).catch(ignoreMissing);
      for (let n = this.keep - 1; n >= 0; n--) await rename(this.fileNumber(n), this.fileNumber(n + 1)).catch(ignoreMissing);
    } finally {
      // Whatever the renames did, records keep going to audit.log, rotated or not.
      this.handle = await openForAppend(this.file);
      const { size } = await this.handle.stat();
      this.size = size;
    }
  }

  private fileNumber(n: number): string {
    return n === 0 ? this.file : `${this.file}.${n}`;
  }

  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const next = this.turn.then(work);
    this.turn = next.catch(() => undefined);
    return next;
  }
}

function openForAppend(file: string): Promise<FileHandle> {
  // Only the daemon's user and group: parameters are redacted, but names and who did what are still nobody else's.
  return open(file, 'a+', 0o640);
}

function ignoreMissing(err: NodeJS.ErrnoException): '' {
  if (err.code === 'ENOENT') return '';
  throw err;
}

function parseRecords(text: string): AuditRecord[] {
  const records: AuditRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    if (isRecord(value)) records.push(value);
  }
  return records;
}

function isRecord(value: unknown): value is AuditRecord {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const r = value as Partial<AuditRecord>;
  return typeof r.time === 'string' && Number.isFinite(Date.parse(r.time)) && typeof r.action === 'string'
    && (r.result === 'ok' || (typeof r.result === 'object' && r.result !== null && typeof r.result.error === 'string'));
}
