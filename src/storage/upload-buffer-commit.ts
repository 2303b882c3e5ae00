import { SgwError } from '../errors.js';
import type { DiskSet } from './upload-buffer-disks.js';
import type { RingLayout } from './upload-buffer-layout.js';

/**
 * The bytes of one append: its record, and before it a wrap marker when it skipped to another region. A flush
 * request is an entry with no seq and no writes that is durable.
 */
export interface PendingAppend {
  seq?: number;
  writes: { pos: number; buf: Buffer }[];
  /** Synced before it resolves; otherwise it resolves once written (safe from a crash of sgwd, not of the machine). */
  durable: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

interface Waiter {
  seq: number;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Group commit. Appends queue here in seq order; a round writes everything queued (contiguous records on one disk in
 * one positioned writev), fdatasyncs every disk written since its last sync when anything in the round asks to be
 * durable, then resolves the whole batch. Appends arriving while a round is in flight wait for the next one, so
 * under load one fdatasync covers many records. An append that need not be durable yet (a volatile write cache)
 * is synced by the next durable append or flush instead.
 *
 * A failed write or fdatasync leaves the disk's contents unknown (the kernel may have dropped the dirty pages), so
 * it fails every queued append and all later ones; only a reopen, which recovers from what is really on disk, clears it.
 */
export class GroupCommit {
  /** The highest seq known written (durable once its disk is synced). */
  private writtenSeq: number;
  private readonly unsynced = new Set<number>();
  private queue: PendingAppend[] = [];
  private waiters: Waiter[] = [];
  private running: Promise<void> | undefined;
  private failure: SgwError | undefined;

  constructor(private readonly disks: DiskSet, private readonly layout: RingLayout, writtenSeq: number) {
    this.writtenSeq = writtenSeq;
  }

  get failed(): SgwError | undefined {
    return this.failure;
  }

  enqueue(append: PendingAppend): void {
    if (this.failure) {
      append.reject(this.failure);
      return;
    }
    this.queue.push(append);
    // Deferred a microtask so appends made in the same turn share the first round too.
    this.running ??= Promise.resolve().then(() => this.runRounds());
  }

  /** Resolves once everything enqueued so far is on disk and synced. */
  flush(): Promise<void> {
    if (!this.running && this.unsynced.size === 0) return this.failure ? Promise.reject(this.failure) : Promise.resolve();
    return new Promise((resolve, reject) => this.enqueue({ writes: [], durable: true, resolve, reject }));
  }

  /** Resolves once record `seq` (already enqueued) is written. */
  whenWritten(seq: number): Promise<void> {
    if (seq <= this.writtenSeq) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  /** Resolves when everything enqueued so far has been written and synced, or failed. */
  async drain(): Promise<void> {
    await this.flush().catch(() => undefined);
    while (this.running) await this.running;
  }

  private async runRounds(): Promise<void> {
    while (this.queue.length > 0 && !this.failure) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.write(batch);
        if (batch.some((a) => a.durable)) await this.sync();
      } catch (err) {
        this.fail(err, batch);
        break;
      }
      this.writtenSeq = batch.reduce((seq, a) => a.seq ?? seq, this.writtenSeq);
      for (const append of batch) append.resolve();
      const ready = this.waiters.filter((w) => w.seq <= this.writtenSeq);
      this.waiters = this.waiters.filter((w) => w.seq > this.writtenSeq);
      for (const waiter of ready) waiter.resolve();
    }
    this.running = undefined;
  }

  private async write(batch: PendingAppend[]): Promise<void> {
    let run: { disk: number; offset: number; end: number; bufs: Buffer[] } | undefined;
    const flush = async (): Promise<void> => {
      if (run) await this.disks.write(run.disk, run.offset, run.bufs);
    };
    for (const { pos, buf } of batch.flatMap((a) => a.writes)) {
      const { disk, offset } = this.layout.locate(pos);
      this.unsynced.add(disk);
      if (run && run.disk === disk && run.end === offset) {
        run.bufs.push(buf);
        run.end += buf.length;
        continue;
      }
      await flush();
      run = { disk, offset, end: offset + buf.length, bufs: [buf] };
    }
    await flush();
  }

  private async sync(): Promise<void> {
    const disks = [...this.unsynced];
    this.unsynced.clear();
    await Promise.all(disks.map((disk) => this.disks.sync(disk)));
  }

  private fail(err: unknown, batch: PendingAppend[]): void {
    const reason = err instanceof Error ? err.message : String(err);
    this.failure = new SgwError(
      'SGW_DISK_UNSUITABLE',
      `writing the upload buffer failed (${reason}); it takes no more writes until sgwd reopens it`,
      { cause: err },
    );
    for (const append of [...batch, ...this.queue]) append.reject(this.failure);
    for (const waiter of this.waiters) waiter.reject(this.failure);
    this.queue = [];
    this.waiters = [];
  }
}
