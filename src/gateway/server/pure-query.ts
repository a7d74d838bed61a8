import { createHash } from "node:crypto";
import { Kind, type OperationDefinitionNode, parse } from "graphql";

const KEEP = 1000;
const NEUTRAL_DIRECTIVES: ReadonlySet<string> = new Set(["include", "skip"]);

/** Options for {@link pureQueryCheck}. */
export interface PureQueryOptions {
  /** The primer field names: a pure query selects only these (and `__typename`) at the top. */
  primerNames: ReadonlySet<string>;
  /**
   * The gateway's token limit: a document with more tokens is not pure (yoga refuses it), and
   * parsing stops at the limit, so a huge document costs no more than a legal one.
   * @default 10000
   */
  maxTokens?: number;
}

/**
 * Returns a check that tells whether an operation is a pure product read: a query whose every
 * top-level field is a primer field (or `__typename`). Its response is then a function of the
 * request and of the products it was served, and nothing else, so it may be cached against those
 * products and shared by identical requests. Anything else (mutations, subscriptions,
 * `product(key)` with its clock-dependent state, fragments at the top, documents past the token
 * limit) is not. Results are remembered per hash of the operation name and text, never the text.
 */
export function pureQueryCheck(
  options: PureQueryOptions,
): (query: unknown, operationName: unknown) => boolean {
  const { primerNames } = options;
  const maxTokens = options.maxTokens ?? 10_000;
  const known = new Map<string, boolean>();
  return (query, operationName) => {
    if (typeof query !== "string") return false;
    if (operationName !== undefined && operationName !== null && typeof operationName !== "string")
      return false;
    const id = createHash("sha1")
      .update(operationName ?? "")
      .update("\n")
      .update(query)
      .digest("base64");
    let pure = known.get(id);
    if (pure === undefined) {
      pure = analyse(query, operationName ?? undefined, primerNames, maxTokens);
      // A crude cap: operations are few in practice, and forgetting them all is cheap.
      if (known.size >= KEEP) known.clear();
      known.set(id, pure);
    }
    return pure;
  };
}

function analyse(
  query: string,
  operationName: string | undefined,
  primerNames: ReadonlySet<string>,
  maxTokens: number,
): boolean {
  let operations: OperationDefinitionNode[];
  try {
    // The lexer stops at the limit: the cost is bounded by the tokens allowed, not the text.
    operations = parse(query, { maxTokens, noLocation: true }).definitions.filter(
      (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
    );
  } catch {
    return false;
  }
  const operation =
    operationName === undefined
      ? operations.length === 1
        ? operations[0]
        : undefined
      : operations.find((o) => o.name?.value === operationName);
  if (operation === undefined || operation.operation !== "query") return false;
  return operation.selectionSet.selections.every(
    (selection) =>
      selection.kind === Kind.FIELD &&
      (primerNames.has(selection.name.value) || selection.name.value === "__typename") &&
      (selection.directives ?? []).every((d) => NEUTRAL_DIRECTIVES.has(d.name.value)),
  );
}
