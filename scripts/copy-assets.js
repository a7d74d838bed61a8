// Copies what the compiled package reads at run time but tsc does not emit (the SQL migrations
// and the dashboard page) from src/ to dist/, next to the modules that read them.
import { cp, readdir } from "node:fs/promises";

const ASSETS = /\.(sql|html)$/;
for (const file of await readdir("src", { recursive: true })) {
  if (ASSETS.test(file)) await cp(`src/${file}`, `dist/${file}`);
}
