import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { AiorchError } from "../errors.ts";
import { Scheduler, type RunOptions } from "../scheduler.ts";

/** A scenario ready to run: the scheduler and the run options the file asked for. */
export interface LoadedScenario {
  scheduler: Scheduler;
  options: RunOptions;
}

/** Something with a `build()` giving a Scheduler: the DSL builder. */
interface Buildable {
  build(params?: Record<string, string>): Scheduler;
}

function isBuildable(x: unknown): x is Buildable {
  return typeof x === "object" && x !== null && typeof (x as Buildable).build === "function";
}

/**
 * Load a scenario file: a `.scenario.ts` (or any module) whose default export is a
 * Scheduler, a builder (`build()`), or a function of the `--param` values returning one
 * of those; `export const options = { timeout, window }` sets run defaults.
 */
export async function loadScenario({
  file,
  params = {},
}: {
  file: string;
  params?: Record<string, string>;
}): Promise<LoadedScenario> {
  const path = resolve(file);
  let mod: { default?: unknown; options?: RunOptions };
  try {
    mod = (await import(pathToFileURL(path).href)) as typeof mod;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" && String((err as Error).message).includes(path))
      throw new AiorchError("USAGE", `scenario file not found: ${file}`, { file });
    throw new AiorchError(
      "SCENARIO_INVALID",
      `cannot load ${file}: ${(err as Error).message ?? err}`,
      {
        file,
        cause: err,
      },
    );
  }
  let value = mod.default;
  if (typeof value === "function" && !(value instanceof Scheduler))
    value = await (value as (p: Record<string, string>) => unknown)(params);
  let scheduler: Scheduler | undefined;
  if (value instanceof Scheduler) scheduler = value;
  else if (isBuildable(value)) scheduler = value.build(params);
  if (!scheduler)
    throw new AiorchError(
      "SCENARIO_INVALID",
      `${file}: the default export must be a Scheduler or a scenario builder, got ${value === undefined ? "nothing" : typeof value}`,
      { file },
    );
  return { scheduler, options: { ...(mod.options ?? {}) } };
}
