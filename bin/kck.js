#!/usr/bin/env node
// The `kck` command. Installed from the package it runs the compiled JavaScript in dist/; in
// KCK's own repository (src/ next to bin/) it runs the TypeScript source, with the "kck-source"
// condition so that `import ... from "kck"` in the repository's primers is the source too.
// tsx is registered for the user's primer modules, which may be TypeScript.
import { existsSync } from "node:fs";
import { register as registerHooks } from "node:module";
import { register } from "tsx/esm/api";

register();
const source = new URL("../src/cli/main.ts", import.meta.url);
if (existsSync(source)) {
  registerHooks("./source-condition.js", import.meta.url);
  await import(source.href);
} else {
  await import("../dist/cli/main.js");
}
