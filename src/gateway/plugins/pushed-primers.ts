import type { AnyPrimer } from "../../primer/define-primer.ts";

/**
 * Which primers' products change by push rather than by running out of freshness: those that
 * can be augmented, those refreshed by source triggers, those that follow augments by a rule,
 * and those that read any of these (a dependency's change refreshes or expires its readers).
 * Reads between primers are only known once computes make them, so this set learns the edges
 * this instance's computes report (`observe`) and widens as they come; a primer is never
 * taken out.
 */
export class PushedPrimers {
  private readonly pushed = new Set<string>();
  /** primer → the primers that read it (as computes reported). */
  private readonly readers = new Map<string, Set<string>>();

  constructor(primers: readonly AnyPrimer[]) {
    for (const primer of primers) {
      if (
        primer.augment !== undefined ||
        primer.augmentFrom.length > 0 ||
        primer.policies.sources.length > 0
      )
        this.pushed.add(primer.name);
    }
  }

  /** Whether a primer's products change by push. */
  has(primer: string): boolean {
    return this.pushed.has(primer);
  }

  /** Records that a product of `primer` read these keys when it was computed. */
  observe(primer: string, dependencies: Iterable<string>): void {
    for (const key of dependencies) {
      const read = key.slice(0, key.indexOf("/") >>> 0);
      let readers = this.readers.get(read);
      if (readers === undefined) {
        readers = new Set();
        this.readers.set(read, readers);
      }
      if (readers.has(primer)) continue;
      readers.add(primer);
      if (this.pushed.has(read)) this.spread(primer);
    }
  }

  /** Marks a primer pushed, and every primer known to read it, transitively. */
  private spread(primer: string): void {
    const stack = [primer];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      if (this.pushed.has(next)) continue;
      this.pushed.add(next);
      for (const reader of this.readers.get(next) ?? []) stack.push(reader);
    }
  }
}
