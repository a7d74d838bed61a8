import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, relative } from "node:path";
import { type App, type AppOptions, createApp } from "../app.ts";
import { openDatabase } from "../db/open.ts";
import { markCodeChanges } from "../engine/code-change.ts";
import { messageOf } from "../errors.ts";
import { printSorted } from "../graphql/schema-file.ts";
import { loadPrimers } from "../load-primers.ts";
import type { Logger } from "../logger.ts";
import type { AnyPrimer } from "../primer/define-primer.ts";
import { forgetInputsSince, inputsMark } from "../primer/input-type.ts";
import { forgetObjectsSince, objectsMark } from "../primer/object-type.ts";
import { type Front, startFront } from "./front.ts";
import { registerReloadHook } from "./reload-hook.ts";
import { typeChecker } from "./typecheck.ts";
import { watchCode } from "./watch.ts";

/** Options for {@link startDevLoop}. */
export interface DevLoopOptions {
  /** What each app is built with (its primers and setups aside); its database is `databaseUrl`. */
  app: Omit<AppOptions, "primers" | "setups" | "http" | "databaseUrl" | "db">;
  /** The database every app uses (owned by the caller). */
  databaseUrl: string;
  /** The folder of primer modules. */
  primersDir: string;
  /** Where the sorted schema is printed at each reload; undefined: nowhere. */
  schemaFile: string | undefined;
  /** The HTTP port; 0 picks a free one. */
  port: number;
  /** The interface to listen on. @default all interfaces */
  host?: string | undefined;
  /** How long a replaced app may take to finish its requests. */
  drainTimeoutMs: number;
  log: Logger;
  /** Where the loop says what it does (a line at a time, with its newline). @default stdout */
  say?: (text: string) => void;
  /** Where it reports failures and type errors. @default stderr */
  complain?: (text: string) => void;
}

/** A running `kck dev`. */
export interface DevLoop {
  /** The GraphQL URL. */
  readonly url: string;
  /** Stops watching, serving and the current app. */
  stop(): Promise<void>;
}

// How long after a file event the reload starts: an editor's save is often several writes.
const SETTLE_MS = 30;

/**
 * `kck dev` in one process: one HTTP server (src/dev/front.ts) in front of an app built from
 * the primer modules. When a module under the primers folder, or one they import by relative
 * path, is saved, the modules are imported afresh (src/dev/reload-hook.ts), a new app is
 * started on the same database and swapped in (requests under way finish on the old one,
 * which is then stopped; WebSocket subscriptions move over, or end with a message when their
 * field is gone), the products of changed primers are expired, the schema file is printed
 * again, and the project's tsc reports type errors without stopping anything. A reload that
 * fails leaves the previous app serving.
 */
export async function startDevLoop(options: DevLoopOptions): Promise<DevLoop> {
  const { log } = options;
  const say = options.say ?? ((text) => process.stdout.write(text));
  const complain = options.complain ?? ((text) => process.stderr.write(text));
  registerReloadHook();
  // Object and input types defined from here on belong to the primer modules, which define
  // them again at each reload.
  const objects = objectsMark();
  const inputs = inputsMark();
  // One set of pools for every app: a reload opens no connection for reads and computes.
  const database = await openDatabase({
    databaseUrl: options.databaseUrl,
    poolSize: options.app.poolSize ?? 10,
    log,
  });
  const front: Front = await startFront({
    port: options.port,
    host: options.host,
    log,
    maxPayload: options.app.limits?.bodyBytes ?? 1_000_000,
    maxSubscriptions: options.app.wsMaxSubscriptions ?? 100,
    maskErrors: options.app.maskErrors ?? options.app.auth?.production ?? false,
    drainTimeoutMs: options.drainTimeoutMs,
  });
  let generation = 0;
  let current: App | undefined;

  // Dev shows the new code's values at once, whatever the primers' `onCodeChange` says.
  const expireOlderCode = (primers: readonly AnyPrimer[]) =>
    markCodeChanges(
      database.db,
      primers.map((primer) => ({ ...primer, onCodeChange: "expire" as const })),
      log,
    );

  /** Prints the schema to the schema file when it changed; whether it did. */
  const printSchema = async (app: App): Promise<boolean> => {
    if (options.schemaFile === undefined) return false;
    const printed = printSorted(app.gateway.getEnveloped({}).schema);
    const before = await readFile(options.schemaFile, "utf8").catch(() => undefined);
    if (before?.trimEnd() === printed.trimEnd()) return false;
    await mkdir(dirname(options.schemaFile), { recursive: true });
    await writeFile(options.schemaFile, printed);
    return true;
  };

  /** Imports the modules afresh, starts an app on them and swaps it in. */
  const swapIn = async () => {
    generation++;
    forgetObjectsSince(objects);
    forgetInputsSince(inputs);
    const modules = await loadPrimers(options.primersDir, { generation });
    const app = createApp({
      ...options.app,
      primers: modules.primers,
      setups: modules.setups,
      db: database.db,
      http: "handler",
    });
    // A start that fails stops what it started.
    await app.start();
    try {
      await expireOlderCode(modules.primers);
    } catch (error) {
      await app.stop();
      throw error;
    }
    const swapped = await front.swap(app);
    current = app;
    // What the old app computed while it finished its requests is the old code's too.
    void swapped.retired.then(async () => {
      const marked = await expireOlderCode(modules.primers).catch(() => new Map());
      if (marked.size > 0) app.engine.memory?.clear();
    });
    return { app, modules, swapped };
  };

  /** Reloads, and says how it went; the files to watch, or undefined when it failed. */
  const reload = async (started?: number): Promise<readonly string[] | undefined> => {
    let swap: Awaited<ReturnType<typeof swapIn>>;
    try {
      swap = await swapIn();
    } catch (error) {
      const still = current ? " (still serving the previous ones)" : "";
      if (current === undefined) {
        front.unavailable(`kck dev could not load the primers: ${messageOf(error)}`);
      }
      complain(`kck dev: the primers could not be loaded${still}: ${messageOf(error)}\n`);
      log.debug({ err: error }, "reload failed");
      return undefined;
    }
    const { app, modules, swapped } = swap;
    const after =
      started === undefined
        ? ""
        : ` ${Math.round(performance.now() - started)} ms after the change`;
    const { primers } = modules;
    const count = `${primers.length} primer${primers.length === 1 ? "" : "s"}`;
    const names = primers.map((p) => p.name).join(", ");
    const subscriptions =
      swapped.moved + swapped.ended > 0
        ? `; subscriptions: ${swapped.moved} moved, ${swapped.ended} ended`
        : "";
    say(`kck dev: serving ${count} (${names})${after}${subscriptions}\n`);
    try {
      if (await printSchema(app)) say(`kck dev: wrote ${options.schemaFile}\n`);
    } catch (error) {
      complain(`kck dev: could not write ${options.schemaFile}: ${messageOf(error)}\n`);
    }
    return modules.files;
  };

  const types = typeChecker(complain);
  const watcher = watchCode(options.primersDir, (file) => schedule(file));
  let reloading: Promise<void> | undefined;
  let pending: { file: string; at: number } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const run = async (): Promise<void> => {
    while (pending !== undefined && !stopped) {
      const { file, at } = pending;
      pending = undefined;
      say(`kck dev: ${relative(".", file)} changed: reloading\n`);
      types.stop();
      const files = await reload(at);
      if (files !== undefined) watcher.watchFiles(files);
      // Only once no other save is waiting: tsc competes with the reload for the CPU.
      if (pending === undefined && !stopped) types.run();
    }
    reloading = undefined;
  };

  function schedule(file: string): void {
    if (stopped) return;
    pending = { file, at: pending?.at ?? performance.now() };
    clearTimeout(timer);
    timer = setTimeout(() => {
      reloading ??= run();
    }, SETTLE_MS);
  }

  const files = await reload();
  if (files !== undefined) watcher.watchFiles(files);
  types.run();

  return {
    url: front.url,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      watcher.close();
      types.stop();
      await reloading;
      await front.close();
      await database.close();
    },
  };
}
