/**
 * Something opened on first use and shared from then on: a failed opening is forgotten, so that the next use
 * tries again (after the operator fixed what the error said).
 */
export class OpenedOnce<T extends { close(): Promise<void> }> {
  private pending: Promise<T> | undefined;
  private value: T | undefined;

  constructor(private readonly opener: () => Promise<T>) {}

  /** The thing once opened; undefined before (and while) it opens. */
  get opened(): T | undefined {
    return this.value;
  }

  get started(): boolean {
    return this.pending !== undefined;
  }

  open(): Promise<T> {
    this.pending ??= this.opener().then((value) => (this.value = value), (err: unknown) => {
      this.pending = undefined;
      throw err;
    });
    return this.pending;
  }

  async close(): Promise<void> {
    const value = await this.pending?.catch(() => undefined);
    this.pending = undefined;
    this.value = undefined;
    await value?.close();
  }
}
