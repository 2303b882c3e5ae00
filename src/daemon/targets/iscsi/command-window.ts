/**
 * The CmdSN window of a session (RFC 7143 §3.2.2.1, §4.2.2.1): non-immediate commands run in CmdSN order; one that
 * arrives early waits inside the window, one outside [ExpCmdSN, MaxCmdSN] is dropped. The window is as wide as the
 * free task slots, so commands waiting plus commands running never exceed the queue depth.
 */
import { serialAdd, serialDiff } from './pdu.js';

const SKIPPED = Symbol('skipped');

export interface SequenceNumbers {
  expCmdSN(): number;
  /** The MaxCmdSN to put in an outgoing PDU; it never moves backwards once advertised. */
  maxCmdSN(): number;
}

export class CommandWindow<T> implements SequenceNumbers {
  private expected: number;
  private advertised: number;
  private running = 0;
  private readonly waiting = new Map<number, T | typeof SKIPPED>();

  constructor(firstCmdSN: number, private readonly depth: number) {
    this.expected = firstCmdSN >>> 0;
    this.advertised = serialAdd(this.expected, depth - 1);
  }

  expCmdSN(): number {
    return this.expected;
  }

  maxCmdSN(): number {
    const open = serialAdd(this.expected, this.depth - this.running - 1);
    // Initiators only ever move MaxCmdSN forward, so what we advertised stays admissible.
    if (serialDiff(open, this.advertised) > 0) this.advertised = open;
    return this.advertised;
  }

  /** Holds a non-immediate command until its turn; false when its CmdSN is outside the window or already held. */
  offer(cmdSN: number, item: T): boolean {
    if (!this.inWindow(cmdSN) || this.waiting.has(cmdSN)) return false;
    this.waiting.set(cmdSN, item);
    return true;
  }

  /** The command whose turn it is, if it has arrived; ExpCmdSN moves past it. */
  next(): T | undefined {
    for (;;) {
      const item = this.waiting.get(this.expected);
      if (item === undefined) return undefined;
      this.waiting.delete(this.expected);
      this.expected = serialAdd(this.expected, 1);
      if (item !== SKIPPED) return item;
    }
  }

  /**
   * ABORT TASK for a command that has not run (RFC 7143 §11.5.1): its CmdSN counts as received, and a copy
   * that arrives later is ignored. False when the CmdSN is outside the window.
   */
  skip(cmdSN: number): boolean {
    if (!this.inWindow(cmdSN)) return false;
    this.waiting.set(cmdSN, SKIPPED);
    return true;
  }

  /** A command in CmdSN order starts: its slot was reserved by the window. */
  occupy(): void {
    this.running++;
  }

  /** An immediate command starts outside CmdSN order: it needs a free slot. */
  occupyImmediate(): boolean {
    if (this.running >= this.depth) return false;
    this.running++;
    return true;
  }

  release(): void {
    this.running--;
  }

  private inWindow(cmdSN: number): boolean {
    return serialDiff(cmdSN, this.expected) >= 0 && serialDiff(cmdSN, this.maxCmdSN()) <= 0;
  }
}
