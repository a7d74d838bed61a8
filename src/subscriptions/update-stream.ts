import type { ProductUpdate, ReadableSignal } from "../types.ts";

/**
 * One subscriber's view of one key: an async iterator of updates in version order, never the
 * same version twice. Its buffer is bounded: a consumer that falls `capacity` updates behind
 * skips to the latest one, so a slow client costs the others nothing and never reads far
 * into the past.
 */
export class UpdateStream implements AsyncIterableIterator<ProductUpdate>, ReadableSignal {
  /** How many updates this subscriber skipped because it read too slowly. */
  skipped = 0;
  private readonly buffer: ProductUpdate[] = [];
  private readonly waiting: ((result: IteratorResult<ProductUpdate>) => void)[] = [];
  private seen: number;
  private done = false;
  private readable: (() => void) | undefined;

  /**
   * @param sinceVersion the last version the client saw: older and equal ones are not sent.
   * @param onClose called once, when the consumer stops or the stream is ended.
   */
  constructor(
    private readonly capacity: number,
    sinceVersion: number,
    private readonly onClose: (stream: UpdateStream) => void,
  ) {
    this.seen = sinceVersion;
  }

  /** The newest version this subscriber was given (or said it saw). */
  get version(): number {
    return this.seen;
  }

  /** Whether the stream has ended. */
  get closed(): boolean {
    return this.done;
  }

  /** Hands an update to the subscriber unless it already has that version or a newer one. */
  offer(update: ProductUpdate): void {
    if (this.done || update.version <= this.seen) return;
    this.seen = update.version;
    const wake = this.waiting.shift();
    if (wake) {
      wake({ value: update, done: false });
      return;
    }
    if (this.buffer.length >= this.capacity) {
      this.skipped += this.buffer.length;
      this.buffer.length = 0;
    }
    this.buffer.push(update);
    this.signal();
  }

  whenReadable(callback: () => void): void {
    if (this.done || this.buffer.length > 0) callback();
    else this.readable = callback;
  }

  private signal(): void {
    const callback = this.readable;
    this.readable = undefined;
    callback?.();
  }

  /** Ends the stream: pending and later reads finish. */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.buffer.length = 0;
    for (const wake of this.waiting.splice(0)) wake({ value: undefined, done: true });
    this.signal();
    this.onClose(this);
  }

  next(): Promise<IteratorResult<ProductUpdate>> {
    const update = this.buffer.shift();
    if (update) return Promise.resolve({ value: update, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  return(): Promise<IteratorResult<ProductUpdate>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<ProductUpdate>> {
    this.end();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
