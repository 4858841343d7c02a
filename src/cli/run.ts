import type { Command } from "commander";
import { AiorchError } from "../errors.ts";
import type { AbstractJob } from "../job.ts";
import type { ResumePlan } from "../journal/plan.ts";
import type { Scheduler } from "../scheduler.ts";
import { killAllNow } from "../ssh/groups.ts";
import { checkScenarioTypes, isTypeScriptFile, reportCheck } from "./check.ts";
import { EXIT, exitSoon, signalExit } from "./exit.ts";
import { PARAM_FLAG } from "../params.ts";
import type { LineFormat, ViewMode } from "./view.ts";
import { basename, dirname, resolve } from "node:path";

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

/** Collect repeated `--param key=value` options; a bare `--param name` is a boolean flag. */
function collectParam(value: string, prev: Record<string, string>): Record<string, string> {
  const eq = value.indexOf("=");
  const name = eq < 0 ? value : value.slice(0, eq);
  if (!/^[A-Za-z_][\w-]*$/.test(name))
    throw new AiorchError(
      "USAGE",
      `--param expects name=value (or a flag name), got ${JSON.stringify(value)}`,
      { option: "--param" },
    );
  return { ...prev, [name]: eq < 0 ? PARAM_FLAG : value.slice(eq + 1) };
}

/** `aiorch run FILE`: load a scenario, show it run, print the debrief when it fails. */
export function registerRunCommand(program: Command, setCode: (code: number) => void): void {
  program
    .command("run")
    .description("run a scenario file (.scenario.ts, .yaml, .json)")
    .argument("[file]", "scenario file")
    .helpOption(false)
    .option("-h, --help", "show this help; with FILE, also the scenario's parameters")
    .option("--timeout <ms>", "global timeout in ms", parseCount("--timeout"))
    .option("--window <n>", "most jobs running at once", parseCount("--window"))
    .option("--plan", "print the job list and exit without running")
    .option("--quiet", "print nothing but the debrief of a failed run")
    .option("--plain", "one line per event, even on a terminal")
    .option(
      "--record <trace>",
      "write a trace of the run (JSON) to this file, and a journal beside it (.journal.jsonl)",
    )
    .option(
      "--resume <trace|journal|run-id>",
      "run again, restoring the jobs that ended done in that run instead of running them; with --redis, a run id: re-attach to a run whose controller died",
    )
    .option("--report <html>", "write an HTML report of the run (timeline, graph, debrief)")
    .option(
      "--param <name=value>",
      "scenario parameter (repeatable; lists as a,b,c; a bare name sets a boolean; see FILE --help)",
      collectParam,
      {},
    )
    .option("--lines", "on a terminal, also print node output lines above the live view")
    .option(
      "--format <format>",
      "node output lines: host (fit01:line), time-host, raw, log (timestamped event lines)",
      lineFormat,
    )
    .option("--strict", "exit 1 when any job failed, critical or not")
    .option("--no-check", "run without type-checking the scenario first (also AIORCH_CHECK=0)")
    .option(
      "--redis <url>",
      "hand command and module jobs to `aiorch worker`s through Redis (redis://HOST:PORT)",
    )
    .option(
      "--worker-wait <ms>",
      "with --redis: how long to wait for a worker per site (default 10000)",
      parseCount("--worker-wait"),
    )
    .option(
      "--redis-wait <ms>",
      "with --redis: how long Redis may be unreachable, at start (default 5000) and mid-run (default 10000), before the run fails",
      parseCount("--redis-wait"),
    )
    .option(
      "--root <dir>",
      "with --redis: the project root module jobs' paths are sent relative to, for workers whose checkout lies elsewhere (`aiorch worker --root`); default: the nearest folder with a package.json above FILE, else FILE's folder",
    )
    .action(async (file: string | undefined, opts: RunCliOptions, cmd: Command) => {
      if (opts.help) {
        process.stdout.write(cmd.helpInformation());
        if (file !== undefined) {
          const { scenarioParamHelp } = await import("./load.ts");
          process.stdout.write(`\n${await scenarioParamHelp({ file })}`);
        }
        setCode(EXIT.ok);
        return;
      }
      if (file === undefined)
        throw new AiorchError("USAGE", "run: give a scenario file (aiorch run FILE)");
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
  resume?: string;
  report?: string;
  param: Record<string, string>;
  lines?: boolean;
  format?: LineFormat;
  strict?: boolean;
  /** type-check a TypeScript scenario before loading it (`--no-check`: false) */
  check: boolean;
  help?: boolean;
  redis?: string;
  workerWait?: number;
  redisWait?: number;
  root?: string;
}

const LINE_FORMATS: readonly string[] = ["host", "time-host", "raw", "log"];

function lineFormat(value: string): LineFormat {
  if (LINE_FORMATS.includes(value)) return value as LineFormat;
  throw new AiorchError(
    "USAGE",
    `--format expects ${LINE_FORMATS.join(", ")}, got ${JSON.stringify(value)}`,
    { option: "--format" },
  );
}

async function runCommand(file: string, opts: RunCliOptions): Promise<number> {
  if (opts.root !== undefined && opts.redis === undefined)
    throw new AiorchError("USAGE", "--root needs --redis", { option: "--root" });
  if (opts.check && process.env.AIORCH_CHECK !== "0" && isTypeScriptFile(file)) {
    const outcome = await checkScenarioTypes({ files: [file] });
    if (!outcome.ok) {
      reportCheck({ outcome, files: [file] });
      return EXIT.usage;
    }
  }
  // loaded here, not at the top: registering the command (every `aiorch` start) stays cheap
  const [{ loadScenario }, { attachView }, { recordToFile }] = await Promise.all([
    import("./load.ts"),
    import("./view.ts"),
    import("../trace/record.ts"),
  ]);
  const { scheduler, options } = await loadScenario({ file, params: opts.param });
  if (opts.plan) {
    scheduler.validate();
    process.stdout.write(`${scheduler.list()}\n`);
    return EXIT.ok;
  }
  // --record: the trace is written atomically on every end (ok, failure, timeout, signal)
  const rec = opts.record
    ? recordToFile({
        scheduler,
        trace: opts.record,
        file: resolve(file),
        onJournalError: (err) => process.stderr.write(`aiorch: ${err.message}\n`),
      })
    : undefined;
  const overrides = {
    ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
    ...(opts.window !== undefined ? { window: opts.window } : {}),
  };
  let signalName: NodeJS.Signals | undefined;
  try {
    scheduler.validate();
  } catch (error) {
    await rec?.write({ ok: false, error, ...overrides });
    rec?.stop();
    throw error;
  }
  let restore: ReadonlyMap<AbstractJob, unknown> | undefined;
  // with --redis, --resume names a run whose state lives in Redis (the controller resumes it)
  if (opts.resume !== undefined && opts.redis === undefined) {
    try {
      restore = await planFromJournal({
        scheduler,
        source: opts.resume,
        quiet: opts.quiet === true,
      });
    } catch (error) {
      rec?.stop();
      throw error;
    }
  }
  const mode: ViewMode = opts.quiet
    ? "quiet"
    : opts.plain || !process.stdout.isTTY
      ? "plain"
      : "live";
  const ac = new AbortController();
  const dist = opts.redis === undefined ? undefined : await distribute(scheduler, opts, file, ac);
  // --redis --resume: the run's journal in Redis decides, as a journal file would
  if (dist?.resumePlan) {
    restore = dist.resumePlan.restore;
    if (!opts.quiet) sayResume(dist.resumePlan, `the journal of run ${dist.runId} in Redis`);
  }
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    signalName ??= sig;
    if (interrupts > 1) {
      try {
        // what still runs remotely gets KILL on its way out (no waiting)
        killAllNow();
        rec?.writeSync({ ok: false, signal: signalName, ...overrides });
      } finally {
        process.exit(signalExit(signalName));
      }
    }
    view.note(`aiorch: ${sig}, cancelling the run (again to quit now)`);
    ac.abort();
  };
  // nothing left that could end a running job (it awaits a promise that never settles):
  // cancel, so the debrief is printed and the trace written instead of a silent exit 13
  let stalled = false;
  const onIdle = () => {
    if (stalled || ac.signal.aborted) return;
    stalled = true;
    const waiting = [...scheduler.allJobs()].filter((j) => j.state === "running");
    view.note(
      `aiorch: nothing left to wait for, ${waiting.map((j) => `"${j.label}"`).join(", ")} never settle(s): cancelling the run`,
    );
    ac.abort();
  };
  // the view prints the final screen (the debrief; in quiet mode only for a failed run)
  const view = attachView({
    scheduler,
    mode,
    title: basename(file),
    ...(opts.format !== undefined || opts.lines ? { lines: opts.format ?? "host" } : {}),
    ...(opts.report !== undefined ? { report: opts.report } : {}),
  });
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("beforeExit", onIdle);
  try {
    let ok: boolean;
    try {
      ok = await scheduler.run({
        ...options,
        ...overrides,
        signal: ac.signal,
        ...(restore ? { restore } : {}),
      });
    } catch (error) {
      await rec?.write({ ok: false, error, ...overrides });
      throw error;
    }
    await rec?.write({ ok, ...overrides, ...(signalName ? { signal: signalName } : {}) });
    view.stop();
    await dist?.close({ ok });
    const lost = dist?.failure();
    if (lost) {
      // BullMQ's clients of a vanished Redis keep retrying in the background: do not wait
      exitSoon(EXIT.usage);
      throw lost;
    }
    const code = signalName
      ? signalExit(signalName)
      : !ok || (opts.strict && anyJobFailed(scheduler))
        ? EXIT.failed
        : EXIT.ok;
    exitSoon(code);
    return code;
  } finally {
    await dist?.close();
    rec?.stop();
    view.stop();
    process.off("beforeExit", onIdle);
    // once interrupted, a second signal still quits at once until the process exits
    if (!signalName) {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
  }
}

/** `--strict`: any job of the tree (nested schedulers included) that failed. */
function anyJobFailed(scheduler: Scheduler): boolean {
  for (const job of scheduler.allJobs({ schedulers: true })) if (job.isFailed()) return true;
  return false;
}

/** `--redis`: connect, check workers, hand describable jobs out; tells the run id on stderr. */
async function distribute(
  scheduler: Scheduler,
  opts: RunCliOptions,
  file: string,
  ac: AbortController,
) {
  const { distributeRun } = await import("../queue/controller.ts");
  const dist = await distributeRun({
    scheduler,
    redis: opts.redis as string,
    title: basename(file),
    baseDir: dirname(resolve(file)),
    ...(opts.root !== undefined ? { root: opts.root } : {}),
    ...(opts.resume !== undefined ? { resume: opts.resume } : {}),
    ...(opts.workerWait !== undefined ? { workerWait: opts.workerWait } : {}),
    ...(opts.redisWait !== undefined
      ? { redisDownLimit: opts.redisWait, connectTimeout: opts.redisWait }
      : {}),
    onFatal: () => ac.abort(),
    onJournalError: (err) => process.stderr.write(`aiorch: ${err.message}\n`),
  });
  const where = [...dist.sites].map(([s, n]) => `${n} on ${s}`).join(", ") || "none";
  const byKind = [...dist.kinds]
    .map(([k, c]) =>
      [c.workers ? `${c.workers} on workers` : "", c.here ? `${c.here} here` : ""]
        .filter(Boolean)
        .map((w) => `${k} ${w}`)
        .join(", "),
    )
    .join(", ");
  process.stderr.write(
    `aiorch: run ${dist.runId} (resume with --resume ${dist.runId}); jobs on workers: ${where}; in this process: ${dist.local.length}${byKind ? `; by kind: ${byKind}` : ""}\n`,
  );
  return dist;
}

/**
 * `--resume`: read the journal (or trace), decide what to restore, and say it on stderr:
 * a torn line, one line per done job that runs again and why, then the counts.
 */
async function planFromJournal({
  scheduler,
  source,
  quiet,
}: {
  scheduler: Scheduler;
  source: string;
  quiet: boolean;
}): Promise<ReadonlyMap<AbstractJob, unknown>> {
  const { planResume, readResumeSource } = await import("../journal/index.ts");
  const journal = readResumeSource({ file: source });
  const plan = planResume({ scheduler, journal });
  if (!quiet) sayResume(plan, journal.file);
  return plan.restore;
}

/** What a resume restores and runs again, on stderr. */
function sayResume(plan: ResumePlan, from: string): void {
  const lines = [
    ...plan.warnings.map((w) => `aiorch: ${w}`),
    ...plan.rerun.map((r) => `aiorch: resume: "${r.label}" runs again: ${r.why}`),
    `aiorch: resuming from ${from}: ${plan.restore.size} job(s) restored, ${plan.toRun} to run`,
  ];
  process.stderr.write(`${lines.join("\n")}\n`);
}
