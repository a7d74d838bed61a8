import { startNodeHttp } from "../baselines/node-http.ts";
import { startPgAny } from "../baselines/pg-any.ts";
import { startPgPrimaryKey } from "../baselines/pg-primary-key.ts";
import { startYogaConstant } from "../baselines/yoga-constant.ts";
import { startYogaResponseCache } from "../baselines/yoga-response-cache.ts";
import { startKck } from "./kck-server.ts";
import type { RunningTarget, TargetKind, TargetSpec } from "./target.ts";

/** How each kind of target starts; a new baseline is one file and one line here. */
export const TARGETS: Record<TargetKind, (spec: TargetSpec) => Promise<RunningTarget>> = {
  "node-http": startNodeHttp,
  "yoga-constant": startYogaConstant,
  "yoga-response-cache": startYogaResponseCache,
  "pg-primary-key": startPgPrimaryKey,
  "pg-any": startPgAny,
  kck: startKck,
};
