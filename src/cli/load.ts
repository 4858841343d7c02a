import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { AiorchError } from "../errors.ts";
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
function registerTsx(): Promise<void> {
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

/**
 * Load a scenario file: a `.scenario.ts` (or any module) whose default export is a
 * Scheduler, a builder (`build()`), or a function of the `--param` values returning one
 * of those; `export const options = { timeout, window }` sets run defaults. A builder
 * declaring `params` checks the `--param` names (`USAGE` for an unknown one) and coerces
 * the values to the defaults' types.
 */
export async function loadScenario({
  file,
  params = {},
}: {
  file: string;
  params?: Record<string, string>;
}): Promise<LoadedScenario> {
  // data scenarios (and traces) go to the codegen loader, imported only when needed
  if (/\.(ya?ml|json)$/i.test(file))
    return (await import("../../codegen/data.ts")).loadDataScenario({ file, params });
  const path = resolve(file);
  let mod: { default?: unknown; options?: RunOptions };
  try {
    await registerTsx();
    mod = (await import(pathToFileURL(path).href)) as typeof mod;
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
    mod = inner as typeof mod;
  let value = mod.default;
  // a function of the --param values consumes them itself: its builder is not strict
  const fromFunction = typeof value === "function" && !(value instanceof Scheduler);
  if (fromFunction) {
    try {
      value = await (value as (p: Record<string, string>) => unknown)(params);
    } catch (err) {
      if (err instanceof AiorchError) throw err;
      throw scenarioError({ file, path, err, what: "the default export threw" });
    }
  }
  let scheduler: Scheduler | undefined;
  if (value instanceof Scheduler) {
    const given = Object.keys(params);
    if (!fromFunction && given.length > 0)
      throw new AiorchError(
        "USAGE",
        `${file} takes no parameters (its default export is a Scheduler), got --param ${given.join(", ")}`,
        { file, option: "--param" },
      );
    scheduler = value;
  } else if (isBuildable(value)) scheduler = value.build({ params, strictParams: !fromFunction });
  if (!scheduler)
    throw new AiorchError(
      "SCENARIO_INVALID",
      `${file}: the default export must be a Scheduler or a scenario builder, got ${value === undefined ? "nothing" : typeof value}`,
      { file },
    );
  return { scheduler, options: { ...(mod.options ?? {}) } };
}
