import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { AiorchError } from "../errors.ts";
import { EXIT } from "./exit.ts";

/** Running from the sources (this repository) rather than from the compiled package. */
const FROM_SOURCES = import.meta.url.endsWith(".ts");
/** aiorch's package directory: above src/cli/, or above dist/src/cli/. */
const PACKAGE_DIR = fileURLToPath(new URL(FROM_SOURCES ? "../.." : "../../..", import.meta.url));
const SOURCE_DIRS = ["src", "dsl", "codegen"].map((d) => join(PACKAGE_DIR, d));

/** Is this a file the TypeScript checker handles (not a YAML/JSON data scenario)? */
export function isTypeScriptFile(file: string): boolean {
  return /\.(c|m)?tsx?$/i.test(file);
}

/** Where check results are remembered: $AIORCH_CACHE_DIR, else ~/.cache/aiorch. */
function cacheDir(): string {
  const env = process.env;
  if (env.AIORCH_CACHE_DIR) return env.AIORCH_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "aiorch");
}

const IMPORT_RE =
  /\b(?:from|import|require)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']|\bimport\s*["'](\.{1,2}\/[^"']+)["']/g;

/** The file a relative import names, as TypeScript and tsx find it, if it exists. */
function resolveLocal(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  const swapped = base.replace(/\.(m|c)?js$/, (_m, k: string | undefined) => `.${k ?? ""}ts`);
  for (const c of [base, swapped, `${base}.ts`, `${base}.tsx`, join(base, "index.ts")])
    if (existsSync(c) && statSync(c).isFile()) return c;
  return undefined;
}

/** The files and local modules they import (transitively), with their contents. */
function localClosure(files: readonly string[]): Map<string, string> {
  const seen = new Map<string, string>();
  const todo = files.map((f) => resolve(f));
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    if (seen.has(file)) continue;
    const text = readFileSync(file, "utf8");
    seen.set(file, text);
    for (const m of text.matchAll(IMPORT_RE)) {
      const dep = resolveLocal(file, (m[1] ?? m[2])!);
      if (dep && !seen.has(dep)) todo.push(dep);
    }
  }
  return seen;
}

/** In a source checkout, aiorch's own types change with its sources: their last change. */
function sourcesStamp(): string {
  if (!FROM_SOURCES) return "";
  let latest = 0;
  for (const dir of SOURCE_DIRS)
    for (const f of readdirSync(dir, { recursive: true, encoding: "utf8" }))
      latest = Math.max(latest, statSync(join(dir, f)).mtimeMs);
  return String(latest);
}

/** Key of one check: aiorch's version, the tsconfig and every file checked, by content. */
function checkKey(files: readonly string[]): string {
  const hash = createHash("sha256");
  const pkg = readFileSync(join(PACKAGE_DIR, "package.json"), "utf8");
  hash.update(`${(JSON.parse(pkg) as { version: string }).version}\0${sourcesStamp()}\0`);
  for (const [file, text] of [...localClosure(files)].sort(([a], [b]) => a.localeCompare(b)))
    hash.update(`${file}\0${text}\0`);
  for (let dir = dirname(resolve(files[0] ?? ".")); ; dir = dirname(dir)) {
    const config = join(dir, "tsconfig.json");
    if (existsSync(config)) {
      hash.update(`${config}\0${readFileSync(config, "utf8")}`);
      break;
    }
    if (dirname(dir) === dir) break;
  }
  return hash.digest("hex").slice(0, 32);
}

/** Outcome of {@link checkScenarioTypes}. */
export interface CheckOutcome {
  ok: boolean;
  /** the result came from the cache: nothing was compiled */
  cached: boolean;
  /** the compiler's messages (`file(line,col): error TSxxxx: …`), empty when ok */
  text: string;
  errors: number;
}

/**
 * Type-check TypeScript scenario files with aiorch's types, unless an identical check (same
 * files and local imports, same tsconfig, same aiorch) passed before. The TypeScript
 * compiler is loaded only when something has to be checked.
 */
export async function checkScenarioTypes({
  files,
}: {
  files: readonly string[];
}): Promise<CheckOutcome> {
  for (const f of files)
    if (!existsSync(f)) throw new AiorchError("USAGE", `file not found: ${f}`, { file: f });
  const key = checkKey(files);
  const stamp = join(cacheDir(), "checks", key);
  if (existsSync(stamp)) return { ok: true, cached: true, text: "", errors: 0 };
  const { typeCheckScenarios } = await import("../../codegen/typecheck.ts");
  const result = typeCheckScenarios({
    files,
    conditions: FROM_SOURCES ? ["aiorch-source"] : [],
    skip: SOURCE_DIRS,
  });
  if (result.errors === 0) {
    // remembered atomically: a concurrent run sees the stamp whole or not at all
    mkdirSync(dirname(stamp), { recursive: true });
    const tmp = `${stamp}.${process.pid}.tmp`;
    writeFileSync(tmp, `${files.map((f) => resolve(f)).join("\n")}\n`);
    renameSync(tmp, stamp);
  }
  return { ok: result.errors === 0, cached: false, text: result.text, errors: result.errors };
}

/** Print the compiler's messages and a one-line summary naming the files. */
export function reportCheck({
  outcome,
  files,
}: {
  outcome: CheckOutcome;
  files: readonly string[];
}): void {
  process.stderr.write(outcome.text);
  const what = files.length === 1 ? files[0] : `${files.length} files`;
  process.stderr.write(
    `aiorch: ${outcome.errors} type error${outcome.errors === 1 ? "" : "s"} in ${what}` +
      " (aiorch run --no-check skips the check)\n",
  );
}

/** `aiorch check FILE…`: type-check scenarios without running them (CI, pre-commit). */
export function registerCheckCommand(program: Command, setCode: (code: number) => void): void {
  program
    .command("check")
    .description("type-check scenario files (.ts) and validate data scenarios (.yaml, .json)")
    .argument("<files...>", "scenario files")
    .action(async (files: string[]) => {
      const data = files.filter((f) => !isTypeScriptFile(f));
      const code = files.filter(isTypeScriptFile);
      if (data.length) {
        const { loadDataModel } = await import("../../codegen/data.ts");
        for (const file of data) await loadDataModel({ file });
      }
      if (code.length) {
        const outcome = await checkScenarioTypes({ files: code });
        if (!outcome.ok) {
          reportCheck({ outcome, files: code });
          return setCode(EXIT.usage);
        }
      }
      process.stderr.write(`aiorch: ${files.length} file${files.length === 1 ? "" : "s"} ok\n`);
      setCode(EXIT.ok);
    });
}
