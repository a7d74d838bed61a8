import { register } from "node:module";

/** The query that marks a module imported afresh by `kck dev`: `file.ts?kck-reload=<generation>`. */
export const RELOAD_PARAM = "kck-reload";

// A module resolution hook (node:module `register`), as source: registered from a data: URL,
// so that it needs no file of its own, nor a TypeScript loader, wherever KCK is installed. A
// module imported with the reload query passes it on to the modules it imports by relative
// path (after the other hooks, tsx's among them, have resolved them), so that a helper module a
// primer imports runs again with it. Packages (bare specifiers, node_modules) and KCK's own
// modules (which this repository's test fixtures import by relative path) never run again:
// "kck" stays one module, with its registries.
const HOOK = `
const PARAM = ${JSON.stringify(RELOAD_PARAM)};
let kck = "\\0";
export function initialize(data) {
  kck = data.kck;
}
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  const parent = context.parentURL;
  if (parent === undefined || !/^\\.\\.?\\//.test(specifier)) return resolved;
  const target = resolved.url;
  if (!target.startsWith("file:") || target.includes("/node_modules/") || target.startsWith(kck)) {
    return resolved;
  }
  const generation = new URL(parent).searchParams.get(PARAM);
  if (generation === null) return resolved;
  const url = new URL(target);
  url.searchParams.set(PARAM, generation);
  return { ...resolved, url: url.href };
}
`;

let registered = false;

/**
 * Registers the hook that carries a reload generation from a primer module to the modules it
 * imports by relative path (see `loadPrimers`'s `generation`). Once per process.
 */
export function registerReloadHook(): void {
  if (registered) return;
  registered = true;
  // KCK's own modules: src/ here, dist/ in the package.
  const kck = new URL("../", import.meta.url).href;
  register(`data:text/javascript,${encodeURIComponent(HOOK)}`, { data: { kck } });
}
