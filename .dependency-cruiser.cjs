// The import rules of KCK's layers (issue 13), checked by `npm run deps` in `npm run check` and
// so in .ci/run. Folders, bottom to top; a folder imports only folders below it:
//
//   leaf utilities   src/errors.ts, redact.ts, duration.ts, request-scope.ts, logger.ts,
//                    canonical-json.ts
//   types            src/types.ts (types only)
//   db               src/db/          the only code that imports pg
//   sql              src/sql/         every statement against kck.*; imports only db and leaves
//   primer           src/primer/, src/keys.ts (a key is a primer's name and params)
//   engine           src/engine/      built from ports; nothing of graphql, gateway, jobs, augment
//   augment, jobs    src/augment/, src/jobs/
//   subscriptions    src/subscriptions/
//   graphql          src/graphql/     nothing of jobs or db
//   gateway          src/gateway/     plugins/ (use-*.ts) below server/
//   composition root src/app.ts
//   entry points     src/cli/, src/dev/ (kck dev), main.ts, worker-main.ts, index.ts (the public API)
//
// config.ts, load-primers.ts, metrics/, ops/ and dashboard/ have no place in the order: only the
// cycle rules and the pg rule bind them. Primers (primers/) import only the package, `kck`.
//
// The parser is swc (@swc/core): dependency-cruiser reads TypeScript through the `typescript`
// package only up to 6.x, and this project compiles with TypeScript 7. swc reports every
// import, `import type` included, so the rules bind type imports too.

/** The layers, bottom to top: each imports nothing of the layers after it. */
const LAYERS = [
  ["leaf-utilities", "^src/(errors|redact|duration|request-scope|logger|canonical-json)\\.ts$"],
  ["types", "^src/types\\.ts$"],
  ["db", "^src/db/"],
  ["sql", "^src/sql/"],
  ["primer", "^src/(primer/|keys\\.ts$)"],
  ["engine", "^src/engine/"],
  ["augment-and-jobs", "^src/(augment|jobs)/"],
  ["subscriptions", "^src/subscriptions/"],
  ["graphql", "^src/graphql/"],
  ["gateway", "^src/gateway/"],
  ["composition-root", "^src/app\\.ts$"],
  ["entry-points", "^src/(cli/|dev/|main\\.ts$|worker-main\\.ts$|index\\.ts$)"],
];

const layerOrder = LAYERS.slice(0, -1).map(([name, path], i) => ({
  name: `${name}-imports-no-layer-above`,
  comment: `${name} (${path}) imports nothing of the layers above it: ${LAYERS.slice(i + 1)
    .map(([above]) => above)
    .join(", ")} (issue 13, the layer order).`,
  severity: "error",
  from: { path },
  to: { path: LAYERS.slice(i + 1).map(([, above]) => above) },
}));

/** @type {import('dependency-cruiser').IConfiguration['forbidden']} */
const forbidden = [
  {
    name: "no-circular",
    comment: "No import cycles at all, of files (issue 13).",
    severity: "error",
    from: {},
    to: { circular: true },
  },
  {
    name: "only-db-imports-pg",
    comment: "Only src/db imports pg and the pg-* driver packages (issue 13).",
    severity: "error",
    from: { pathNot: "^src/db/" },
    to: { path: "(^|/)node_modules/(@types/)?(pg|pg-[a-z0-9-]+)/" },
  },
  {
    name: "primers-import-only-kck",
    comment:
      "A primer module imports only the package (`kck`), node's builtins and the files of primers/ (issue 13).",
    severity: "error",
    from: { path: "^primers/" },
    to: { pathNot: ["^primers/", "^src/index\\.ts$"], dependencyTypesNot: ["core"] },
  },
  {
    name: "primers-import-kck-by-name",
    comment: "A primer imports KCK by its package name, `kck`, not by a relative path (issue 13).",
    severity: "error",
    from: { path: "^primers/" },
    to: { path: "^src/", dependencyTypes: ["local"] },
  },
  {
    name: "sql-imports-only-db-and-leaves",
    comment: "src/sql imports only src/db, the leaf utilities and the shared types (issue 13).",
    severity: "error",
    from: { path: "^src/sql/" },
    to: {
      path: "^src/",
      pathNot: [
        "^src/(db|sql)/",
        "^src/(errors|redact|duration|request-scope|logger|canonical-json|types)\\.ts$",
      ],
    },
  },
  {
    name: "graphql-imports-nothing-of-jobs-or-db",
    comment:
      "src/graphql imports nothing of jobs or db: resolvers call the engine's public methods through the context (issue 13).",
    severity: "error",
    from: { path: "^src/graphql/" },
    to: { path: "^src/(jobs|db)/" },
  },
  {
    name: "gateway-plugins-import-nothing-of-the-server",
    comment: "The yoga/envelop plugins (src/gateway/plugins) sit below the server (issue 13).",
    severity: "error",
    from: { path: "^src/gateway/plugins/" },
    to: { path: "^src/gateway/server/" },
  },
  {
    name: "nothing-imports-the-public-index",
    comment: "src/index.ts is the package's public API, for primers and users, not for src/.",
    severity: "error",
    from: { path: "^src/" },
    to: { path: "^src/index\\.ts$" },
  },
  {
    name: "no-unresolvable",
    comment: "Every import resolves (a primer's `kck` included, through the kck-source condition).",
    severity: "error",
    from: {},
    to: { couldNotResolve: true },
  },
  ...layerOrder,
];

const folderCycles = [
  {
    name: "no-folder-cycles",
    comment: "No import cycles between folders (issue 13).",
    severity: "error",
    scope: "folder",
    from: {},
    to: { circular: true },
  },
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [...forbidden, ...folderCycles],
  options: {
    parser: "swc",
    doNotFollow: { path: "(^|/)node_modules/" },
    enhancedResolveOptions: {
      // `kck` resolves to src/index.ts through the package's exports, as the primers' runtime
      // and tsc resolve it (customConditions: kck-source).
      exportsFields: ["exports"],
      conditionNames: ["kck-source", "import", "node", "default"],
      extensions: [".ts", ".js", ".json"],
    },
  },
};
