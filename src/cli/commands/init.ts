import { access, mkdir, readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import { CliError, EXIT } from "../exit-codes.ts";
import { INIT_DEV_DEPENDENCIES, INIT_FILES, INIT_SCRIPTS } from "../init-templates.ts";

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

type PackageJson = Record<string, unknown> & {
  scripts?: Record<string, string>;
  devDependencies?: Record<string, string>;
};

/**
 * Writes a new KCK project into `folder`: an example primer over a table its setup creates, a
 * strict tsconfig.json, .gitignore, and the package.json scripts `dev`, `start` and
 * `typecheck`. Refuses (exit 2) before writing anything when one of its files exists, or when
 * package.json already has a different `dev` or `start` script.
 *
 * @returns the paths written or changed.
 */
export async function initProject(folder: string): Promise<string[]> {
  const root = resolve(folder);
  const clashes: string[] = [];
  for (const path of Object.keys(INIT_FILES)) {
    if (await exists(join(root, path))) clashes.push(path);
  }
  const packagePath = join(root, "package.json");
  let pkg: PackageJson = { name: basename(root), version: "0.1.0", private: true };
  const hadPackage = await exists(packagePath);
  if (hadPackage) {
    try {
      pkg = JSON.parse(await readFile(packagePath, "utf8")) as PackageJson;
    } catch (error) {
      throw new CliError(
        EXIT.USAGE,
        `package.json in ${root} is not valid JSON (${(error as Error).message}); fix it and run kck init again.`,
      );
    }
    for (const [name, command] of Object.entries(INIT_SCRIPTS)) {
      const current = pkg.scripts?.[name];
      if (current !== undefined && current !== command)
        clashes.push(`package.json script "${name}" ("${current}")`);
    }
  }
  if (clashes.length > 0) {
    throw new CliError(
      EXIT.USAGE,
      `kck init writes a new project and overwrites nothing, but ${root} already has: ${clashes.join(", ")}. Run it in an empty folder, or move these away.`,
    );
  }
  const written: string[] = [];
  for (const [path, text] of Object.entries(INIT_FILES)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text, { flag: "wx" });
    written.push(path);
  }
  // ES modules: the primers are TypeScript modules that import "kck".
  pkg["type"] = "module";
  pkg.scripts = { ...pkg.scripts, ...INIT_SCRIPTS };
  pkg.devDependencies = { ...INIT_DEV_DEPENDENCIES, ...pkg.devDependencies };
  await writeFile(packagePath, `${JSON.stringify(pkg, null, 2)}\n`);
  written.push("package.json");
  return written;
}

/** `kck init`: scaffolds a project in the current folder (or the one given). */
export function addInit(program: Command): void {
  program
    .command("init")
    .description("write a new KCK project here: an example primer, tsconfig.json, scripts")
    .argument("[folder]", "the project folder", ".")
    .action(async (folder: string) => {
      const written = await initProject(folder);
      console.log(`Wrote ${written.join(", ")}.`);
      console.log(
        "Next: npm install (for TypeScript), then npm run dev, and open http://localhost:4000/graphql",
      );
    });
}
