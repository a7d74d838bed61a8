import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Engine } from "../engine/engine.ts";
import type { OpsAccess } from "../gateway/server/ops-access.ts";
import { readOverview } from "./overview.ts";

const PAGE = new URL("./dashboard.html", import.meta.url);

/** Options for {@link createDashboard}. */
export interface DashboardOptions {
  engine: Engine;
  /** Where the dashboard is served. @default "/kck" */
  path?: string;
  /** Who may read it (the read token, when reads are private). @default everyone */
  allowed?: OpsAccess;
}

// The page runs only its own inline script and talks only to this server.
const PAGE_HEADERS = {
  "content-type": "text/html; charset=utf-8",
  "content-security-policy":
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:",
  "cache-control": "no-store",
};

/**
 * The operator's dashboard: a self-contained HTML page at `path` (primers, products with
 * their freshness, recent computes and errors, a drawing of the dependency graph) and the
 * JSON it reads at `path/api/overview`. Returns a handler that answers its own paths and
 * returns false for any other.
 */
export function createDashboard(
  options: DashboardOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const path = (options.path ?? "/kck").replace(/\/$/, "");
  const api = `${path}/api/overview`;
  let page: Promise<string> | undefined;
  return async (req, res) => {
    const raw = req.url ?? "/";
    // Every request asks: most are for other paths, and need no URL parsed to say so (an
    // absolute-form target, from a proxy, is parsed).
    if (raw.startsWith("/") && !raw.startsWith(path)) return false;
    const url = new URL(raw, "http://kck");
    if (url.pathname !== path && url.pathname !== `${path}/` && url.pathname !== api) return false;
    if (options.allowed && !(await options.allowed(req, res))) return true;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" });
      res.end("The dashboard only answers GET.\n");
      return true;
    }
    if (url.pathname === api) {
      const overview = await readOverview(options.engine);
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(JSON.stringify(overview));
      return true;
    }
    page ??= readFile(PAGE, "utf8").then((html) => html.replace("__KCK_API__", api));
    const html = await page;
    res.writeHead(200, PAGE_HEADERS);
    res.end(req.method === "HEAD" ? undefined : html);
    return true;
  };
}
