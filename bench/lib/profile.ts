import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
}

const IDLE = new Set(["(idle)", "(program)"]);

/** Where a frame's code lives: a package, KCK's src, the bench, or Node itself. */
function owner(url: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.includes("/src/")) return "kck src";
  if (url.includes("/bench/")) return "bench";
  if (url.startsWith("node:")) return "node internals";
  return url === "" ? "native/VM" : url;
}

function frameName(frame: CallFrame): string {
  const file = frame.url.replace(/^.*node_modules\//, "").replace(/^.*\/(src|bench)\//, "$1/");
  return `${frame.functionName || "(anonymous)"} ${file}${file ? `:${frame.lineNumber + 1}` : ""}`;
}

/**
 * Summarises the V8 CPU profiles (node --cpu-prof) in a folder: the share of busy samples by
 * package, the top frames by self time, and the top frames by total time (callees included).
 */
export async function summariseProfiles(dir: string, top = 12): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile"));
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const byOwner = new Map<string, number>();
  let busy = 0;
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), "utf8")) as CpuProfile;
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const root = profile.nodes[0];
    if (root === undefined) continue;
    // Depth-first with the frames on the current stack, so recursion counts once in totals.
    const walk = (node: ProfileNode, onStack: Map<string, number>): number => {
      const name = frameName(node.callFrame);
      const hits = IDLE.has(node.callFrame.functionName) ? 0 : (node.hitCount ?? 0);
      busy += hits;
      self.set(name, (self.get(name) ?? 0) + hits);
      const who =
        node.callFrame.functionName === "(garbage collector)" ? "GC" : owner(node.callFrame.url);
      byOwner.set(who, (byOwner.get(who) ?? 0) + hits);
      onStack.set(name, (onStack.get(name) ?? 0) + 1);
      let inclusive = hits;
      for (const child of node.children ?? []) {
        const next = nodes.get(child);
        if (next) inclusive += walk(next, onStack);
      }
      const depth = (onStack.get(name) ?? 1) - 1;
      if (depth === 0) {
        onStack.delete(name);
        total.set(name, (total.get(name) ?? 0) + inclusive);
      } else onStack.set(name, depth);
      return inclusive;
    };
    walk(root, new Map());
  }
  if (busy === 0) return "  (no busy samples)";
  const pct = (n: number) => `${((100 * n) / busy).toFixed(1).padStart(5)}%`;
  const list = (map: Map<string, number>) =>
    [...map]
      .filter(([name]) => !name.startsWith("(root)"))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, n]) => `    ${pct(n)}  ${name}`)
      .join("\n");
  return [
    `  busy samples: ${busy}`,
    "  by package (self time):",
    list(byOwner),
    "  top frames by self time:",
    list(self),
    "  top frames by total time:",
    list(total),
  ].join("\n");
}
