import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { AiorchError } from "../src/errors.ts";
import type { RunOptions, Scheduler } from "../src/scheduler.ts";
import { checkTrace } from "../src/trace/file.ts";
import { buildFromModel } from "./build.ts";
import { parseWithPositions } from "./data/checker.ts";
import { dataToModel } from "./data/schema.ts";
import { traceToModel } from "./from-trace.ts";
import type { ScenarioModel } from "./model.ts";

/**
 * Parse a data scenario (YAML or JSON text, format in docs/codegen.md) into a model.
 * Errors are `SCENARIO_INVALID` and read `file:line:col: jobs[2].commands[0]: unexpected
 * key "comand" (allowed: …)`. A JSON trace (`"format": "aiorch-trace"`) is accepted too.
 *
 * @example
 * ```ts
 * const model = parseDataScenario({ text: "scenario: s\njobs: []\n", file: "s.yaml" });
 * ```
 */
export function parseDataScenario({
  text,
  file = "scenario.yaml",
  baseDir = dirname(resolve(file)),
}: {
  text: string;
  /** name used in messages @default "scenario.yaml" */
  file?: string;
  /** folder relative module paths are resolved against @default the file's folder */
  baseDir?: string;
}): ScenarioModel {
  const { data, checker } = parseWithPositions({ text, file });
  if (data && typeof data === "object" && (data as { format?: unknown }).format === "aiorch-trace")
    return traceToModel({ trace: checkTrace({ data, file }) });
  return dataToModel({ data, checker, baseDir });
}

/** Read and parse a data scenario file (`.yaml`, `.yml`, `.json`). */
export async function loadDataModel({ file }: { file: string }): Promise<ScenarioModel> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new AiorchError(
      code === "ENOENT" ? "USAGE" : "SCENARIO_INVALID",
      code === "ENOENT"
        ? `scenario file not found: ${file}`
        : `cannot read ${file}: ${(err as Error).message}`,
      { file },
    );
  }
  return parseDataScenario({ text, file });
}

/**
 * Load a data scenario ready to run, as `aiorch run scenario.yaml` does.
 * @example
 * ```ts
 * const { scheduler } = await loadDataScenario({ file: "deploy.yaml" });
 * await scheduler.run();
 * ```
 */
export async function loadDataScenario({
  file,
}: {
  file: string;
  /** accepted for symmetry with `.scenario.ts` files; data scenarios take no parameters */
  params?: Record<string, string>;
}): Promise<{ scheduler: Scheduler; options: RunOptions }> {
  const model = await loadDataModel({ file });
  return { scheduler: await buildFromModel({ model }), options: {} };
}
