interface KeyQueue {
  /** Settles when the latest exclusive operation, and everything queued before it, is done. */
  tail: Promise<void>;
  /** Shared operations queued since that exclusive one; the next exclusive one waits for them too. */
  readers: Promise<void>[];
  pending: number;
  /** Bumped by supersede(), so queued operations can tell that a later call already decided the outcome. */
  epoch: number;
}

const ignore = (): void => undefined;

/**
 * Per-key call-order queues: reads of one key run side by side, a put or write waits for every earlier
 * operation on its key and holds back every later one. A key with anything queued or running is busy, which
 * is what keeps its slot out of eviction.
 */
export class KeyLocks {
  private readonly queues = new Map<string, KeyQueue>();
  private drainWaiters: (() => void)[] = [];

  constructor(private readonly onIdle: (key: string) => void) {}

  busy(key: string): boolean {
    return this.queues.has(key);
  }

  supersede(key: string): void {
    const queue = this.queues.get(key);
    if (queue) queue.epoch++;
  }

  shared<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const queue = this.enter(key);
    const run = queue.tail.then(fn);
    queue.readers.push(run.then(ignore, ignore));
    return this.leave(key, queue, run);
  }

  /** `fn` gets `superseded()`: true once supersede(key) was called after this operation was. */
  exclusive<T>(key: string, fn: (superseded: () => boolean) => Promise<T>): Promise<T> {
    const queue = this.enter(key);
    const epoch = queue.epoch;
    const run = Promise.all([queue.tail, ...queue.readers]).then(() => fn(() => queue.epoch !== epoch));
    queue.tail = run.then(ignore, ignore);
    queue.readers = [];
    return this.leave(key, queue, run);
  }

  /** Resolves once nothing is queued or running on any key. */
  drained(): Promise<void> {
    if (this.queues.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private enter(key: string): KeyQueue {
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { tail: Promise.resolve(), readers: [], pending: 0, epoch: 0 };
      this.queues.set(key, queue);
    }
    queue.pending++;
    return queue;
  }

  private leave<T>(key: string, queue: KeyQueue, run: Promise<T>): Promise<T> {
    return run.finally(() => {
      if (--queue.pending > 0) return;
      this.queues.delete(key);
      this.onIdle(key);
      if (this.queues.size > 0) return;
      for (const resolve of this.drainWaiters) resolve();
      this.drainWaiters = [];
    });
  }
}
