/** The NOTIFY channel that carries change events. */
export const EVENTS_CHANNEL = "kck_events";

/** What happened to a product, as carried by a change event. */
export type ChangeOp = "compute" | "invalidate" | "augment" | "evict";

/** A change event: small on purpose (a NOTIFY payload must stay under 8000 bytes). */
export interface ChangeEvent {
  /** The product's key. */
  k: string;
  /** Its version after the change. */
  v: number;
  op: ChangeOp;
  /** Whether the value changed (false: only its freshness moved). */
  c: boolean;
  /**
   * When the database wrote the event, in ms since the epoch (to measure delivery lag). Every
   * event KCK sends carries it ({@link notifyEach}); optional for events from older processes.
   */
  t?: number;
}

// The database's clock when the statement runs, in ms: receivers subtract it from their own
// (the lag metric). clock_timestamp, not now(): a transaction's start can be long before.
const EVENT_TIME = "(extract(epoch from clock_timestamp()) * 1000)::bigint";

/**
 * The one builder of change events: a `cross join lateral` that sends one event on
 * {@link EVENTS_CHANNEL} per row of `row` (a CTE or table alias with `key` and `version`
 * columns), to append to a statement's `from`. The event is `{k, v, op, c, t}`: `c` is the SQL
 * boolean expression `changed`, `t` the database's clock. NOTIFY is sent at commit, so a
 * statement that rolls back announces nothing.
 *
 * @param row the alias whose rows changed.
 * @param op what happened to them.
 * @param changed whether the value changed, as SQL. @default "false"
 */
export function notifyEach(row: string, op: ChangeOp, changed = "false"): string {
  return `cross join lateral (select pg_notify('${EVENTS_CHANNEL}', json_build_object(
    'k', ${row}.key, 'v', ${row}.version, 'op', '${op}', 'c', ${changed},
    't', ${EVENT_TIME})::text)) as notified`;
}
