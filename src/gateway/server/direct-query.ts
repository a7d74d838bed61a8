import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { type DocumentNode, type ExecutionResult, getOperationAST } from "graphql";
import { getVariableValues } from "graphql/execution/values.js";
import { processRegularResult } from "graphql-yoga";
import type { CapturedAnswer, KckServerContext, ServedLog } from "../../types.ts";
import { answerHeaders, etagOf } from "../plugins/cacheable-answer.ts";
import { type CacheHintsOptions, cacheControlFor } from "../plugins/use-cache-hints.ts";
import type { Gateway } from "./yoga.ts";

/** An answer built here: its status, headers and body, ready to send. */
export interface DirectAnswer {
  readonly status: number;
  readonly headers: [string, string][];
  readonly body: string | null;
}

/** How yoga answered a document with these request headers: the shape of its 200 answers. */
interface Template {
  /** The answer's headers besides its ETag (content type and `vary: accept`). */
  readonly headers: readonly (readonly [string, string])[];
  /** The media type yoga chose from the `Accept` header. */
  readonly accepted: string;
}

const KEEP = 1000;
// The only headers yoga's path gives a 200 of a pure query when no plugin adds any: a template
// with any other (CORS, a plugin's) is not used, so such answers always go through yoga.
const PLAIN: ReadonlySet<string> = new Set(["content-type", "etag", "vary"]);

/**
 * Pure queries answered through yoga's envelop (its plugins' parse, validate, context and
 * execute hooks: limits, authorisation, error masking, cache hints' bookkeeping) without its
 * HTTP layer, for documents yoga has already answered with the same request headers: the
 * status, body and content type come from yoga's own `processRegularResult`, the cache headers
 * from the functions `useCacheHints` uses, and the rest from yoga's earlier answer. Anything
 * that could make yoga's HTTP layer answer differently is left to it: a request with an
 * `Origin` (CORS), a body with other fields than query, variables and operationName, variables
 * that do not coerce, a document that does not parse or validate, a template whose answer had
 * headers a plugin added.
 */
export class DirectQueries {
  private readonly templates = new Map<string, Template>();

  constructor(
    private readonly gateway: Gateway,
    private readonly cacheHints: Pick<CacheHintsOptions, "maxAge" | "scope">,
  ) {}

  /** Remembers how yoga answered a pure query (its captured parts), for later ones like it. */
  learn(req: IncomingMessage, operation: PureOperation, answer: CapturedAnswer): void {
    let accepted: string | undefined;
    for (const [name, value] of answer.headers) {
      if (!PLAIN.has(name)) return;
      if (name === "vary" && value !== "accept") return;
      if (name === "content-type") accepted = value.replace(/;\s*charset=utf-8$/i, "");
    }
    if (accepted === undefined) return;
    if (this.templates.size >= KEEP) this.templates.clear();
    this.templates.set(templateKey(req, operation), {
      headers: answer.headers.filter(([name]) => name !== "etag"),
      accepted,
    });
  }

  /**
   * Answers a pure query here when yoga's answer to it is known to be built the same way;
   * undefined (having run nothing) when it must go through yoga.
   */
  async answer(
    req: IncomingMessage,
    operation: PureOperation,
    served: ServedLog,
  ): Promise<DirectAnswer | undefined> {
    if (req.headers.origin !== undefined || !operation.plain) return undefined;
    const template = this.templates.get(templateKey(req, operation));
    if (template === undefined) return undefined;
    const request = { headers: { get: (name: string) => header(req, name) } };
    const params = {
      query: operation.query,
      variables: operation.variables,
      operationName: operation.operationName,
    };
    const serverContext: KckServerContext & { request: unknown; params: unknown } = {
      request,
      params,
      kckServed: served,
    };
    const { parse, validate, contextFactory, execute, schema } = this.gateway.getEnveloped(
      serverContext as never,
    );
    let document: DocumentNode;
    try {
      document = parse(operation.query);
    } catch {
      return undefined;
    }
    if (validate(schema, document).length > 0) return undefined;
    const definition = getOperationAST(document, operation.operationName ?? undefined);
    if (definition?.operation !== "query") return undefined;
    const coerced = getVariableValues(
      schema,
      definition.variableDefinitions ?? [],
      operation.variables ?? {},
    );
    if (coerced.errors !== undefined) return undefined;
    const contextValue = await contextFactory();
    // As yoga's processRequest calls it.
    const result = (await execute({
      schema,
      document,
      contextValue,
      variableValues: operation.variables,
      operationName: operation.operationName,
    } as never)) as ExecutionResult;
    if (result.errors?.length || result.extensions !== undefined) {
      // Built by yoga's own result processor; like every answer with errors, not cacheable.
      const response = await processRegularResult(
        result as never,
        this.gateway.fetchAPI,
        template.accepted,
      );
      const headers: [string, string][] = [];
      response.headers.forEach((value, name) => {
        headers.push([name.toLowerCase(), value]);
      });
      headers.push(["cache-control", "no-store"]);
      return { status: response.status, headers, body: await response.text() };
    }
    const body = JSON.stringify(result);
    const etag = etagOf(body);
    const base: [string, string][] = template.headers.map(([name, value]) => [name, value]);
    base.push(["etag", etag]);
    served.answer = { headers: base, body, etag };
    const head = answerHeaders(
      base,
      etag,
      cacheControlFor(served.products, this.cacheHints, Date.now()),
      header(req, "if-none-match"),
    );
    return { status: head.status, headers: head.headers, body: head.status === 304 ? null : body };
  }
}

/** A pure operation as the fast path read it from a request body. */
export interface PureOperation {
  readonly query: string;
  readonly operationName: string | null | undefined;
  readonly variables: Record<string, unknown> | null | undefined;
  /** Whether the body held only query, variables and operationName, of the right types. */
  readonly plain: boolean;
}

function header(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  return typeof value === "string" ? value : Array.isArray(value) ? value.join(", ") : null;
}

/** Everything but the variables that yoga's answer to a pure query depends on. */
function templateKey(req: IncomingMessage, operation: PureOperation): string {
  const { "content-type": type = "", accept = "", authorization = "", cookie = "" } = req.headers;
  return createHash("sha256")
    .update(`${type}\u0000${accept}\u0000${authorization}\u0000${cookie}\u0000`)
    .update(`${operation.operationName ?? ""}\u0000${operation.query}`)
    .digest("base64");
}
