import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

/** What KCK knows about the request being served, wherever its work goes. */
export interface RequestScope {
  readonly requestId: string;
  /** The client's address, as the socket gives it. */
  readonly remoteAddress?: string | undefined;
}

// Async context rather than a child logger passed around: the engine's lines (a compute that
// failed, a refresh it started) carry the id too, without the engine knowing about requests.
const scope = new AsyncLocalStorage<RequestScope>();

// Printable ASCII without spaces, bounded: an id a client sends is echoed and logged as is.
const ACCEPTABLE = /^[!-~]{1,128}$/;

/**
 * The request id to use for a request: the client's `x-request-id` when it is a short,
 * printable token, otherwise a new random UUID.
 */
export function requestIdFrom(header: string | readonly string[] | null | undefined): string {
  const sent = Array.isArray(header) ? header[0] : header;
  return typeof sent === "string" && ACCEPTABLE.test(sent) ? sent : randomUUID();
}

/**
 * Runs `fn` so that everything it starts, however asynchronous, sees `requestId` (and the
 * client's address, when given).
 */
export function runWithRequestId<T>(request: string | RequestScope, fn: () => T): T {
  return scope.run(typeof request === "string" ? { requestId: request } : request, fn);
}

/** The remote address of the request whose work is running now, if known. */
export function currentRemoteAddress(): string | undefined {
  return scope.getStore()?.remoteAddress;
}

/** The id of the request whose work is running now; undefined outside any request. */
export function currentRequestId(): string | undefined {
  return scope.getStore()?.requestId;
}
