/**
 * Newline-delimited JSON framing for the control socket. A peer that sends a line longer than the limit, or bytes
 * that are not JSON, is cut off: the daemon must never buffer without bound for a misbehaving client.
 */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

export class LineDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxLineBytes = MAX_LINE_BYTES) {}

  /** Returns the complete lines in `chunk`; throws when a line would exceed the limit. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      this.ensureRoom(piece.length);
      this.pending.push(piece);
      lines.push(Buffer.concat(this.pending).toString('utf8'));
      this.pending = [];
      this.pendingBytes = 0;
      start = nl + 1;
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.ensureRoom(rest.length);
      this.pending.push(rest);
      this.pendingBytes += rest.length;
    }
    return lines;
  }

  private ensureRoom(extra: number): void {
    if (this.pendingBytes + extra > this.maxLineBytes) {
      throw new Error(`a message longer than ${this.maxLineBytes} bytes`);
    }
  }
}

export function encodeLine(message: unknown): string {
  return `${JSON.stringify(message)}\n`;
}
