import { createHash } from "node:crypto";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { KckError } from "../../errors.ts";

/** Who is asking, as the new-key limit sees it. */
export interface ClientInfo {
  /** The bearer token sent, if any. */
  readonly token: string | undefined;
  /** Whether that token is one this server knows (the admin or the read token). */
  readonly authenticated: boolean;
  /** The remote address of the connection. */
  readonly address: string | undefined;
}

/** Names the client a request comes from: requests with the same name share one budget. */
export type Identify = (client: ClientInfo) => string;

/** How fast one client may cause computes of keys not stored yet. */
export interface NewKeyLimitOptions {
  /** New keys per second, on average (KCK_NEW_KEYS_PER_SECOND). */
  perSecond: number;
  /**
   * New keys one client may ask for at once (KCK_NEW_KEYS_BURST): the budget of one window
   * of `burst / perSecond` seconds (at least one).
   * @default perSecond * 10
   */
  burst?: number;
  /**
   * Names the client. Behind a proxy every request comes from its address: pass a function that
   * reads what the proxy vouches for.
   * @default the token's identity when it is a known token, else the remote address
   */
  identify?: Identify;
}

/**
 * The default identity: a known token (hashed: the identity is kept in memory and may be
 * logged), else the remote address. An unknown token does not count, or a client could send a
 * new random one with each request and never run out.
 */
export const identifyClient: Identify = (client) =>
  client.authenticated && client.token !== undefined
    ? `token:${createHash("sha256").update(client.token).digest("base64url").slice(0, 22)}`
    : `address:${client.address ?? "unknown"}`;

/**
 * A per-client limit on how fast requests may cause computes of keys not stored yet (a read of
 * a stored key, or one whose compute is already under way, costs nothing). In memory, per
 * instance: a fixed window per client from rate-limiter-flexible, whose entries expire with
 * their window, so idle clients take no memory.
 */
export class NewKeyLimiter {
  private readonly limiter: RateLimiterMemory;
  private readonly identify: Identify;
  private readonly known: ReadonlySet<string>;
  private readonly windowS: number;
  private readonly burst: number;

  constructor(options: NewKeyLimitOptions, knownTokens: readonly (string | undefined)[] = []) {
    if (!(options.perSecond > 0)) {
      throw new KckError(
        "BAD_CONFIG",
        `The new-key limit needs perSecond above 0; got ${options.perSecond}.`,
      );
    }
    this.burst = Math.max(1, Math.round(options.burst ?? options.perSecond * 10));
    this.windowS = Math.max(1, Math.round(this.burst / options.perSecond));
    this.limiter = new RateLimiterMemory({ points: this.burst, duration: this.windowS });
    this.identify = options.identify ?? identifyClient;
    this.known = new Set(knownTokens.filter((token) => token !== undefined));
  }

  /** The check for one request's client: resolves when a new key may be computed, else throws. */
  forClient(token: string | undefined, address: string | undefined): () => Promise<void> {
    const id = this.identify({
      token,
      authenticated: token !== undefined && this.known.has(token),
      address,
    });
    return async () => {
      try {
        await this.limiter.consume(id, 1);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        throw new KckError(
          "RATE_LIMITED",
          `This client asked for too many products that are not stored yet: at most ${this.burst} every ${this.windowS} s. Try again in ${Math.ceil(error.msBeforeNext / 1000)} s.`,
        );
      }
    };
  }
}
