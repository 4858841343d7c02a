import fc from "fast-check";
import ts from "typescript";
import { describe, expect, test } from "vitest";
import { jsonLit, lit, Names } from "../../codegen/emit/literals.ts";
import { nastyString } from "./strings.ts";

/** Evaluate a literal the way TypeScript compiles it. */
function evaluate(code: string): unknown {
  const js = ts.transpileModule(`export default (${code});`, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  }).outputText;
  const m = { exports: {} as { default?: unknown } };
  new Function("module", "exports", js)(m, m.exports);
  return m.exports.default;
}

describe("string literals", () => {
  test("lit() round-trips any string exactly (property)", () => {
    fc.assert(
      fc.property(nastyString(), (s) => {
        expect(evaluate(lit(s))).toBe(s);
      }),
      { numRuns: 300 },
    );
  });

  test("multi-line strings become readable template literals", () => {
    const d = "$" + "{d}";
    expect(lit(`a\nb \`c\` ${d} \\e`)).toBe(`\`a\nb \\\`c\\\` \\${d} \\\\e\``);
    expect(lit('say "hi"')).toBe('"say \\"hi\\""');
    expect(lit("\u2028")).toBe('"\\u2028"');
  });

  test("jsonLit() round-trips JSON values, __proto__ keys and -0 included (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(evaluate(jsonLit(v as never))).toStrictEqual(v);
      }),
      { numRuns: 200 },
    );
  });

  test("Names gives unique, valid identifiers", () => {
    const n = new Names(["run"]);
    expect([
      n.fresh("10.0.0.7", "node"),
      n.fresh("run"),
      n.fresh("run"),
      n.fresh("class"),
      n.fresh(""),
    ]).toEqual(["node_10_0_0_7", "run_2", "run_3", "class_", "x"]);
  });
});
