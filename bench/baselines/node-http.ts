import { listen, readBody, sendJson } from "../lib/http-server.ts";
import type { RunningTarget, TargetSpec } from "../lib/target.ts";

/** Bare node:http answering every request with the same constant JSON: the ceiling. */
export async function startNodeHttp(spec: TargetSpec): Promise<RunningTarget> {
  const body = spec.body ?? "{}";
  return listen((req, res) => {
    void readBody(req).then(() => sendJson(res, body));
  });
}
