import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Db } from "./db/db.ts";
import { openDatabase } from "./db/open.ts";
import { Engine } from "./engine/engine.ts";
import type { MemoryLayerOptions } from "./engine/memory-layer.ts";
import { PushedPrimers } from "./gateway/plugins/pushed-primers.ts";
import type { AuthOptions } from "./gateway/plugins/use-authorization.ts";
import type { CachePolicy } from "./gateway/plugins/use-cache-hints.ts";
import type { Limits } from "./gateway/plugins/use-limits.ts";
import type { SseStats } from "./gateway/plugins/use-sse-delivery.ts";
import type { NewKeyLimitOptions } from "./gateway/server/new-key-limit.ts";
import type { ResponseCache, ResponseCacheOptions } from "./gateway/server/response-cache.ts";
import type { WebSocketGateway } from "./gateway/server/ws.ts";
import type { Gateway } from "./gateway/server/yoga.ts";
import type { StoreOptions } from "./jobs/evict.ts";
import type { JobQueue } from "./jobs/job-queue.ts";
import type { Jobs, JobsOptions } from "./jobs/worker.ts";
import { type ModuleSetup, runSetups } from "./load-primers.ts";
import { type Logger, silentLogger } from "./logger.ts";
import { createMetrics, type KckMetrics } from "./metrics/metrics.ts";
import type { AnyPrimer } from "./primer/define-primer.ts";
import type { Hub } from "./subscriptions/hub.ts";
import { Pins } from "./subscriptions/pins.ts";

/**
 * The modules that serve and run jobs (yoga, graphql-ws, graphile-worker, Pothos), imported when
 * an app starts rather than when "kck" is imported: a primer module's `import ... from "kck"`
 * then costs only the primer API, which keeps the read-only `kck` commands fast.
 */
async function servingModules() {
  const [dashboard, fastPath, httpHandler, limits, responseCache, cacheHints, ws, yoga] =
    await Promise.all([
      import("./dashboard/dashboard.ts"),
      import("./gateway/server/fast-path.ts"),
      import("./gateway/server/http-handler.ts"),
      import("./gateway/plugins/use-limits.ts"),
      import("./gateway/server/response-cache.ts"),
      import("./gateway/plugins/use-cache-hints.ts"),
      import("./gateway/server/ws.ts"),
      import("./gateway/server/yoga.ts"),
    ]);
  const [errorMask, newKeyLimit, opsAccess] = await Promise.all([
    import("./gateway/server/error-mask.ts"),
    import("./gateway/server/new-key-limit.ts"),
    import("./gateway/server/ops-access.ts"),
  ]);
  const [schema, jobs, hub, valueChecker, jobQueue, augmenter] = await Promise.all([
    import("./graphql/schema.ts"),
    import("./jobs/worker.ts"),
    import("./subscriptions/hub.ts"),
    import("./graphql/value-checker.ts"),
    import("./jobs/job-queue.ts"),
    import("./augment/augmenter.ts"),
  ]);
  return {
    ...dashboard,
    ...fastPath,
    ...httpHandler,
    ...limits,
    ...responseCache,
    ...cacheHints,
    ...ws,
    ...yoga,
    ...schema,
    ...jobs,
    ...hub,
    ...errorMask,
    ...newKeyLimit,
    ...opsAccess,
    ...valueChecker,
    ...jobQueue,
    ...augmenter,
  };
}

/** Options for {@link createApp}. Defaults are the ones `npm start` uses. */
export interface AppOptions {
  /** The primers to serve. */
  primers: readonly AnyPrimer[];
  /** Run once the database is migrated, before serving (source tables, seed data). */
  setups?: readonly ModuleSetup[];
  /** A PostgreSQL connection string; absent: an embedded server with its data under `dataDir`. */
  databaseUrl?: string | undefined;
  /**
   * An open database to use instead of opening one (`databaseUrl` and `dataDir` unused); its
   * owner closes it. `kck dev` shares one between the apps it swaps.
   */
  db?: Db | undefined;
  /** Where the embedded server keeps its data. @default ".kck" */
  dataDir?: string;
  /** The HTTP port; 0 picks a free one. @default 4000 */
  port?: number;
  /** The interface to listen on. @default all interfaces */
  host?: string | undefined;
  /** Connections in each of the two pools. @default 10 */
  poolSize?: number;
  /** Where KCK logs. @default silent */
  log?: Logger;
  /** Serve the operator's dashboard at `/kck`. @default true */
  dashboard?: boolean;
  /** Also export Node's process metrics at `/metrics`. @default false */
  processMetrics?: boolean;
  /** The longest `max-age` sent on cacheable query responses, in seconds. @default 3600 */
  cacheMaxAge?: number;
  /** Operation and request size limits. @default DEFAULT_LIMITS */
  limits?: Limits;
  /** Who may run mutations, queries and subscriptions. @default mutations open outside production */
  auth?: AuthOptions;
  /** Background jobs: whether this process runs a worker, and how. @default a worker runs */
  jobs?: JobsOptions;
  /**
   * Whether to serve HTTP; false for a dedicated worker process. "handler" builds the request
   * handler (`app.handler`) without a server or a WebSocket endpoint, for a server someone else
   * owns (`kck dev` swaps apps behind one).
   * @default true
   */
  http?: boolean | "handler";
  /**
   * The per-instance memory layer of products, kept coherent by the change events; false
   * turns it off (and with it the response cache).
   * @default 100000 entries, 64 MiB
   */
  memory?: MemoryLayerOptions | false;
  /**
   * The response fast path: finished responses of pure product reads kept against the memory
   * layer's copies, and identical requests in flight answered once. False sends every request
   * through yoga.
   * @default 10000 entries, 32 MiB
   */
  responseCache?: ResponseCacheOptions | false;
  /**
   * Hide the causes of failed computes and augments from clients (a coded message and an
   * error id; the cause is logged under that id). A `PublicError` is always shown.
   * @default true in production (`auth.production`), false otherwise
   */
  maskErrors?: boolean;
  /** Serve GraphiQL to browsers at /graphql. @default false in production, true otherwise */
  graphiql?: boolean;
  /** Origins that browsers may call the gateway from (CORS); `*` for any. @default none */
  corsOrigins?: readonly string[];
  /**
   * The longest max-age, in seconds, of a query response that read products changing by push
   * (augmentable, source-triggered, and their readers); 0: `no-cache` with an ETag.
   * @default 0
   */
  pushMaxAge?: number;
  /** Subscriptions one WebSocket connection may hold at once. @default 100 */
  wsMaxSubscriptions?: number;
  /**
   * Bounds on the store (per primer, overridable by a primer's `store`), kept by a background
   * eviction job; false turns eviction off.
   * @default DEFAULT_STORE
   */
  store?: StoreOptions | false;
  /**
   * How fast one client may cause computes of keys not stored yet; past it, RATE_LIMITED (HTTP
   * 429 when the whole request is refused). `npm start` reads it from KCK_NEW_KEYS_*.
   * @default no limit
   */
  newKeys?: NewKeyLimitOptions | false;
}

/** A KCK gateway: start it, use its engine, stop it. */
export interface App {
  /**
   * Opens the database, migrates it, starts the job system and serves HTTP; resolves with the
   * GraphQL URL ("" when `http` is false).
   */
  start(): Promise<{ url: string }>;
  /** Stops serving, background work, the database pools and any embedded server. */
  stop(): Promise<void>;
  /** The engine; available once started. */
  readonly engine: Engine;
  /** The yoga instance; available once started. */
  readonly gateway: Gateway;
  /** This app's metrics (its own registry): scraped at `/metrics`, fed by every part. */
  readonly metrics: KckMetrics;
  /** The job system; available once started. */
  readonly jobs: Jobs;
  /** This instance's subscriptions; available once started. */
  readonly hub: Hub;
  /** The response cache, when it is on; known once started. */
  readonly responseCache: ResponseCache | undefined;
  /** Open SSE subscription streams, and their events not yet taken by the kernel. */
  readonly sse: SseStats;
  /** The HTTP request handler (GraphQL, dashboard, metrics); available once started with HTTP. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
}

/** Builds a KCK gateway from options; nothing runs until `start()`. */
export function createApp(options: AppOptions): App {
  const log = options.log ?? silentLogger();
  let closeDb: (() => Promise<void>) | undefined;
  let db: Db | undefined;
  let engine: Engine | undefined;
  let queue: JobQueue | undefined;
  let jobs: Jobs | undefined;
  let gateway: Gateway | undefined;
  let responseCache: ResponseCache | undefined;
  let server: Server | undefined;
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const metrics = createMetrics({
    processMetrics: options.processMetrics ?? false,
    queueDepth: async () =>
      db ? (await import("./metrics/queue-depth.ts")).readQueueDepth(db) : undefined,
    onError: (error) => log.warn({ err: error }, "could not read the job queue's depth"),
  });
  let hub: Hub | undefined;
  let pins: Pins | undefined;
  let sockets: WebSocketGateway | undefined;
  const production = options.auth?.production ?? false;
  const pushed = new PushedPrimers(options.primers);
  const sse: SseStats = { streams: 0, unflushed: 0 };
  // What decides a product read's Cache-Control (`productsCacheControl`), for every path.
  const cachePolicy: CachePolicy = {
    maxAge: options.cacheMaxAge ?? 3600,
    pushMaxAge: options.pushMaxAge ?? 0,
    pushed: (primer) => pushed.has(primer),
  };

  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined)
      throw new Error(`The app is not started: ${what} exists only after start().`);
    return value;
  };

  const stop = async (): Promise<void> => {
    const current = server;
    server = undefined;
    // Subscriptions end first, so that their WebSocket and SSE connections can close.
    await pins?.stop();
    pins = undefined;
    hub?.close();
    hub = undefined;
    await sockets?.close();
    sockets = undefined;
    if (current) {
      const closed = new Promise<void>((done) => current.close(() => done()));
      current.closeIdleConnections();
      await closed;
    }
    await jobs?.stop();
    jobs = undefined;
    // Closed by the jobs' stop, unless the start failed before the jobs started.
    await queue?.close();
    queue = undefined;
    await engine?.stop();
    engine = undefined;
    db = undefined;
    await closeDb?.();
    closeDb = undefined;
  };

  return {
    get engine() {
      return started(engine, "the engine");
    },
    get gateway() {
      return started(gateway, "the gateway");
    },
    metrics,
    get jobs() {
      return started(jobs, "the job system");
    },
    get hub() {
      return started(hub, "the subscription hub");
    },
    get responseCache() {
      return responseCache;
    },
    sse,
    get handler() {
      return started(handler, "the HTTP handler");
    },
    stop,
    async start() {
      try {
        const {
          Augmenter,
          attachWebSocket,
          buildSchema,
          createDashboard,
          createErrorMask,
          createFastPath,
          createGateway,
          createHttpHandler,
          DEFAULT_LIMITS,
          Hub,
          JobQueue,
          NewKeyLimiter,
          opsAccess,
          ResponseCache,
          startJobs,
          useCacheHints,
          ValueChecker,
        } = await servingModules();
        // Built first: a schema that cannot be built (a clash of type names, say) fails the
        // start before anything in the database is touched.
        const schema = buildSchema(options.primers);
        if (options.db) db = options.db;
        else {
          const opened = await openDatabase({ ...options, log });
          closeDb = opened.close;
          db = opened.db;
        }
        // The engine's ports (src/engine/ports.ts): the job queue, the value checker, the augmenter.
        queue = new JobQueue({ ...options.jobs, db, primers: options.primers, log });
        engine = await Engine.start({
          db,
          primers: options.primers,
          log,
          jobs: queue,
          values: new ValueChecker(options.primers, schema),
          augmenter: (built) => new Augmenter(built, { log }),
          metrics: {
            ...metrics.engine,
            onDependencies: (primer, dependencies) => pushed.observe(primer, dependencies),
          },
          ...(options.memory === undefined ? {} : { memory: options.memory }),
        });
        engine.onChange((event) => metrics.changeEvent(event));
        await runSetups(db, options.setups ?? []);
        jobs = await startJobs(engine, queue, log, {
          ...options.jobs,
          ...(options.store === undefined ? {} : { store: options.store }),
        });
        if (options.http === false) {
          log.info({ primers: options.primers.map((p) => p.name) }, "KCK worker is running");
          return { url: "" };
        }
        hub = new Hub({ engine, log, metrics });
        const maskError = createErrorMask({ log, maskErrors: options.maskErrors ?? production });
        const subscribed = hub;
        // Pinned at least as often as eviction runs, so that no run finds a watched key unpinned.
        const evictMs = (options.store || undefined)?.evictIntervalMs;
        pins = new Pins({
          keys: () => subscribed.keys(),
          db: jobs.bookkeeping,
          log,
          everyMs: Math.min(10_000, evictMs ?? 10_000),
        });
        const limits = options.limits ?? DEFAULT_LIMITS;
        // One set of cache-hint options for the plugin and the fast path: one header function.
        const hints = { primers: options.primers.map((p) => p.name), ...cachePolicy };
        gateway = createGateway({
          engine,
          hub,
          schema,
          log,
          limits,
          ...(options.auth ? { auth: options.auth } : {}),
          maskError,
          maskErrors: options.maskErrors ?? production,
          sseStats: sse,
          graphiql: options.graphiql ?? !production,
          ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}),
          newKeys: options.newKeys
            ? new NewKeyLimiter(options.newKeys, [
                options.auth?.adminToken,
                options.auth?.readToken,
              ])
            : undefined,
          // Last: it records the final answer the response fast path keeps.
          plugins: [useCacheHints(hints)],
        });
        const yoga = gateway;
        responseCache =
          engine.memory && options.responseCache !== false
            ? new ResponseCache(engine.memory, options.responseCache)
            : undefined;
        const graphql = responseCache
          ? createFastPath({
              gateway,
              engine,
              primers: options.primers,
              cache: responseCache,
              cacheHints: hints,
              maxTokens: limits.tokens,
              auth: options.auth,
              log,
            })
          : (req: IncomingMessage, res: ServerResponse) => void yoga(req, res);
        handler = createHttpHandler({
          graphql,
          db,
          metrics,
          dashboard:
            options.dashboard === false
              ? undefined
              : createDashboard({ engine, allowed: opsAccess(options.auth ?? {}) }),
          opsAllowed: opsAccess(options.auth ?? {}),
          bodyBytes: limits.bodyBytes,
          log,
        });
        if (options.http === "handler") return { url: "" };
        server = createServer(handler);
        sockets = attachWebSocket(server, gateway, {
          log,
          maxPayload: limits.bodyBytes,
          maxSubscriptions: options.wsMaxSubscriptions ?? 100,
          maskError,
        });
        const listening = server;
        await new Promise<void>((done, fail) => {
          listening.once("error", fail);
          listening.listen(options.port ?? 4000, options.host, () => done());
        });
        const { port } = listening.address() as AddressInfo;
        const shownHost =
          options.host && options.host !== "0.0.0.0" && options.host !== "::"
            ? options.host
            : "localhost";
        const graphqlUrl = `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}/graphql`;
        log.info(
          { url: graphqlUrl, primers: options.primers.map((p) => p.name) },
          "KCK is serving",
        );
        return { url: graphqlUrl };
      } catch (error) {
        await stop().catch(() => {});
        throw error;
      }
    },
  };
}
