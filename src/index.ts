/**
 * KCK: data products computed on demand into a PostgreSQL cache and served as typed GraphQL.
 *
 * Glossary: a *primer* says how to compute one family of *products*; a product's *key* is
 * `primerName/param1/param2`; its *version* grows when its value changes; a *dependency* is a
 * product another one read while it was computed.
 */
export { type App, type AppOptions, createApp } from "./app.ts";
export { type Config, readConfig } from "./config.ts";
export type { Queryable } from "./db/db.ts";
export type { Duration } from "./duration.ts";
export type { ComputeContext, TypedProduct } from "./engine/compute-context.ts";
export { Engine, type EngineOptions } from "./engine/engine.ts";
export type { MemoryLayerOptions, MemoryLayerStats } from "./engine/memory-layer.ts";
export { notFound } from "./engine/not-found.ts";
export { type Freshness, freshnessOf, type StoredProduct } from "./engine/product.ts";
export { KckError, type KckErrorCode, PublicError } from "./errors.ts";
export {
  type ClientInfo,
  type Identify,
  identifyClient,
  type NewKeyLimitOptions,
} from "./gateway/server/new-key-limit.ts";
export type { ResponseCacheOptions, ResponseCacheStats } from "./gateway/server/response-cache.ts";
export { DEFAULT_STORE, type StoreOptions } from "./jobs/evict.ts";
export type { JobState, JobStatus } from "./jobs/job-state.ts";
export type { Jobs, JobsOptions } from "./jobs/worker.ts";
export { formatKey, type ParsedKey, parseKey } from "./keys.ts";
export { loadPrimers, type ModuleSetup } from "./load-primers.ts";
export type {
  AugmentContext,
  AugmentFromRule,
  AugmentSpec,
  DeltaOf,
  DependencyChange,
  RuleContext,
} from "./primer/augment-spec.ts";
export {
  type ConditionalAnswer,
  type ConditionalFetchOptions,
  conditionalFetch,
  type Validators,
} from "./primer/conditional-fetch.ts";
export {
  type AnyPrimer,
  definePrimer,
  type Primer,
  type PrimerOptions,
  type PrimerParams,
  type PrimerValue,
} from "./primer/define-primer.ts";
export { defineInput, type KckInput } from "./primer/input-type.ts";
export { defineObject, type KckObject } from "./primer/object-type.ts";
export { type ParamType, param } from "./primer/params.ts";
export type {
  DependencyPolicy,
  DomainContext,
  Hints,
  ScheduleOptions,
  SourceOptions,
} from "./primer/policies.ts";
export type { StoreLimits } from "./primer/store-limits.ts";
export type { ChangeEvent } from "./sql/notify.ts";
