/**
 * The controller side of `aiorch run --redis`: the scheduler stays here and decides what
 * starts when (requirements, window, timeout, criticality); every job that can be told as
 * data (see spec.ts: command jobs, module jobs) runs on a worker instead of in this
 * process, and what it returns is what dependents read. Its queue job id is
 * derived from the run id and the job's definition, so `--resume RUN_ID` finds the jobs of
 * the crashed controller in Redis: done ones give their result without running again,
 * running ones are awaited, others are queued.
 */
import { randomBytes } from "node:crypto";
import { realpathSync, statSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import { AiorchError, CancelledError } from "../errors.ts";
import { emitOutput } from "../context.ts";
import { type AbstractJob, Job, type JobContext } from "../job.ts";
import { Scheduler } from "../scheduler.ts";
import { SshJob } from "../ssh/job.ts";
import { moduleCallOf } from "../trace/describe.ts";
import { createJournal } from "../journal/writer.ts";
import { planResume, type ResumePlan } from "../journal/plan.ts";
import { readRedisJournal, redisJournalSink } from "./journal.ts";
import {
  connectionOptions,
  connectRedis,
  parseRedisUrl,
  type RedisTarget,
  unreachable,
} from "./redis.ts";
import {
  type JobSpec,
  jobIdOf,
  localFilesOf,
  moduleSpecOf,
  readFiles,
  specOf,
  travellingVars,
} from "./spec.ts";
import { projectRootOf } from "./root.ts";
import {
  CANCEL_CHANNEL,
  cancelKey,
  decodeError,
  decodeResult,
  PREFIX,
  queueName,
  runKey,
  type WireProgress,
  type WireResult,
} from "./wire.ts";

/** Options of {@link distributeRun}. */
export interface DistributeOptions {
  /** the run whose describable jobs go to workers */
  scheduler: Scheduler;
  /** `redis://HOST:PORT` */
  redis: string;
  /** re-attach to this run (after a controller crash) instead of starting a new one */
  resume?: string;
  /** ms to wait for at least one worker per site the run needs @default 10_000 */
  workerWait?: number;
  /** ms to reach Redis at start @default 5000 */
  connectTimeout?: number;
  /** ms Redis may stay unreachable mid-run before the run fails @default 10_000 */
  redisDownLimit?: number;
  /** ms a cancelled job's worker gets to confirm it stopped @default 15_000 */
  cancelGrace?: number;
  /** called when Redis is gone for good: abort the run there */
  onFatal?: (error: AiorchError) => void;
  /** a journal write to Redis failed (the run goes on, unjournaled) */
  onJournalError?: (error: Error) => void;
  /** what the scenario is, stored with the run (shown by nothing secret) */
  title?: string;
  /**
   * directory module jobs' relative modules are resolved against when the file that
   * called `moduleJob` is not known (the scenario file's) @default none
   */
  baseDir?: string;
  /**
   * the project root sent with module jobs (`aiorch worker --root` maps their modules from
   * it to the worker's checkout) @default the nearest folder holding a `package.json` at or
   * above `baseDir`, else `baseDir`; without `baseDir`, each module's own
   */
  root?: string;
}

/** Where the jobs of one kind went. */
export interface KindCount {
  /** handed to workers */
  workers: number;
  /** run in the controller */
  here: number;
}

/** A run handed to workers. */
export interface Distribution {
  /** give it to `--resume` after a controller crash */
  readonly runId: string;
  /** jobs that run on workers, by site (`default` without one) */
  readonly sites: ReadonlyMap<string, number>;
  /** jobs that stay in the controller, with why */
  readonly local: ReadonlyArray<{ label: string; kind: string; reason: string }>;
  /**
   * per job kind (`commands`, `module`, or the job's class: `Job`, `Scheduler`…), how
   * many went to workers and how many stay here, in the order first met
   */
  readonly kinds: ReadonlyMap<string, KindCount>;
  /**
   * with `resume`: what the run's journal in Redis says to restore (give `restore` to
   * `scheduler.run()`) and to run again; undefined for a new run, or a run journaled by
   * no one (then done queue jobs are still found by their ids)
   */
  readonly resumePlan: ResumePlan | undefined;
  /** the error that ended the run from the Redis side (Redis gone), if any */
  failure(): AiorchError | undefined;
  /** record the end of the run, restore the jobs, close the Redis connections */
  close(opts?: { ok?: boolean }): Promise<void>;
}

/** A job handed to workers. */
interface Remote {
  spec: JobSpec;
  site: string;
  path: string[];
}

interface Pending {
  ctx: JobContext;
  settle(result: WireResult | Error): void;
}

const RUN_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** finished queue jobs are kept this long, for `--resume` (s) */
const KEEP_S = 7 * 24 * 3600;

/**
 * Hand a scheduler's describable jobs to workers; call before `scheduler.run()`.
 * Fails with `REDIS_UNREACHABLE`, `REDIS_VERSION` or `NO_WORKER` before anything runs.
 */
export async function distributeRun(opts: DistributeOptions): Promise<Distribution> {
  const target = parseRedisUrl(opts.redis);
  if (opts.resume !== undefined && !RUN_ID.test(opts.resume))
    throw new AiorchError(
      "USAGE",
      `--resume expects a run id, got ${JSON.stringify(opts.resume)}`,
      {
        option: "--resume",
      },
    );
  const root = projectRoot(opts);
  const client = await connectRedis({
    target,
    ...(opts.connectTimeout !== undefined ? { timeoutMs: opts.connectTimeout } : {}),
  });
  try {
    return await setUp(opts, target, client, root);
  } catch (err) {
    client.disconnect();
    throw err;
  }
}

async function setUp(
  opts: DistributeOptions,
  target: RedisTarget,
  client: Redis,
  root: string | undefined,
): Promise<Distribution> {
  const runId =
    opts.resume ?? `${new Date().toISOString().slice(0, 10)}-${randomBytes(5).toString("hex")}`;
  const key = runKey(runId);
  if (opts.resume !== undefined && !(await client.exists(key)))
    throw new AiorchError("USAGE", `no run ${runId} in Redis at ${target.display} (--resume)`, {
      option: "--resume",
      url: target.display,
    });
  // the journal's rules decide a resume: done jobs restored, the controller's own too;
  // changed ones and their dependents run again, with fresh queue jobs
  const journal = opts.resume === undefined ? undefined : await readRedisJournal({ client, runId });
  // before the run's state is touched: another scenario's run is refused as it was
  const resumePlan = journal && planResume({ scheduler: opts.scheduler, journal });
  await client.hset(key, {
    ...(opts.resume === undefined ? { created: new Date().toISOString() } : {}),
    title: opts.title ?? "",
    state: "running",
    controller: String(process.pid),
  });
  await client.expire(key, KEEP_S);
  const again: ReadonlySet<AbstractJob> = resumePlan?.again ?? new Set();
  const sink = redisJournalSink({
    client,
    runId,
    keepSeconds: KEEP_S,
    onError: (err) =>
      opts.onJournalError?.(
        new AiorchError("JOURNAL", `cannot write the journal of run ${runId}: ${err.message}`, {
          cause: err,
        }),
      ),
  });
  const writer = createJournal({ scheduler: opts.scheduler, journal: sink });

  // which jobs go where
  const remote = new Map<AbstractJob, Remote>();
  const local: Array<{ label: string; kind: string; reason: string }> = [];
  const sites = new Map<string, number>();
  const kinds = new Map<string, KindCount>();
  const walk = async (s: Scheduler, path: string[]) => {
    for (const job of s.jobs) {
      if (job instanceof Scheduler) {
        await walk(job, [...path, job.label]);
        continue;
      }
      const call = job instanceof Job ? moduleCallOf(job.fn) : undefined;
      const kind = call ? "module" : job instanceof SshJob ? "commands" : job.kind;
      const a = call ? await moduleSpecOf(job, call, opts.baseDir, root) : specOf(job);
      const count = kinds.get(kind) ?? { workers: 0, here: 0 };
      kinds.set(kind, count);
      if ("reason" in a) {
        local.push({ label: job.label, kind, reason: a.reason });
        count.here++;
        continue;
      }
      count.workers++;
      const site = queueName(a.site);
      remote.set(job, { spec: a.spec, site, path });
      sites.set(site, (sites.get(site) ?? 0) + 1);
    }
  };
  await walk(opts.scheduler, []);

  const connection = connectionOptions(target);
  const queues = new Map<string, Queue>();
  const events: QueueEvents[] = [];
  const pending = new Map<string, Pending>();
  let fatal: AiorchError | undefined;
  const fail = (error: AiorchError) => {
    if (fatal) return;
    fatal = error;
    for (const p of pending.values()) p.settle(error);
    pending.clear();
    opts.onFatal?.(error);
  };
  const closeAll = async () => {
    clearInterval(watch);
    // a Redis that is gone makes a graceful close wait forever: bounded, then cut
    const all = [...events, ...queues.values()];
    // (the bounds' timers unref'd: they never keep the process alive)
    const bound = (ms: number) => sleep(ms, undefined, { ref: false });
    await Promise.race([Promise.allSettled(all.map((x) => x.close())), bound(fatal ? 0 : 2000)]);
    await Promise.race([Promise.allSettled(all.map((x) => x.disconnect())), bound(1000)]);
    client.disconnect();
  };

  // Redis gone mid-run: ioredis retries; past the limit, the run fails (exit 2 in the CLI)
  let downSince: number | undefined;
  client.on("close", () => {
    downSince ??= Date.now();
  });
  client.on("ready", () => {
    downSince = undefined;
  });
  const downLimit = opts.redisDownLimit ?? 10_000;
  const watch = setInterval(() => {
    if (downSince !== undefined && Date.now() - downSince > downLimit)
      fail(
        unreachable(target, new Error(`no answer for ${Math.round(downLimit / 1000)} s mid-run`)),
      );
  }, 250);
  watch.unref();

  try {
    for (const site of sites.keys()) {
      const queue = new Queue(site, { connection, prefix: PREFIX });
      queue.on("error", () => {});
      queues.set(site, queue);
      const qe = new QueueEvents(site, { connection, prefix: PREFIX });
      qe.on("error", () => {});
      events.push(qe);
      qe.on("progress", ({ jobId, data }) => {
        const p = pending.get(jobId);
        const lines = (data as WireProgress | undefined)?.lines;
        if (p && Array.isArray(lines))
          for (const [stream, line, host] of lines) emitOutput(p.ctx, stream, line, host);
      });
      qe.on("completed", ({ jobId, returnvalue }) => {
        pending.get(jobId)?.settle(returnvalue as unknown as WireResult);
      });
      qe.on("failed", ({ jobId, failedReason }) => {
        pending.get(jobId)?.settle(new AiorchError("JOB_FAILED", `on a worker: ${failedReason}`));
      });
      await qe.waitUntilReady();
      await waitForWorker({ queue, site, target, ms: opts.workerWait ?? 10_000 });
    }
  } catch (err) {
    writer.stop();
    await closeAll();
    throw err;
  }

  const resuming = opts.resume !== undefined;
  const graceMs = opts.cancelGrace ?? 15_000;
  const originals = new Map<AbstractJob, AbstractJob["run"]>();
  for (const [job, { spec, site, path }] of remote) {
    const queue = queues.get(site) as Queue;
    const baseId = jobIdOf({ runId, path, spec });
    const original = job.run;
    const files = spec.kind === "commands" ? localFilesOf(spec) : [];
    originals.set(job, original);
    let attempts = 0;
    job.run = async (ctx: JobContext) => {
      if (fatal) throw fatal;
      // a retry (`retry` option) is a queue job of its own: BullMQ keeps the finished one
      attempts++;
      const jobId = attempts === 1 ? baseId : `${baseId}.${attempts}`;
      let data: JobSpec = spec;
      if (spec.kind === "module") data = { ...spec, vars: travellingVars(ctx.vars) };
      else if (files.length > 0) {
        // read when the job starts, as a local run reads them
        const contents = await readFiles(files);
        // unreadable or too large: here, where it fails or runs as locally
        if (!contents) return original.call(job, ctx);
        data = { ...spec, files: contents };
      }
      const done = new Promise<WireResult | Error>((resolve) => {
        pending.set(jobId, {
          ctx,
          settle: (r) => {
            pending.delete(jobId);
            resolve(r);
          },
        });
      });
      const onAbort = () => {
        if (fatal) return pending.get(jobId)?.settle(fatal);
        void cancel({ client, queue, jobId, pending, graceMs });
      };
      ctx.signal.addEventListener("abort", onAbort, { once: true });
      try {
        // not awaited alone: with Redis gone, the add waits for it, the watcher settles `done`
        const queued = resuming
          ? attach({ queue, jobId, spec: data, pending, reuseDone: !again.has(job) })
          : queue.add(spec.label, data, jobOptions(jobId));
        queued.catch((err: unknown) =>
          pending.get(jobId)?.settle(err instanceof Error ? err : new Error(String(err))),
        );
        const answer = await done;
        if (fatal && answer === fatal) throw fatal;
        if (ctx.signal.aborted) throw abortError(ctx);
        if (answer instanceof Error) throw answer;
        Object.assign(ctx.vars, answer.vars);
        if (answer.error) throw decodeError(answer.error);
        return spec.kind === "module" ? answer.value : decodeResult(answer);
      } finally {
        ctx.signal.removeEventListener("abort", onAbort);
        pending.delete(jobId);
      }
    };
  }

  let closing: Promise<void> | undefined;
  return {
    runId,
    sites,
    local,
    kinds,
    resumePlan,
    failure: () => fatal,
    close(o = {}) {
      closing ??= (async () => {
        for (const [job, run] of originals) job.run = run;
        writer.stop();
        if (!fatal) await Promise.race([sink.flush(), sleep(2000)]);
        if (!fatal && o.ok !== undefined)
          await client.hset(key, { state: o.ok ? "done" : "failed" }).catch(() => {});
        await closeAll();
      })();
      return closing;
    },
  };
}

/** The root module specs carry, symlinks resolved; a usage error unless `--root` is a directory. */
function projectRoot(opts: DistributeOptions): string | undefined {
  if (opts.root === undefined)
    return opts.baseDir === undefined ? undefined : projectRootOf(opts.baseDir);
  try {
    const real = realpathSync(opts.root);
    if (statSync(real).isDirectory()) return real;
  } catch {}
  throw new AiorchError("USAGE", `--root ${opts.root}: not a directory`, { option: "--root" });
}

function jobOptions(jobId: string) {
  return {
    jobId,
    attempts: 1,
    removeOnComplete: { age: KEEP_S },
    removeOnFail: { age: KEEP_S },
  };
}

function abortError(ctx: JobContext): Error {
  const r: unknown = ctx.signal.reason;
  return r instanceof Error
    ? r
    : new CancelledError("CANCELLED", `job "${ctx.label}" was cancelled`);
}

/** Resume: a done job gives its answer, a running or waiting one is awaited, others run again. */
async function attach(o: {
  queue: Queue;
  jobId: string;
  spec: JobSpec;
  pending: Map<string, Pending>;
  /** false: a finished job of this id is stale (something it requires runs again) */
  reuseDone: boolean;
}): Promise<void> {
  const existing = await o.queue.getJob(o.jobId);
  const state = existing ? await existing.getState() : "unknown";
  const settle = (r: WireResult | Error) => o.pending.get(o.jobId)?.settle(r);
  if (existing && state === "completed" && o.reuseDone) {
    const answer = existing.returnvalue as WireResult;
    // only a successful job counts as done; a failed one runs again
    if (!answer.error && answer.commands.every((c) => c.ok)) return settle(answer);
  }
  if (
    existing &&
    (state === "active" || state === "waiting" || state === "delayed" || state === "prioritized")
  )
    return;
  if (existing) await existing.remove().catch(() => {});
  await o.queue.add(o.spec.label, o.spec, jobOptions(o.jobId));
}

/** Stop a job: drop it when still waiting, else ask its worker and wait for it to confirm. */
async function cancel(o: {
  client: Redis;
  queue: Queue;
  jobId: string;
  pending: Map<string, Pending>;
  graceMs: number;
}): Promise<void> {
  const p = o.pending.get(o.jobId);
  try {
    await o.client.set(cancelKey(o.jobId), "1", "EX", 3600);
    const job = await o.queue.getJob(o.jobId);
    const state = job ? await job.getState() : "unknown";
    if (job && state !== "active") {
      await job.remove().catch(() => {});
      if (state !== "completed" && state !== "failed") return p?.settle(new Error("cancelled"));
    }
    await o.client.publish(CANCEL_CHANNEL, o.jobId);
  } catch {
    // Redis gone: nothing to confirm
    return p?.settle(new Error("cancelled"));
  }
  setTimeout(() => p?.settle(new Error("cancelled")), o.graceMs).unref();
}

async function waitForWorker(o: { queue: Queue; site: string; target: RedisTarget; ms: number }) {
  const until = Date.now() + o.ms;
  for (;;) {
    if ((await o.queue.getWorkersCount()) > 0) return;
    if (Date.now() >= until) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const site = o.site === "default" ? "the default site" : `site "${o.site.slice(5)}"`;
  throw new AiorchError(
    "NO_WORKER",
    `no worker for ${site} on Redis at ${o.target.display} within ${o.ms < 1000 ? `${o.ms} ms` : `${o.ms / 1000} s`} (start one with: aiorch worker --redis URL${o.site === "default" ? "" : ` --site ${o.site.slice(5)}`})`,
    { url: o.target.display, site: o.site },
  );
}
