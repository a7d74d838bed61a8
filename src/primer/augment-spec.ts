// The augment types refer to the primer types and back: they live with them.
export type {
  AnyAugmentFromRule,
  AnyAugmentSpec,
  AugmentContext,
  AugmentFromRule,
  AugmentSpec,
  DeltaOf,
  DependencyChange,
  RuleContext,
} from "./primer-types.ts";
