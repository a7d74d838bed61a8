import { Kind, type OperationDefinitionNode, parse } from "graphql";

const KEEP = 1000;
const NEUTRAL_DIRECTIVES = new Set(["include", "skip"]);

/**
 * Returns a check that tells whether an operation is a pure product read: a query whose every
 * top-level field is a primer field (or `__typename`). Its response is then a function of the
 * request and of the products it was served, and nothing else, so it may be cached against those
 * products and shared by identical requests. Anything else (mutations, `product(key)` with its
 * clock-dependent state, fragments at the top) is not. Results are remembered per query text.
 */
export function pureQueryCheck(
  primerNames: ReadonlySet<string>,
): (query: unknown, operationName: unknown) => boolean {
  const known = new Map<string, boolean>();
  return (query, operationName) => {
    if (typeof query !== "string") return false;
    if (operationName !== undefined && operationName !== null && typeof operationName !== "string")
      return false;
    const id = `${operationName ?? ""}\n${query}`;
    let pure = known.get(id);
    if (pure === undefined) {
      pure = analyse(query, operationName ?? undefined, primerNames);
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
): boolean {
  let operations: OperationDefinitionNode[];
  try {
    operations = parse(query).definitions.filter(
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
