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
