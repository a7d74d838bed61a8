/**
 * Calls the engine makes at the moments an operator wants counted (a metrics registry
 * implements them). Every method is optional and must not throw.
 */
export interface EngineHooks {
  /** A product was read and served fresh from the cache. */
  onHit?(primer: string): void;
  /** A product was read and served stale, its refresh left to the background. */
  onStale?(primer: string): void;
  /** A product was read and was missing or expired: it is computed before it is served. */
  onMiss?(primer: string): void;
  /** A compute (first compute or refresh) succeeded and was stored, after `ms` milliseconds. */
  onCompute?(primer: string, ms: number): void;
  /** A compute (first compute or refresh) failed after `ms` milliseconds. */
  onFailure?(primer: string, ms: number): void;
  /** A compute of a `primer` product was stored with these dependency keys (what it read). */
  onDependencies?(primer: string, dependencies: readonly string[]): void;
}
