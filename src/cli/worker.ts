/**
 * `aiorch worker --redis URL [--site NAME] [--concurrency N] [--root DIR]`: run jobs handed out by
 * `aiorch run FILE --redis URL` until SIGINT/SIGTERM, then cancel the running ones (their
 * remote processes are stopped), close the connections and exit 0. Redis unreachable or
 * too old at start: exit 2.
 */
import type { Command } from "commander";
import { resolve } from "node:path";
import { AiorchError } from "../errors.ts";
import { EXIT } from "./exit.ts";
import { parseCount } from "./run.ts";

/** Options of `aiorch worker`. */
interface WorkerCliOptions {
  redis: string;
  site?: string;
  concurrency?: number;
  lockDuration?: number;
  redisWait?: number;
  quiet?: boolean;
  root?: string;
}

const SITE = /^[A-Za-z0-9._-]{1,64}$/;

/** Register `aiorch worker`. */
export function registerWorkerCommand(program: Command, setCode: (code: number) => void): void {
  program
    .command("worker")
    .description("run jobs of `aiorch run --redis` runs taken from Redis (BullMQ)")
    .requiredOption("--redis <url>", "Redis server, redis://HOST:PORT")
    .option("--site <name>", "serve the jobs of nodes with this site")
    .option("--concurrency <n>", "jobs run at once (default 50)", parseCount("--concurrency"))
    .option(
      "--lock-duration <ms>",
      "ms after which the jobs of a silent (dead) worker go to another one (default 30000)",
      parseCount("--lock-duration"),
    )
    .option(
      "--redis-wait <ms>",
      "how long Redis may be unreachable at start (default 5000)",
      parseCount("--redis-wait"),
    )
    .option(
      "--root <dir>",
      "this machine's checkout of the project: import module jobs' modules from DIR plus their path relative to the run's project root (`aiorch run --root`), never from outside DIR; default: at the controller's absolute paths",
    )
    .option("--quiet", "print nothing but errors")
    .action(async (opts: WorkerCliOptions) => {
      setCode(await runWorker(opts));
    });
}

async function runWorker(opts: WorkerCliOptions): Promise<number> {
  if (opts.site !== undefined && !SITE.test(opts.site))
    throw new AiorchError(
      "USAGE",
      `--site expects letters, digits, ".", "_" or "-", got ${JSON.stringify(opts.site)}`,
      { option: "--site" },
    );
  if (
    opts.concurrency !== undefined &&
    !(Number.isInteger(opts.concurrency) && opts.concurrency > 0)
  )
    throw new AiorchError("USAGE", "--concurrency expects a whole number above 0", {
      option: "--concurrency",
    });
  const { startWorker } = await import("../queue/worker.ts");
  const say = (line: string) => {
    if (!opts.quiet) process.stderr.write(`aiorch worker: ${line}\n`);
  };
  const worker = await startWorker({
    redis: opts.redis,
    ...(opts.site !== undefined ? { site: opts.site } : {}),
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    ...(opts.lockDuration !== undefined ? { lockDuration: opts.lockDuration } : {}),
    ...(opts.redisWait !== undefined ? { connectTimeout: opts.redisWait } : {}),
    ...(opts.root !== undefined ? { root: opts.root } : {}),
    log: say,
  });
  say(
    `${worker.name} ready${opts.site ? ` for site ${opts.site}` : ""}${opts.root ? ` with --root ${resolve(opts.root)}` : ""}`,
  );
  await new Promise<void>((resolve) => {
    const stop = (sig: NodeJS.Signals) => {
      say(`${sig}, stopping`);
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await worker.close();
  return EXIT.ok;
}
