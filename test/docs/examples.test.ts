/**
 * The code examples of the documentation compile, and the safe ones run.
 *
 * Conventions for ```ts blocks in README.md and docs/*.md:
 * - ` ```ts ` — a complete module: type-checked (strict project tsconfig), zero diagnostics.
 *   It imports what it uses from `aiorch`, `aiorch/dsl`, `aiorch/codegen`; `./steps.ts`
 *   (functions `install` and `double` for function jobs) is provided next to it.
 * - ` ```ts run ` — also run, from `.tmp/doc-examples-XXXXXX/` (files it writes land there). It
 *   must be self-contained and safe: `LocalNode` or plain jobs only, no network. A default
 *   export is run with `node bin/aiorch.mjs run FILE --plain`, anything else with
 *   `node --import tsx FILE`; either must exit 0.
 * - ` ```ts errors ` — shows compiler errors on purpose: its diagnostics, printed like
 *   `tsc` does, must equal the ```text block right after it.
 * - ` ```ts fragment `, or `<!-- not checked -->` on the line before the fence — an API
 *   shape (signatures, option lists with `…`): not checked. Prefer complete examples.
 *
 * TSDoc examples (```ts blocks inside `/** *\/` comments of src/, dsl/, codegen/, and
 * one-line `@example f(...)` calls) are checked the same way after a prelude (see
 * compile.ts, `buildPrelude`): every public export of the three entry points and every
 * export of the documented file itself is imported, and the usual free names are declared (`scheduler`, `s`: Scheduler; `node`, `other`:
 * SshNode; `nodes`: SshNode[]; `fetch`, `build`, `setup`…: Job; `ok`, `file`, `trace`…),
 * except those the example binds itself. An example may start with `scenario(...)` but not
 * with a bare `.method(...)`: write the builder it continues.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildPrelude, type FileDiagnostic, typeCheck } from "./compile.ts";
import { extractMarkdown, extractTsdoc, type Snippet } from "./snippets.ts";

const ROOT = resolve(import.meta.dirname, "../..");
// one folder per test run (several runs may share the checkout)
mkdirSync(join(ROOT, ".tmp"), { recursive: true });
const DIR = mkdtempSync(join(ROOT, ".tmp", "doc-examples-"));

const STEPS = `import type { JobContext } from "aiorch";
export async function install(ctx: JobContext, pkg: string): Promise<string> {
  ctx.log(\`installing \${pkg}\`);
  return pkg;
}
export async function double(ctx: JobContext, n: number): Promise<number> {
  ctx.log(\`doubling \${n}\`);
  return n * 2;
}
`;

function listTs(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(dir, f))
    .sort();
}

const markdownFiles = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .sort()
    .map((f) => `docs/${f}`),
];
let skipped = 0;
const docSnippets = markdownFiles.flatMap((source) => {
  const r = extractMarkdown({ source, text: readFileSync(join(ROOT, source), "utf8") });
  skipped += r.skipped;
  return r.snippets;
});
const tsdocSnippets = ["src", "dsl", "codegen"]
  .flatMap(listTs)
  .flatMap((source) => extractTsdoc({ source, text: readFileSync(join(ROOT, source), "utf8") }));

interface Written {
  file: string;
  /** lines put before the example (TSDoc prelude) */
  offset: number;
}
const written = new Map<Snippet, Written>();
let diagnostics = new Map<string, FileDiagnostic[]>();
const runs = new Map<Snippet, Promise<{ code: number | null; output: string }>>();

function fileName(s: Snippet, prefix: string): string {
  return join(
    DIR,
    `${prefix}${s.source.replace(/\.(md|ts)$/, "").replace(/[/\\]/g, "_")}-${s.index}.ts`,
  );
}

function write(s: Snippet, prelude: string[], prefix: string): void {
  const file = fileName(s, prefix);
  const isModule = prelude.length > 0 || /^\s*(import|export)\s/m.test(s.code);
  writeFileSync(file, [...prelude, s.code, ...(isModule ? [] : ["export {};"])].join("\n") + "\n");
  written.set(s, { file, offset: prelude.length });
}

function start(s: Snippet, file: string): Promise<{ code: number | null; output: string }> {
  const scenario = /^export default\s/m.test(s.code);
  const args = scenario
    ? [join(ROOT, "bin/aiorch.mjs"), "run", file, "--plain"]
    : ["--conditions=aiorch-source", "--import", "tsx", file];
  return new Promise((done) => {
    const child = spawn(process.execPath, args, {
      cwd: DIR,
      env: { ...process.env, NO_COLOR: "1" },
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d));
    child.stderr.on("data", (d: Buffer) => (output += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, output });
    });
  });
}

beforeAll(() => {
  writeFileSync(join(DIR, "steps.ts"), STEPS);
  for (const s of docSnippets) write(s, [], "");
  for (const s of tsdocSnippets)
    write(s, buildPrelude({ root: ROOT, dir: DIR, source: s.source, code: s.code }), "tsdoc-");
  // runs go on in child processes while this process type-checks
  for (const s of docSnippets) if (s.mode === "run") runs.set(s, start(s, written.get(s)!.file));
  const fileOf = (s: Snippet) => written.get(s)!.file;
  const all = [...docSnippets, ...tsdocSnippets];
  diagnostics = typeCheck({
    root: ROOT,
    files: all.filter((s) => s.mode !== "errors").map(fileOf),
  });
  // one program per `errors` example, as `tsc` on that file alone: the order of union members
  // in messages depends on what the program checked before
  for (const s of all.filter((s) => s.mode === "errors"))
    for (const [file, d] of typeCheck({ root: ROOT, files: [fileOf(s)] })) diagnostics.set(file, d);
  // a generous bound: these programs take some 15 s of CPU, over 60 s on a busy machine
}, 180_000);

afterAll(() => rmSync(DIR, { recursive: true, force: true }));

/** Diagnostics of a snippet as `line N: TSxxxx message` (N: line in the example). */
function problems(s: Snippet): string[] {
  const w = written.get(s)!;
  return (diagnostics.get(w.file) ?? []).map(
    (d) => `line ${d.line - w.offset}: TS${d.code} ${d.message}`,
  );
}

const title = (s: Snippet) => `${s.source}:${s.line} #${s.index}`;

describe("README.md and docs/*.md", () => {
  test("the examples are found", () => {
    expect(docSnippets.length).toBeGreaterThanOrEqual(15);
    expect(docSnippets.filter((s) => s.mode === "run").length).toBeGreaterThanOrEqual(5);
    expect(skipped).toBeLessThanOrEqual(2);
  });

  test.each(docSnippets.filter((s) => s.mode !== "errors").map((s) => [title(s), s] as const))(
    "%s compiles",
    (_, s) => {
      expect(problems(s), title(s)).toEqual([]);
    },
  );

  test.each(docSnippets.filter((s) => s.mode === "errors").map((s) => [title(s), s] as const))(
    "%s gives exactly the compiler output shown after it",
    (_, s) => {
      const w = written.get(s)!;
      const name = /^(\S+?)\(/.exec(s.expected?.[0] ?? "")?.[1] ?? "?";
      const got = (diagnostics.get(w.file) ?? []).map(
        (d) => `${name}(${d.line},${d.column}): error TS${d.code}: ${d.message}`,
      );
      expect(got.join("\n").split("\n"), title(s)).toEqual(s.expected);
    },
  );

  test.each(docSnippets.filter((s) => s.mode === "run").map((s) => [title(s), s] as const))(
    "%s runs and exits 0",
    async (_, s) => {
      const { code, output } = await runs.get(s)!;
      expect(code, `${title(s)}: ${relative(ROOT, written.get(s)!.file)}\n${output}`).toBe(0);
    },
  );

  test("README's compiler output is the one docs/dsl.md's example gives", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8").split("\n");
    const shown = readme.filter((l) => /^\S+\(\d+,\d+\): error TS\d+/.test(l));
    const dsl = docSnippets.find((s) => s.source === "docs/dsl.md" && s.mode === "errors");
    expect(shown.length).toBeGreaterThan(0);
    for (const line of shown) expect(dsl?.expected).toContain(line);
  });
});

describe("TSDoc examples of src/, dsl/, codegen/", () => {
  test("the examples are found", () => {
    expect(tsdocSnippets.length).toBeGreaterThanOrEqual(30);
  });

  test.each(tsdocSnippets.map((s) => [title(s), s] as const))("%s compiles", (_, s) => {
    expect(problems(s), title(s)).toEqual([]);
  });
});
