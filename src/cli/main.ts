import { Command, CommanderError } from "commander";
import { AiorchError, describeError } from "../errors.ts";
import { registerCheckCommand } from "./check.ts";
import { registerCodegenCommand } from "./codegen.ts";
import { EXIT } from "./exit.ts";
import { registerGraphCommands } from "./graph.ts";
import { registerRunCommand } from "./run.ts";
import { registerSshCommands } from "./ssh.ts";
import { registerWorkerCommand } from "./worker.ts";
import { visibleText } from "../render/cells.ts";

/**
 * Entry point of the `aiorch` command; returns the exit code (see `EXIT`).
 * Subcommands live one per file and register themselves on the program.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command("aiorch")
    .description("orchestrate dependent async jobs, locally and over SSH")
    .version("0.1.0")
    .option("--debug", "print stack traces of errors")
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  let code: number = EXIT.ok;
  const setCode = (c: number): void => {
    code = c;
  };
  registerRunCommand(program, setCode);
  registerCheckCommand(program, setCode);
  registerSshCommands(program, setCode);
  registerGraphCommands(program, setCode);
  registerCodegenCommand(program, setCode);
  registerWorkerCommand(program, setCode);
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; everything else is a usage error
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const debug = program.opts<{ debug?: boolean }>().debug === true;
    // a message may quote untrusted text (a label, a server's answer): controls shown
    process.stderr.write(
      `aiorch: ${visibleText(describeError(err))}\n${debug ? stackOf(err) : ""}`,
    );
    if (err instanceof AiorchError)
      return err.code === "USAGE" ||
        err.code === "SCENARIO_INVALID" ||
        err.code === "SSH_CONFIG" ||
        err.code === "TRACE" ||
        err.code === "JOURNAL" ||
        err.code === "RESUME_MISMATCH" ||
        isValidation(err)
        ? EXIT.usage
        : EXIT.failed;
    return EXIT.failed;
  }
  return code;
}

/** Stacks of an error and its causes (only with `--debug`). */
function stackOf(err: unknown): string {
  const out: string[] = [];
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++)
    out.push(`${depth ? "caused by: " : ""}${e.stack ?? e.message}`);
  return out.length ? `${out.join("\n")}\n` : "";
}

function isValidation(err: AiorchError): boolean {
  return [
    "CYCLE",
    "UNKNOWN_REQUIREMENT",
    "DUPLICATE_LABEL",
    "JOB_IN_TWO_SCHEDULERS",
    "SELF_REQUIREMENT",
    "INVALID_ARGUMENT",
    "REDIS_UNREACHABLE",
    "REDIS_VERSION",
    "NO_WORKER",
  ].includes(err.code);
}
