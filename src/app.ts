import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createDb, type Db, redactUrl } from "./db/db.ts";
import { startEmbedded } from "./db/embedded.ts";
import { Engine } from "./engine/engine.ts";
import type { MemoryLayerOptions } from "./engine/memory-layer.ts";
import { createFastPath } from "./gateway/fast-path.ts";
import { ResponseCache, type ResponseCacheOptions } from "./gateway/response-cache.ts";
import { createGateway, type Gateway } from "./gateway/yoga.ts";
import { buildSchema } from "./graphql/schema.ts";
import type { ModuleSetup } from "./load-primers.ts";
import { type Logger, silentLogger } from "./logger.ts";
import type { AnyPrimer } from "./primer/define-primer.ts";

/** Options for {@link createApp}. Defaults are the ones `npm start` uses. */
export interface AppOptions {
  /** The primers to serve. */
  primers: readonly AnyPrimer[];
  /** Run once the database is migrated, before serving (source tables, seed data). */
  setups?: readonly ModuleSetup[];
  /** A PostgreSQL connection string; absent: an embedded server with its data under `dataDir`. */
  databaseUrl?: string | undefined;
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
}

/** A KCK gateway: start it, use its engine, stop it. */
export interface App {
  /** Opens the database, migrates it, and serves HTTP; resolves with the GraphQL URL. */
  start(): Promise<{ url: string }>;
  /** Stops serving, background work, the database pools and any embedded server. */
  stop(): Promise<void>;
  /** The engine; available once started. */
  readonly engine: Engine;
  /** The yoga instance; available once started. */
  readonly gateway: Gateway;
  /** The response cache, when it is on; known once started. */
  readonly responseCache: ResponseCache | undefined;
}

/** Builds a KCK gateway from options; nothing runs until `start()`. */
export function createApp(options: AppOptions): App {
  const log = options.log ?? silentLogger();
  let stopEmbedded: (() => Promise<void>) | undefined;
  let db: Db | undefined;
  let engine: Engine | undefined;
  let gateway: Gateway | undefined;
  let responseCache: ResponseCache | undefined;
  let server: Server | undefined;

  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined)
      throw new Error(`The app is not started: ${what} exists only after start().`);
    return value;
  };

  const stop = async (): Promise<void> => {
    const current = server;
    server = undefined;
    if (current) {
      current.closeIdleConnections();
      await new Promise<void>((done) => current.close(() => done()));
    }
    await engine?.stop();
    engine = undefined;
    await db?.close();
    db = undefined;
    await stopEmbedded?.();
    stopEmbedded = undefined;
  };

  return {
    get engine() {
      return started(engine, "the engine");
    },
    get gateway() {
      return started(gateway, "the gateway");
    },
    get responseCache() {
      return responseCache;
    },
    stop,
    async start() {
      try {
        let url = options.databaseUrl;
        if (url === undefined) {
          const embedded = await startEmbedded({ dataDir: options.dataDir ?? ".kck", log });
          stopEmbedded = embedded.stop;
          url = embedded.url;
        }
        log.info({ database: redactUrl(url) }, "connecting to PostgreSQL");
        const poolSize = options.poolSize ?? 10;
        db = createDb({
          url,
          poolSize,
          sessionPoolSize: poolSize,
          onError: (error) => log.warn({ err: error }, "an idle database connection failed"),
        });
        engine = await Engine.start({
          db,
          primers: options.primers,
          log,
          ...(options.memory === undefined ? {} : { memory: options.memory }),
        });
        for (const setup of options.setups ?? []) await setup(db);
        gateway = createGateway({ engine, schema: buildSchema(options.primers), log });
        const health = healthHandler(db);
        const yoga = gateway;
        responseCache =
          engine.memory && options.responseCache !== false
            ? new ResponseCache(engine.memory, options.responseCache)
            : undefined;
        const graphql = responseCache
          ? createFastPath({ gateway, primers: options.primers, cache: responseCache, log })
          : (req: IncomingMessage, res: ServerResponse) => void yoga(req, res);
        server = createServer((req, res) => {
          if (req.url === "/health") return void health(res);
          return graphql(req, res);
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

function healthHandler(db: Db) {
  return async (res: import("node:http").ServerResponse): Promise<void> => {
    const database = await db.query("select 1").then(
      () => "up",
      () => "down",
    );
    res.writeHead(database === "up" ? 200 : 503, { "content-type": "application/json" });
    res.end(JSON.stringify({ status: database === "up" ? "ok" : "degraded", database }));
  };
}
