import { setTimeout as delay } from 'node:timers/promises';
import { BugError } from '../errors.js';
import { bytesPerSecondAt, validateBandwidthSettings, type BandwidthSettings, type Direction } from './bandwidth-schedule.js';

/** Waits `ms` or until `signal` aborts, whichever is first; tests pass one that moves a fake clock instead. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

const realSleep: Sleep = (ms, signal) => delay(ms, undefined, { signal });

interface Waiter {
  bytes: number;
  grant(): void;
}

/**
 * A token bucket holding one second of the current rate, refilled continuously. Requests are served first come,
 * first served. One larger than the bucket goes once the bucket is full and leaves it in debt, so a big part is
 * never starved and the long-run rate still holds. The rate is looked up on every refill, so schedule changes
 * take effect within a minute of their wall-clock time.
 */
export class BandwidthLimiter {
  private settings: BandwidthSettings | null;
  /** Infinity while unlimited, so the first limited refill starts from a full bucket. */
  private tokens: number;
  private refilledAt: number;
  private readonly queue: Waiter[] = [];
  private pumping = false;
  private wake: AbortController | undefined;

  constructor(
    settings: BandwidthSettings | null,
    private readonly direction: Direction,
    private readonly now: () => number = Date.now,
    private readonly sleep: Sleep = realSleep,
  ) {
    if (settings) validateBandwidthSettings(settings);
    this.settings = settings;
    this.refilledAt = now();
    this.tokens = Infinity;
  }

  /** Takes effect at once, also for requests already waiting; throws a UsageError for invalid settings; null: no limits. */
  update(settings: BandwidthSettings | null): void {
    if (settings) validateBandwidthSettings(settings);
    // Time so far earns tokens at the old rate.
    this.refill();
    this.settings = settings;
    this.wake?.abort();
  }

  /** Resolves when `bytes` may be sent; rejects with the signal's reason if `signal` aborts first. */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (!Number.isSafeInteger(bytes) || bytes < 0) return Promise.reject(new BugError(`cannot take ${bytes} bytes of bandwidth`));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.queue.length === 0 && this.waitFor(bytes) === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const abort = (): void => {
        const at = this.queue.indexOf(waiter);
        if (at >= 0) this.queue.splice(at, 1);
        // The pump may be sleeping on this request's behalf; the next one may need less.
        this.wake?.abort();
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        bytes,
        grant: () => {
          signal?.removeEventListener('abort', abort);
          resolve();
        },
      };
      signal?.addEventListener('abort', abort, { once: true });
      this.queue.push(waiter);
      void this.pump();
    });
  }

  /** Serves the queue head by head, sleeping only as long as the head still needs. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      for (let head = this.queue[0]; head; head = this.queue[0]) {
        const ms = this.waitFor(head.bytes);
        if (ms === 0) {
          this.queue.shift();
          head.grant();
          continue;
        }
        const wake = new AbortController();
        this.wake = wake;
        // An abort here is a wake-up (new settings, a request gone), not a failure: look again.
        await this.sleep(ms, wake.signal).catch(() => undefined);
      }
    } finally {
      this.wake = undefined;
      this.pumping = false;
    }
  }

  /** Takes the tokens and returns 0 if `bytes` may go now, else how many ms until they may. */
  private waitFor(bytes: number): number {
    const rate = this.refill();
    if (rate === undefined) return 0;
    const need = Math.min(bytes, rate);
    if (this.tokens >= need) {
      this.tokens -= bytes;
      return 0;
    }
    return Math.ceil(((need - this.tokens) * 1000) / rate);
  }

  private refill(): number | undefined {
    const now = this.now();
    const rate = bytesPerSecondAt(this.settings, this.direction, new Date(now));
    const elapsed = Math.max(0, now - this.refilledAt);
    this.refilledAt = now;
    this.tokens = rate === undefined ? Infinity : Math.min(rate, this.tokens + (elapsed * rate) / 1000);
    return rate;
  }
}
