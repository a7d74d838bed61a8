import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { connectClient, createDb, type Db } from "../../src/db/db.ts";

/** A database made for one test file. */
export interface TestDatabase {
  readonly url: string;
  /** Drops the database (after closing everything connected to it). */
  drop(): Promise<void>;
}

function withDatabase(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Creates a fresh, empty database on the test server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = inject("serverUrl");
  const name = `kck_test_${randomBytes(6).toString("hex")}`;
  const admin = await connectClient(serverUrl, "kck-test-admin");
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(serverUrl, name),
    async drop() {
      const client = await connectClient(serverUrl, "kck-test-admin");
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A Db on a test database, for tests that talk to the engine directly. */
export function testDb(url: string): Db {
  return createDb({ url, poolSize: 10, sessionPoolSize: 10 });
}
