import { createHash } from "node:crypto";

/** The ETag of an answer's body: a hash of its text, so equal bodies have equal tags. */
export function etagOf(body: string): string {
  return `"${createHash("sha1").update(body).digest("base64url")}"`;
}

/** Whether an `If-None-Match` header names this ETag (weak or strong). */
export function matchesIfNoneMatch(header: string | null | undefined, etag: string): boolean {
  if (header === null || header === undefined || header === "") return false;
  for (const tag of header.split(",")) {
    const trimmed = tag.trim();
    if (trimmed === etag || trimmed.replace(/^W\//, "") === etag) return true;
  }
  return false;
}

/** The status and headers of a cacheable answer, as sent (the body goes only with a 200). */
export interface AnswerHead {
  readonly status: 200 | 304;
  readonly headers: [string, string][];
}

/**
 * The status and headers of a cacheable 200 answer, built the same way by the yoga plugin
 * (`useCacheHints`) and by the response fast path: the answer's own headers, its
 * `Cache-Control` as of now, and a 304 without content headers when the client's
 * `If-None-Match` holds its ETag.
 */
export function answerHeaders(
  base: readonly (readonly [string, string])[],
  etag: string,
  cacheControl: string,
  ifNoneMatch: string | null | undefined,
): AnswerHead {
  const notModified = matchesIfNoneMatch(ifNoneMatch, etag);
  const headers: [string, string][] = [];
  for (const [name, value] of base) {
    if (notModified && name === "content-type") continue;
    headers.push([name, value]);
  }
  headers.push(["cache-control", cacheControl]);
  return { status: notModified ? 304 : 200, headers };
}
