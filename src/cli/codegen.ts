import type { Command } from "commander";
import { EXIT } from "./exit.ts";
import { parseCount } from "./run.ts";

/** Options of `aiorch codegen`. */
interface CodegenOptions {
  output?: string;
  maxChain?: number;
  replayOutput?: boolean;
  check?: boolean;
}

/** `aiorch codegen TRACE|YAML|JSON [-o FILE]`: emit a `.scenario.ts` (loads ts-morph lazily). */
export function registerCodegenCommand(program: Command, setCode: (code: number) => void): void {
  program
    .command("codegen")
    .description("generate a .scenario.ts from a recorded trace or a YAML/JSON scenario")
    .argument("<input>", "run.trace.json, scenario.yaml, scenario.json")
    .option("-o, --output <file>", "file to write (default: stdout)")
    .option("--max-chain <n>", "most calls per builder chain", parseCount("--max-chain"))
    .option("--replay-output", "replay jobs print the recorded output again")
    .option("--check", "type-check the written file under ./tsconfig.json")
    .action(async (input: string, opts: CodegenOptions) => {
      // codegen (and ts-morph) stays out of the engine: loaded only for this command
      const { runCodegen } = await import("../../codegen/cli.ts");
      await runCodegen({
        input,
        ...(opts.output ? { output: opts.output } : {}),
        ...(opts.maxChain ? { maxChain: opts.maxChain } : {}),
        ...(opts.replayOutput ? { replayOutput: true } : {}),
        ...(opts.check ? { check: true } : {}),
      });
      if (opts.output) process.stderr.write(`aiorch: wrote ${opts.output}\n`);
      setCode(EXIT.ok);
    });
}
