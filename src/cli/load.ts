import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { AiorchError } from "../errors.ts";
import {
  describeParamSpec,
  formatParamHelp,
  type ParamInfo,
  type ParamSpec,
  type ParamValue,
  resolveParams,
} from "../params.ts";
import { Scheduler, type RunOptions } from "../scheduler.ts";

/** A scenario ready to run: the scheduler and the run options the file asked for. */
export interface LoadedScenario {
  scheduler: Scheduler;
  options: RunOptions;
}

let tsx: Promise<void> | undefined;

/**
 * Let Node import TypeScript: tsx compiles the scenario file and its local imports, as ES
 * modules or CommonJS (whatever the scenario's package.json says, or without one). aiorch
 * itself is compiled JavaScript; in a source checkout (this file is `.ts`) the bin has
 * registered tsx already.
 */
export function registerTsx(): Promise<void> {
  if (import.meta.url.endsWith(".ts")) return Promise.resolve();
  tsx ??= (async () => {
    // aiorch's entry points load natively first: once tsx's hooks are on, every module
    // import goes through them (some 0.5 s more for aiorch's own modules)
    const [esm, cjs] = await Promise.all([
      import("tsx/esm/api"),
      import("tsx/cjs/api"),
      import("../index.ts"),
      import("../ssh/index.ts"),
      import("../../dsl/index.ts"),
    ]);
    esm.register();
    cjs.register();
  })();
  return tsx;
}

/** Something with a `build()` giving a Scheduler: the DSL builders (`aiorch/dsl`). */
interface Buildable {
  build(opts?: { params?: Record<string, string>; strictParams?: boolean }): Scheduler;
  describeParams?(): { params: ParamInfo[]; others: string[] };
}

/** What a scenario module exports. */
interface ScenarioModule {
  default?: unknown;
  options?: RunOptions;
  /** parameters of a function default export, declared beside it */
  params?: ParamSpec;
}

function isBuildable(x: unknown): x is Buildable {
  return typeof x === "object" && x !== null && typeof (x as Buildable).build === "function";
}

/** The first stack frame in the scenario file, as `line` (source-mapped by tsx). */
export function lineIn(err: unknown, path: string): number | undefined {
  const stack = err instanceof Error ? (err.stack ?? "") : "";
  const url = pathToFileURL(path).href;
  for (const frame of stack.split("\n")) {
    for (const where of [url, path]) {
      const at = frame.indexOf(`${where}:`);
      if (at < 0) continue;
      const m = /^:(\d+)(?::\d+)?/.exec(frame.slice(at + where.length));
      if (m) return Number(m[1]);
    }
  }
  return undefined;
}

/** `FILE:LINE: what: message` as a SCENARIO_INVALID error (stack kept as `cause`). */
function scenarioError(p: { file: string; path: string; err: unknown; what: string }): AiorchError {
  const line = lineIn(p.err, p.path);
  const e = p.err as Error;
  const message =
    e instanceof Error ? `${e.name === "Error" ? "" : `${e.name}: `}${e.message}` : String(e);
  return new AiorchError(
    "SCENARIO_INVALID",
    `${p.file}${line === undefined ? "" : `:${line}`}: ${p.what}: ${message}`,
    { file: p.file, ...(line === undefined ? {} : { line }), cause: p.err },
  );
}

/** Import a scenario module; a missing file is a USAGE error, a broken one SCENARIO_INVALID. */
async function importScenario(file: string): Promise<{ mod: ScenarioModule; path: string }> {
  const path = resolve(file);
  let mod: ScenarioModule;
  try {
    await registerTsx();
    mod = (await import(pathToFileURL(path).href)) as ScenarioModule;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" && String((err as Error).message).includes(path))
      throw new AiorchError("USAGE", `scenario file not found: ${file}`, { file });
    throw scenarioError({ file, path, err, what: "cannot load" });
  }
  // a CommonJS scenario (its package.json has no "type": "module", as `npm init -y` writes):
  // tsx compiles `export default x` to `exports.default = x`, which import() gives as
  // mod.default.default
  const inner = mod.default as { __esModule?: unknown } | undefined;
  if (typeof inner === "object" && inner !== null && inner.__esModule === true)
    mod = inner as ScenarioModule;
  return { mod, path };
}

/** The module's `export const params`, checked (a bad declaration names the file). */
function moduleParams(mod: ScenarioModule, file: string): ParamInfo[] {
  if (mod.params === undefined) return [];
  try {
    if (typeof mod.params !== "object" || mod.params === null || Array.isArray(mod.params))
      throw new Error("`export const params` must be an object of parameters");
    return describeParamSpec(mod.params);
  } catch (err) {
    throw new AiorchError("SCENARIO_INVALID", `${file}: ${(err as Error).message}`, {
      file,
      cause: err,
    });
  }
}

/** Call a function default export with the typed values of the module's parameters. */
async function callDefault(opts: {
  mod: ScenarioModule;
  file: string;
  path: string;
  params: Record<string, string>;
  declared: readonly ParamInfo[];
}): Promise<unknown> {
  const names = new Set(opts.declared.map((p) => p.name));
  const raw = Object.fromEntries(Object.entries(opts.params).filter(([k]) => names.has(k)));
  const values: Record<string, ParamValue> = resolveParams({
    scenario: opts.file,
    spec: opts.mod.params ?? {},
    raw,
    known: names,
    strict: false,
  });
  try {
    return await (opts.mod.default as (p: Record<string, ParamValue>) => unknown)(values);
  } catch (err) {
    if (err instanceof AiorchError) throw err;
    throw scenarioError({
      file: opts.file,
      path: opts.path,
      err,
      what: "the default export threw",
    });
  }
}

/**
 * Load a scenario file: a `.scenario.ts` (or any module) whose default export is a
 * Scheduler, a builder (`build()`), or a function of the parameters returning one of
 * those; `export const options = { timeout, window }` sets run defaults, and
 * `export const params = { … }` declares the parameters of a function default export
 * (it receives their typed values). Every `--param` name must be declared (`USAGE` for an
 * unknown one, naming the known ones); values are parsed for their declared kind.
 */
export async function loadScenario({
  file,
  params = {},
}: {
  file: string;
  params?: Record<string, string>;
}): Promise<LoadedScenario> {
  // data scenarios (and traces) go to the codegen loader, imported only when needed
  if (/\.(ya?ml|json)$/i.test(file)) {
    const given = Object.keys(params);
    if (given.length > 0)
      throw new AiorchError(
        "USAGE",
        `${file}: data scenarios take no parameters, got --param ${given.join(", ")}`,
        { file, option: "--param" },
      );
    return (await import("../../codegen/data.ts")).loadDataScenario({ file });
  }
  const { mod, path } = await importScenario(file);
  const declared = moduleParams(mod, file);
  let value = mod.default;
  const fromFunction = typeof value === "function" && !(value instanceof Scheduler);
  if (fromFunction) value = await callDefault({ mod, file, path, params, declared });
  let scheduler: Scheduler | undefined;
  if (value instanceof Scheduler) {
    checkNames({ file, params, known: declared.map((p) => p.name) });
    scheduler = value;
  } else if (isBuildable(value)) {
    if (declared.length === 0 && !fromFunction)
      scheduler = value.build({ params, strictParams: true });
    else {
      // the module's names and the builder's: each must be one of them
      const own = value.describeParams?.();
      const names = [
        ...declared.map((p) => p.name),
        ...(own?.params.map((p) => p.name) ?? []),
        ...(own?.others ?? []),
      ];
      checkNames({ file, params, known: names });
      scheduler = value.build({
        params: Object.fromEntries(
          Object.entries(params).filter(([k]) => !declared.some((p) => p.name === k)),
        ),
        strictParams: false,
      });
    }
  }
  if (!scheduler)
    throw new AiorchError(
      "SCENARIO_INVALID",
      `${file}: the default export must be a Scheduler or a scenario builder, got ${value === undefined ? "nothing" : typeof value}`,
      { file },
    );
  return { scheduler, options: { ...(mod.options ?? {}) } };
}

function checkNames(opts: { file: string; params: Record<string, string>; known: string[] }): void {
  const known = [...new Set(opts.known)];
  for (const name of Object.keys(opts.params))
    if (!known.includes(name))
      throw new AiorchError(
        "USAGE",
        `unknown parameter "${name}" for ${opts.file}` +
          (known.length
            ? ` (it takes: ${known.join(", ")})`
            : " (it takes none; a function default export declares them with `export const params = { … }`)"),
        { file: opts.file, option: "--param" },
      );
}

/**
 * The parameters section of `aiorch run FILE --help`: the module's declared parameters
 * and its builder's (a function default export is called with the defaults).
 */
export async function scenarioParamHelp({ file }: { file: string }): Promise<string> {
  if (/\.(ya?ml|json)$/i.test(file)) return "Parameters: none (data scenario)\n";
  const { mod, path } = await importScenario(file);
  const declared = moduleParams(mod, file);
  let value = mod.default;
  if (typeof value === "function" && !(value instanceof Scheduler))
    value = await callDefault({ mod, file, path, params: {}, declared });
  const own = isBuildable(value) ? value.describeParams?.() : undefined;
  const seen = new Set(declared.map((p) => p.name));
  return formatParamHelp({
    params: [...declared, ...(own?.params ?? []).filter((p) => !seen.has(p.name))],
    others: own?.others ?? [],
  });
}
