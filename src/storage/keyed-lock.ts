/**
 * First-come, first-served locks by key. A request for several keys is queued on all of them at once, in one
 * synchronous step, so two requests are ordered the same way on every key they share: no deadlock, and
 * operations on overlapping ranges run in the order they were issued.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async acquire(keys: Iterable<string>): Promise<() => void> {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const waits: Promise<void>[] = [];
    const mine: string[] = [];
    for (const key of new Set(keys)) {
      const previous = this.tails.get(key);
      if (previous) waits.push(previous);
      this.tails.set(key, gate);
      mine.push(key);
    }
    await Promise.all(waits);
    return () => {
      for (const key of mine) if (this.tails.get(key) === gate) this.tails.delete(key);
      release();
    };
  }

  /** Resolves once every operation queued so far on these keys has finished. */
  async settled(keys: Iterable<string>): Promise<void> {
    (await this.acquire(keys))();
  }
}
