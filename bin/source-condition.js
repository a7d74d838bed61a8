// A module resolution hook (node:module register) that adds the "kck-source" condition, so that
// "kck" resolves to src/index.ts when the CLI runs from KCK's own repository.
export async function resolve(specifier, context, next) {
  return next(specifier, { ...context, conditions: [...context.conditions, "kck-source"] });
}
