/**
 * Scenario parameters like argparse: lists, choices (refused with the allowed values),
 * booleans as flags, descriptions for `--help`; the declaration is checked up front.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { scenario } from "../../dsl/index.ts";
import {
  describeParamSpec,
  formatParamHelp,
  PARAM_FLAG,
  parseParam,
  resolveParams,
} from "../../src/params.ts";

const SPEC = {
  nodes: { default: [1, 2], description: "node numbers" },
  hosts: ["a", "b"],
  mode: { default: "safe", choices: ["fast", "safe"], description: "how to deploy" },
  radios: { default: ["b210"], choices: ["b210", "n300", "x310"] },
  dry: { default: false, description: "print only" },
  rounds: 3,
  name: "x",
} as const;

const resolve = (raw: Record<string, string>) =>
  resolveParams({
    scenario: "s",
    spec: SPEC,
    raw,
    known: new Set(Object.keys(SPEC)),
    strict: true,
  });

describe("parsing --param values", () => {
  test("defaults, lists, choices, flags", () => {
    expect(resolve({})).toEqual({
      nodes: [1, 2],
      hosts: ["a", "b"],
      mode: "safe",
      radios: ["b210"],
      dry: false,
      rounds: 3,
      name: "x",
    });
    expect(
      resolve({ nodes: "1, 2,5", hosts: "x", mode: "fast", radios: "n300,x310", dry: PARAM_FLAG }),
    ).toMatchObject({
      nodes: [1, 2, 5],
      hosts: ["x"],
      mode: "fast",
      radios: ["n300", "x310"],
      dry: true,
    });
    expect(resolve({ nodes: "", dry: "no" })).toMatchObject({ nodes: [], dry: false });
  });

  test("bad values are refused, naming the parameter and what it takes", () => {
    expect(() => resolve({ mode: "slow" })).toThrow(
      'parameter "mode" must be one of fast, safe, got "slow"',
    );
    expect(() => resolve({ radios: "b210,usrp" })).toThrow(
      'parameter "radios" must be one of b210, n300, x310, got "usrp"',
    );
    expect(() => resolve({ nodes: "1,two" })).toThrow(
      'parameter "nodes" expects numbers, got "two"',
    );
    expect(() => resolve({ rounds: "many" })).toThrow(
      'parameter "rounds" expects a number, got "many"',
    );
    expect(() => resolve({ rounds: PARAM_FLAG })).toThrow(
      'parameter "rounds" expects a value: --param rounds=VALUE',
    );
    expect(() => resolve({ nope: "1" })).toThrow(
      /unknown parameter "nope" for scenario "s" \(it takes: nodes, hosts/,
    );
  });

  test("a bad declaration is refused before anything runs", () => {
    expect(() => describeParamSpec({ m: { default: "x", choices: ["a", "b"] } })).toThrow(
      'parameter "m": default "x" is not one of "a", "b"',
    );
    expect(() => describeParamSpec({ m: [1, "a"] as never })).toThrow(/the default must be/);
  });

  test("lists round-trip through their comma form (property)", () => {
    const numbers = describeParamSpec({ n: [0] })[0];
    const strings = describeParamSpec({ s: ["a"] })[0];
    if (!numbers || !strings) throw new Error("no info");
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1e6, max: 1e6 }), { minLength: 1 }), (xs) => {
        expect(parseParam(numbers, xs.join(","))).toEqual(xs);
      }),
    );
    const word = fc
      .string({ minLength: 1 })
      .filter((s) => !s.includes(",") && s.trim() === s && s !== "");
    fc.assert(
      fc.property(fc.array(word, { minLength: 1 }), (xs) => {
        expect(parseParam(strings, xs.join(","))).toEqual(xs);
      }),
    );
  });
});

describe("help and the builder", () => {
  test("formatParamHelp lists name, type, default and description", () => {
    const text = formatParamHelp({ params: describeParamSpec(SPEC), others: ["inner"] });
    const lines = text.split("\n");
    expect(lines[0]).toBe("Parameters:");
    expect(lines.find((l) => l.includes("nodes"))).toMatch(
      /--param nodes=A,B +number list +default 1,2 +node numbers$/,
    );
    expect(lines.find((l) => l.includes("mode"))).toMatch(
      /--param mode=VALUE +fast \| safe +default "safe" +how to deploy$/,
    );
    expect(lines.find((l) => l.includes("radios"))).toMatch(
      /list of b210 \| n300 \| x310 +default b210$/,
    );
    expect(lines.find((l) => l.includes("dry"))).toMatch(
      /--param dry +flag +default false +print only$/,
    );
    expect(text).toContain("(from included scenarios: inner)");
    expect(formatParamHelp({ params: [] })).toBe("Parameters: none\n");
  });

  test("builders parse typed params and describe them, includes' names too", async () => {
    const inner = scenario("inner", { params: { depth: 1 } }).job(
      "i",
      async ({ params }) => params.depth,
    );
    let seen: unknown;
    const s = scenario("s", { params: SPEC })
      .job("use", async ({ params }) => {
        seen = [params.nodes, params.mode, params.dry, params.radios];
      })
      .include("in", inner);
    expect(await s.run({ params: { nodes: [3, 4], mode: "fast", dry: "true" } })).toBe(true);
    expect(seen).toEqual([[3, 4], "fast", true, ["b210"]]);
    const d = s.describeParams();
    expect(d.params.map((p) => [p.name, p.kind])).toEqual([
      ["nodes", "number[]"],
      ["hosts", "string[]"],
      ["mode", "string"],
      ["radios", "string[]"],
      ["dry", "boolean"],
      ["rounds", "number"],
      ["name", "string"],
    ]);
    expect(d.others).toEqual(["depth"]);
  });
});
