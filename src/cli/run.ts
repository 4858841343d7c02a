import type { Command } from "commander";
import { AiorchError } from "../errors.ts";
import { EXIT } from "./exit.ts";
import { loadScenario } from "./load.ts";
import { attachView, type ViewMode } from "./view.ts";

/** Parse a non-negative integer option, naming the option when it is not one. */
export function parseCount(option: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value.trim()) || !Number.isFinite(n))
      throw new AiorchError("USAGE", `${option} expects a number, got ${JSON.stringify(value)}`, {
        option,
      });
    return n;
  };
}

/** Collect repeated `--param key=value` options. */
function collectParam(value: string, prev: Record<string, string>): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq <= 0)
    throw new AiorchError("USAGE", `--param expects key=value, got ${JSON.stringify(value)}`, {
      option: "--param",
    });
  return { ...prev, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** `aiorch run FILE`: load a scenario, show it run, print the debrief when it fails. */
export function registerRunCommand(program: Command, setCode: (code: number) => void): void {
  program
    .command("run")
    .description("run a scenario file (.scenario.ts, .yaml, .json)")
    .argument("<file>", "scenario file")
    .option("--timeout <ms>", "global timeout in ms", parseCount("--timeout"))
    .option("--window <n>", "most jobs running at once", parseCount("--window"))
    .option("--plan", "print the job list and exit without running")
    .option("--quiet", "print nothing but the debrief of a failed run")
    .option("--plain", "one line per event, even on a terminal")
    .option("--record <trace>", "write a trace of the run (JSON) to this file")
    .option("--param <key=value>", "scenario parameter (repeatable)", collectParam, {})
    .action(async (file: string, opts: RunCliOptions) => {
      setCode(await runCommand(file, opts));
    });
}

/** Options of `aiorch run`. */
export interface RunCliOptions {
  timeout?: number;
  window?: number;
  plan?: boolean;
  quiet?: boolean;
  plain?: boolean;
  record?: string;
  param: Record<string, string>;
}

async function runCommand(file: string, opts: RunCliOptions): Promise<number> {
  const { scheduler, options } = await loadScenario({ file, params: opts.param });
  scheduler.validate();
  if (opts.plan) {
    process.stdout.write(`${scheduler.list()}\n`);
    return EXIT.ok;
  }
  const mode: ViewMode = opts.quiet
    ? "quiet"
    : opts.plain || !process.stdout.isTTY
      ? "plain"
      : "live";
  const ac = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    process.stderr.write(`aiorch: ${sig}, cancelling the run (again to quit now)\n`);
    ac.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const view = attachView({ scheduler, mode });
  try {
    const ok = await scheduler.run({
      ...options,
      ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
      ...(opts.window !== undefined ? { window: opts.window } : {}),
      signal: ac.signal,
    });
    view.stop();
    if (!ok) process.stdout.write(`${scheduler.debrief()}\n`);
    return ok ? EXIT.ok : EXIT.failed;
  } finally {
    view.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
