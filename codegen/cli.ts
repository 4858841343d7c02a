import { writeFile } from "node:fs/promises";
import { AiorchError } from "../src/errors.ts";
import { readTrace } from "../src/trace/file.ts";
import { checkScenarioFiles } from "./check.ts";
import { loadDataModel } from "./data.ts";
import { generateScenario } from "./emit/scenario.ts";
import { traceToModel } from "./from-trace.ts";
import type { ScenarioModel } from "./model.ts";

/** Options of {@link runCodegen}. */
export interface CodegenCliOptions {
  /** a trace (`.json` with `"format": "aiorch-trace"`) or a data scenario (`.yaml`, `.yml`, `.json`) */
  input: string;
  /** file to write; omitted: the code goes to stdout */
  output?: string;
  /** most calls per builder chain @default 200 */
  maxChain?: number;
  /** replay jobs print the recorded output again @default false */
  replayOutput?: boolean;
  /** type-check the written file under ./tsconfig.json @default false */
  check?: boolean;
}

/** Read a trace or data file as a model. */
export async function loadModel({
  file,
  replayOutput = false,
}: {
  file: string;
  replayOutput?: boolean;
}): Promise<ScenarioModel> {
  if (/\.json$/i.test(file)) {
    if (replayOutput) {
      const trace = await readTrace({ file }).catch(() => undefined);
      if (trace) return traceToModel({ trace, replayOutput });
    }
    return loadDataModel({ file });
  }
  if (/\.ya?ml$/i.test(file)) return loadDataModel({ file });
  throw new AiorchError(
    "USAGE",
    `codegen reads .json traces and .yaml/.yml/.json scenarios, got ${file}`,
    { file },
  );
}

/** `aiorch codegen INPUT [-o FILE]`: returns the code written (also printed without `-o`). */
export async function runCodegen(opts: CodegenCliOptions): Promise<string> {
  const model = await loadModel({
    file: opts.input,
    ...(opts.replayOutput ? { replayOutput: true } : {}),
  });
  const code = generateScenario({
    model,
    source: opts.input,
    ...(opts.output ? { outFile: opts.output } : {}),
    ...(opts.maxChain ? { maxChain: opts.maxChain } : {}),
  });
  if (!opts.output) {
    process.stdout.write(code);
    return code;
  }
  await writeFile(opts.output, code);
  if (opts.check) {
    const problems = checkScenarioFiles({ files: [opts.output] });
    if (problems.length)
      throw new AiorchError(
        "CODEGEN",
        `${opts.output} does not type-check:\n${problems.map((p) => `  line ${p.line ?? "?"}: ${p.message}`).join("\n")}`,
        { file: opts.output },
      );
  }
  return code;
}
