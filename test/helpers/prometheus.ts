/** One sample line of a Prometheus text exposition. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** One metric family: its TYPE, HELP and samples. */
export interface Family {
  readonly type: string;
  readonly help: string;
  readonly samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);
const SUFFIXES: Record<string, string[]> = {
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};

function parseValue(text: string, line: number): number {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (text === "NaN") return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text))
    throw new Error(`line ${line}: "${text}" is not a sample value`);
  return Number(text);
}

function parseLabels(text: string, line: number): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf("=", i);
    const name = text.slice(i, eq);
    if (eq < 0 || !LABEL.test(name)) throw new Error(`line ${line}: bad label name in {${text}}`);
    if (text[eq + 1] !== '"') throw new Error(`line ${line}: label ${name} is not quoted`);
    let value = "";
    let j = eq + 2;
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === "\\") {
        const next = text[++j];
        if (next === "n") value += "\n";
        else if (next === "\\" || next === '"') value += next;
        else throw new Error(`line ${line}: bad escape \\${next} in label ${name}`);
      } else value += text[j];
    }
    if (text[j] !== '"') throw new Error(`line ${line}: label ${name} is not closed`);
    if (name in labels) throw new Error(`line ${line}: label ${name} twice`);
    labels[name] = value;
    i = j + 1;
    if (text[i] === ",") i++;
    else if (i < text.length) throw new Error(`line ${line}: expected , after label ${name}`);
  }
  return labels;
}

/**
 * Parses Prometheus text exposition format 0.0.4 strictly: every sample must belong to a
 * family declared by `# TYPE` before it, names and labels must be well formed, values
 * numbers; anything else throws, naming the line.
 */
export function parsePrometheus(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const familyOf = (sample: string): string | undefined => {
    for (const [name, family] of families) {
      for (const suffix of SUFFIXES[family.type] ?? [""])
        if (sample === `${name}${suffix}`) return name;
    }
    return undefined;
  };
  if (!text.endsWith("\n")) throw new Error("the exposition must end with a newline");
  text
    .slice(0, -1)
    .split("\n")
    .forEach((raw, index) => {
      const line = index + 1;
      if (raw === "") return;
      const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (meta) {
        const [, kind, name = "", rest = ""] = meta;
        if (!NAME.test(name)) throw new Error(`line ${line}: bad metric name ${name}`);
        const family = families.get(name) ?? { type: "untyped", help: "", samples: [] };
        if (kind === "TYPE") {
          if (!TYPES.has(rest)) throw new Error(`line ${line}: unknown type ${rest}`);
          if (family.samples.length > 0) throw new Error(`line ${line}: TYPE after samples`);
          families.set(name, { ...family, type: rest });
        } else families.set(name, { ...family, help: rest });
        return;
      }
      if (raw.startsWith("#")) return;
      const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(raw);
      if (!sample) throw new Error(`line ${line}: not a sample: ${raw}`);
      const [, name = "", labels = "", value = ""] = sample;
      const familyName = familyOf(name);
      if (familyName === undefined) throw new Error(`line ${line}: ${name} has no # TYPE`);
      families.get(familyName)?.samples.push({
        name,
        labels: parseLabels(labels, line),
        value: parseValue(value, line),
      });
    });
  return families;
}

/** The value of the one sample with this name and these labels (0 when absent). */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  for (const family of families.values()) {
    for (const sample of family.samples) {
      if (sample.name !== name) continue;
      const wanted = Object.entries(labels);
      if (
        wanted.length === Object.keys(sample.labels).length &&
        wanted.every(([k, v]) => sample.labels[k] === v)
      )
        return sample.value;
    }
  }
  return 0;
}
