/**
 * What a subscription collector shares: the values and errors received, and waiting until the
 * values satisfy a predicate (rejected when the stream ends or errs first).
 */
export class Arrivals<T> {
  readonly values: T[] = [];
  readonly errors: unknown[] = [];
  ended = false;
  private readonly waiters = new Set<() => void>();

  /** @param what names the stream in the error of a wait it ended. */
  constructor(private readonly what: string) {}

  /** Checks every wait again: call after each value, error or end. */
  wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Resolves once `predicate` holds for the values received. */
  until(predicate: (values: T[]) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (predicate(this.values)) {
          this.waiters.delete(check);
          resolve();
        } else if (this.ended || this.errors.length > 0) {
          this.waiters.delete(check);
          reject(
            new Error(
              `The ${this.what} ended (${JSON.stringify(this.errors)}) after ${JSON.stringify(this.values)}.`,
            ),
          );
        }
      };
      this.waiters.add(check);
      check();
    });
  }
}
