import type { Engine } from "../engine/engine.ts";
import type { ParsedKey } from "../keys.ts";
import type { Logger } from "../logger.ts";
import type { AnyAugmentFromRule } from "../primer/augment-spec.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";

/** One delta's effect on a product: what a dependent's rule is shown. */
export interface Step {
  readonly previous: unknown;
  readonly value: unknown;
  /** The delta; undefined when the product was itself updated by a rule. */
  readonly delta: unknown;
}

/** A rule that follows a change of one product, with the dependent product it applies to. */
export interface DependencyRule {
  /** The dependent to augment. */
  readonly target: ParsedKey;
  readonly rule: AnyAugmentFromRule;
}

type RuleIndex = Map<string, { primer: AnyPrimer; rule: AnyAugmentFromRule }[]>;

const indexes = new WeakMap<ReadonlyMap<string, AnyPrimer>, RuleIndex>();

/** The `augmentFrom` rules of an engine's primers, by the name of the primer they follow. */
function indexOf(primers: ReadonlyMap<string, AnyPrimer>): RuleIndex {
  let index = indexes.get(primers);
  if (index === undefined) {
    index = new Map();
    for (const primer of primers.values()) {
      for (const rule of primer.augmentFrom) {
        const list = index.get(rule.primer.name) ?? [];
        list.push({ primer, rule });
        index.set(rule.primer.name, list);
      }
    }
    indexes.set(primers, index);
  }
  return index;
}

/** What the rules that follow a change say. */
export interface Targets {
  /** Every dependent a rule names for any step, first rule first. */
  readonly named: DependencyRule[];
  /**
   * The primers whose rule followed the change: their products a rule did not name are
   * unaffected by it.
   */
  readonly following: ReadonlySet<string>;
}

/**
 * The dependents the steps of a change of `source` can be carried to by a rule. A rule whose
 * params are invalid is logged and skipped, so its products are invalidated instead.
 */
export function rulesTargeting(
  engine: Engine,
  source: ParsedKey,
  steps: readonly Step[],
  log: Logger,
): Targets {
  const found: DependencyRule[] = [];
  const following = new Set<string>();
  for (const { primer, rule } of indexOf(engine.primers).get(source.primer.name) ?? []) {
    if (rule.primer !== source.primer) continue;
    try {
      for (const step of steps) {
        const change = { key: source.key, params: source.params, ...step };
        const named = rule.params(source.params, change);
        for (const params of Array.isArray(named) ? named : [named]) {
          const target = engine.resolve(primer, params as Record<string, unknown>);
          if (!found.some((f) => f.target.key === target.key)) found.push({ target, rule });
        }
      }
      following.add(primer.name);
    } catch (error) {
      log.warn(
        { primer: primer.name, from: source.key, err: error },
        "an augmentFrom rule named invalid params; its products are invalidated instead",
      );
    }
  }
  return { named: found, following };
}
