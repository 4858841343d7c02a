/**
 * The exact compiler messages a DSL mistake produces (the ones docs/dsl.md shows): a
 * scenario snippet is type-checked with the TypeScript API and each diagnostic compared.
 */
import { join } from "node:path";
import ts from "typescript";
import { expect, test } from "vitest";

const root = join(import.meta.dirname, "../..");
const file = join(root, "scenarios", "__mistakes__.scenario.ts");

const snippet = `import { scenario } from "aiorch/dsl";
const s = scenario("deploy")
  .job("fetch", async () => 42)
  .job("probe", async () => "up", { critical: false });
s.job("fetch", async () => 1);
s.job("use", async () => 1, { after: ["fetch", "fecth"] });
s.after("nope");
s.job("self", async () => 1, { after: ["self"] });
s.job("use", async ({ results }) => results.probe.length, { after: ["probe"] });
s.job("use", async ({ results }) => results.probe, { after: ["fetch"] });
const flag = Math.random() > 0.5;
s.job("x", async () => 1, { critical: flag });
const name: string = "x";
s.job(name, async () => 1);
`;

function compile(): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(root, "tsconfig.json"),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
  );
  if (!config) throw new Error("cannot read tsconfig.json");
  const host = ts.createCompilerHost(config.options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) =>
    name === file ? ts.createSourceFile(name, snippet, lang) : getSourceFile(name, lang, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram({ rootNames: [file], options: config.options, host });
  const source = program.getSourceFile(file)!;
  return ts.getPreEmitDiagnostics(program, source).map((d) => {
    const { line } = source.getLineAndCharacterOfPosition(d.start ?? 0);
    return `${line + 1}: TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
}

test("each DSL mistake gives a readable message on its own line", () => {
  expect(compile()).toEqual([
    `5: TS2345: Argument of type '"fetch"' is not assignable to parameter of type 'TypeError<"duplicate label: fetch">'.\n  Type '"fetch"' is not assignable to type '"duplicate label: fetch"'.`,
    `6: TS2820: Type '"fecth"' is not assignable to type '"fetch" | "probe"'. Did you mean '"fetch"'?`,
    `7: TS2345: Argument of type '"nope"' is not assignable to parameter of type '"fetch" | "probe"'.`,
    `8: TS2322: Type '"self"' is not assignable to type '"fetch" | "probe"'.`,
    `9: TS2339: Property 'length' does not exist on type 'Outcome<string>'.\n  Property 'length' does not exist on type '{ ok: false; error: unknown; }'.`,
    `10: TS2339: Property 'probe' does not exist on type '{ readonly fetch: number; }'.`,
    `12: TS2322: Type 'boolean' is not assignable to type 'TypeError<"critical must be the literal true or false (results of dependents are typed by it)">'.`,
    `14: TS2345: Argument of type 'string' is not assignable to parameter of type 'TypeError<"label must be a string literal (use dynamicScenario() for labels known at run time)">'.\n  Type 'string' is not assignable to type '"label must be a string literal (use dynamicScenario() for labels known at run time)"'.`,
  ]);
}, 60_000);
