import { describe, expect, it } from "vitest";
import { KckError } from "../src/errors.ts";
import { formatKey, MAX_KEY_BYTES, parseKey } from "../src/keys.ts";
import { type AnyPrimer, definePrimer } from "../src/primer/define-primer.ts";
import { param } from "../src/primer/params.ts";

const titleList = definePrimer({
  name: "titleList",
  params: { authorId: param.int() },
  type: "String",
  compute: () => "",
});
const mixed = definePrimer({
  name: "mixed",
  params: { name: param.string(), ratio: param.float(), on: param.boolean(), ref: param.id() },
  type: "String",
  compute: () => "",
});
const none = definePrimer({ name: "none", params: {}, type: "Int", compute: () => 1 });
const primers = new Map<string, AnyPrimer>([titleList, mixed, none].map((p) => [p.name, p]));

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(KckError);
    return `${(error as KckError).code}: ${(error as KckError).message}`;
  }
  throw new Error("expected an error");
};

describe("keys", () => {
  it("formats the seed's form", () => {
    expect(formatKey(titleList, { authorId: 42 })).toBe("titleList/42");
    expect(formatKey(none, {})).toBe("none");
  });

  it.each([
    "plain",
    "",
    "a/b/c",
    "100%",
    "%2F",
    "ünïcödé 東京 🚀",
    "  spaces  ",
    "?&=#+",
    "'; drop table products; --",
    "x".repeat(300),
  ])("round-trips the string %j", (name) => {
    const params = { name, ratio: -0.5, on: false, ref: `${name}/id` };
    const key = formatKey(mixed, params);
    const parsed = parseKey(primers, key);
    expect(parsed.params).toEqual(params);
    expect(parsed.key).toBe(key);
    expect(key.split("/")).toHaveLength(5);
  });

  it.each([0, -7, 42, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER])(
    "round-trips the int %d",
    (authorId) => {
      expect(parseKey(primers, formatKey(titleList, { authorId })).params).toEqual({ authorId });
    },
  );

  it.each([1.5, -0.25, 1e21, 5e-324, 123456.789])("round-trips the float %d", (ratio) => {
    const params = { name: "n", ratio, on: true, ref: "r" };
    expect(parseKey(primers, formatKey(mixed, params)).params).toEqual(params);
  });

  it("normalises a non-canonical percent-encoding to the canonical key", () => {
    expect(parseKey(primers, "titleList/%34%32").key).toBe("titleList/42");
  });

  it("names the primer for an unknown primer", () => {
    expect(codeOf(() => parseKey(primers, "nope/1"))).toMatch(
      /^UNKNOWN_PRIMER: .*"nope".*known primers: mixed, none, titleList/,
    );
  });

  it("says how many params a primer takes", () => {
    expect(codeOf(() => parseKey(primers, "titleList"))).toMatch(
      /^BAD_KEY: .*0 param segment.*"titleList" takes 1 \(authorId\)/,
    );
    expect(codeOf(() => parseKey(primers, "titleList/1/2"))).toMatch(/^BAD_KEY: .*2 param segment/);
    expect(codeOf(() => parseKey(primers, "none/1"))).toMatch(/^BAD_KEY: .*takes no params/);
  });

  it.each([
    ["titleList/abc", "abc"],
    ["titleList/1.5", "1.5"],
    ["titleList/042", "042"],
    ["titleList/99999999999999999999", "99999999999999999999"],
    ["titleList/", ""],
  ])("names the param and the value for %s", (key, value) => {
    expect(codeOf(() => parseKey(primers, key))).toMatch(
      new RegExp(
        `^BAD_KEY: .*param "authorId" of primer "titleList" expected a whole number.*got "${value.replace(".", "\\.")}"`,
      ),
    );
  });

  it("rejects bad floats, booleans and percent-encoding", () => {
    expect(codeOf(() => parseKey(primers, "mixed/a/1e3/true/r"))).toMatch(
      /param "ratio".*got "1e3"/,
    );
    expect(codeOf(() => parseKey(primers, "mixed/a/NaN/true/r"))).toMatch(/param "ratio"/);
    expect(codeOf(() => parseKey(primers, "mixed/a/1/yes/r"))).toMatch(
      /param "on".*"true" or "false".*got "yes"/,
    );
    expect(codeOf(() => parseKey(primers, "mixed/%E0%A4%A/1/true/r"))).toMatch(
      /param "name".*not valid percent-encoding/,
    );
  });

  it("rejects empty, non-string and oversized keys", () => {
    expect(codeOf(() => parseKey(primers, ""))).toMatch(
      /^BAD_KEY: A key must be a non-empty string/,
    );
    expect(codeOf(() => parseKey(primers, 42))).toMatch(/^BAD_KEY: .*got 42/);
    expect(codeOf(() => parseKey(primers, `mixed/${"a".repeat(MAX_KEY_BYTES)}/1/true/r`))).toMatch(
      /limited to 2000 bytes/,
    );
  });

  it("rejects params of the wrong type and unpaired surrogates when formatting", () => {
    expect(codeOf(() => formatKey(titleList, { authorId: "42" }))).toMatch(
      /^BAD_PARAM: .*"authorId": expected a whole number, but got "42"/,
    );
    expect(codeOf(() => formatKey(titleList, {}))).toMatch(/got nothing/);
    expect(
      codeOf(() => formatKey(mixed, { name: "\ud800", ratio: 1, on: true, ref: "r" })),
    ).toMatch(/unpaired surrogate/);
  });
});
