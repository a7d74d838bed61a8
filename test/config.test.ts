import { expect, it } from "vitest";
import { readConfig } from "../src/config.ts";

it("caps the memory layer and the response cache in MiB, and turns them off with 0", () => {
  expect(readConfig({})).toMatchObject({
    memory: { maxBytes: 64 * 2 ** 20 },
    responseCache: { maxBytes: 32 * 2 ** 20 },
  });
  expect(readConfig({ KCK_MEMORY_MB: "8", KCK_RESPONSE_CACHE_MB: "0" })).toMatchObject({
    memory: { maxBytes: 8 * 2 ** 20 },
    responseCache: false,
  });
  expect(readConfig({ KCK_MEMORY_MB: "0" }).memory).toBe(false);
  expect(() => readConfig({ KCK_MEMORY_MB: "lots" })).toThrow(
    'KCK_MEMORY_MB must be a whole number from 0 to 1000000; got "lots".',
  );
});

it("waits 25 s for a drain unless KCK_DRAIN_TIMEOUT_MS says otherwise", () => {
  expect(readConfig({}).drainTimeoutMs).toBe(25_000);
  expect(readConfig({ KCK_DRAIN_TIMEOUT_MS: "300" }).drainTimeoutMs).toBe(300);
  expect(() => readConfig({ KCK_DRAIN_TIMEOUT_MS: "-1" })).toThrow(
    'KCK_DRAIN_TIMEOUT_MS must be a whole number from 0 to 86400000; got "-1".',
  );
});

it("bounds the store and the pace of new keys by default, and reads both from the environment", () => {
  expect(readConfig({})).toMatchObject({
    store: { maxProducts: 1_000_000, evictAfterMs: 604_800_000, failureTtlMs: 60_000 },
    newKeys: { perSecond: 50, burst: 500 },
  });
  const set = readConfig({
    KCK_STORE_MAX_PRODUCTS: "10",
    KCK_STORE_EVICT_AFTER_MS: "0",
    KCK_STORE_FAILURE_TTL_MS: "5000",
    KCK_STORE_EVICT_INTERVAL_MS: "1000",
    KCK_NEW_KEYS_PER_SECOND: "0",
  });
  expect(set.store).toEqual({
    maxProducts: 10,
    evictAfterMs: Number.POSITIVE_INFINITY,
    failureTtlMs: 5000,
    evictIntervalMs: 1000,
  });
  expect(set.newKeys).toBe(false);
  expect(() => readConfig({ KCK_NEW_KEYS_BURST: "many" })).toThrow(
    'KCK_NEW_KEYS_BURST must be a whole number from 1 to 100000000; got "many".',
  );
});
