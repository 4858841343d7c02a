/**
 * A worker: takes job specs from the BullMQ queue of its site, runs them as SshJobs with
 * its own credentials, streams output lines back as progress and returns the outcomes.
 * Nodes are cached per spec, so a worker keeps one connection per node across jobs; they
 * close when the worker closes. A cancel message from the controller aborts the job (the
 * remote process group is stopped as in a local run).
 */
import { hostname } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { type Job as QueueJob, Worker } from "bullmq";
import { AiorchError } from "../errors.ts";
import { EventHub } from "../events.ts";
import { JobCtx } from "../context.ts";
import { connectionOptions, connectRedis, parseRedisUrl } from "./redis.ts";
import { createNodePool } from "./pool.ts";
import { jobFromSpec, parseJobSpec } from "./spec.ts";
import {
  CANCEL_CHANNEL,
  cancelKey,
  encodeError,
  encodeOutcomes,
  PREFIX,
  queueName,
  type WireLine,
  type WireResult,
} from "./wire.ts";

/** Options of {@link startWorker}. */
export interface WorkerOptions {
  /** `redis://HOST:PORT` */
  redis: string;
  /** serve the jobs of nodes with this `site` @default the default site */
  site?: string;
  /** jobs run at once @default 50 */
  concurrency?: number;
  /**
   * ms a job's lock lives without renewal; a worker silent that long (killed) has its jobs
   * taken over by another worker @default 30_000
   */
  lockDuration?: number;
  /** ms between checks for jobs of dead workers @default lockDuration */
  stalledInterval?: number;
  /** ms between output flushes to the controller @default 50 */
  flushMs?: number;
  /** ms after which the connection of a node no job uses is closed @default 30_000 */
  idleClose?: number;
  /** ms to reach Redis at start @default 5000 */
  connectTimeout?: number;
  /** where the worker tells what it does (job start/end lines) @default nothing */
  log?: (line: string) => void;
}

/** A running worker. */
export interface WorkerHandle {
  /** the worker's name in Redis (`aiorch@HOST:PID`) */
  readonly name: string;
  /** stop taking jobs, cancel running ones, close connections */
  close(): Promise<void>;
}

/**
 * Start a worker; rejects with `REDIS_UNREACHABLE` / `REDIS_VERSION` when Redis is not usable.
 *
 * @example
 * ```ts
 * const worker = await startWorker({ redis: "redis://127.0.0.1:6379", site: "lab-a" });
 * process.on("SIGTERM", () => void worker.close());
 * ```
 */
export async function startWorker(opts: WorkerOptions): Promise<WorkerHandle> {
  const target = parseRedisUrl(opts.redis);
  const reach = {
    target,
    ...(opts.connectTimeout !== undefined ? { timeoutMs: opts.connectTimeout } : {}),
  };
  const sub = await connectRedis(reach);
  const client = await connectRedis(reach);
  const name = `aiorch@${hostname()}:${process.pid}`;
  const pool = createNodePool({ idleMs: opts.idleClose ?? 30_000 });
  const log = opts.log ?? (() => {});
  const flushMs = opts.flushMs ?? 50;
  const lockDuration = opts.lockDuration ?? 30_000;

  const processor = async (job: QueueJob, _token?: string, signal?: AbortSignal) => {
    const id = job.id as string;
    const spec = parseJobSpec(job.data);
    if (await client.exists(cancelKey(id))) throw new AiorchError("CANCELLED", "cancelled");
    if (spec.atMostOnce && (job.attemptsStarted > 1 || job.stalledCounter > 0)) {
      const error = new AiorchError(
        "NOT_RERUN",
        `job "${spec.label}" was taken over from a worker that died; not run again (atMostOnce)`,
        { label: spec.label },
      );
      return { node: "", commands: [], vars: {}, error: encodeError(error) } satisfies WireResult;
    }
    const node = pool.take(spec.node);
    const sshJob = jobFromSpec(spec, node);
    const hub = new EventHub();
    let lines: WireLine[] = [];
    let sending: Promise<unknown> = Promise.resolve();
    const flush = () => {
      if (lines.length === 0) return sending;
      const batch = lines;
      lines = [];
      sending = sending.then(() => job.updateProgress({ lines: batch }).catch(() => {}));
      return sending;
    };
    const timer = setInterval(flush, flushMs);
    hub.on((e) => {
      if (e.type === "job-output")
        lines.push(e.host === undefined ? [e.stream, e.line] : [e.stream, e.line, e.host]);
    });
    const vars: Record<string, string> = {};
    const ctx = new JobCtx(sshJob, {
      scope: { vars, resources: pool.resources },
      signal: signal ?? new AbortController().signal,
      path: [],
      hub,
    });
    log(`start ${spec.label} (${id})`);
    try {
      const result = await sshJob.run(ctx);
      return {
        node: result.node,
        commands: encodeOutcomes(result.commands),
        vars,
      } satisfies WireResult;
    } catch (err) {
      if (signal?.aborted) throw err instanceof Error ? err : new Error(String(err));
      return { node: node.name, commands: [], vars, error: encodeError(err) } satisfies WireResult;
    } finally {
      pool.release(node);
      clearInterval(timer);
      await flush();
      log(`end ${spec.label} (${id})`);
    }
  };

  const worker = new Worker(queueName(opts.site), processor, {
    connection: connectionOptions(target),
    prefix: PREFIX,
    name,
    concurrency: opts.concurrency ?? 50,
    lockDuration,
    stalledInterval: opts.stalledInterval ?? lockDuration,
    maxStalledCount: 1,
    autorun: false,
  });
  worker.on("error", (err) => log(`worker error: ${err.message}`));
  sub.on("message", (_channel: string, jobId: string) => {
    if (worker.cancelJob(jobId, "cancelled by the controller")) log(`cancel ${jobId}`);
  });
  await sub.subscribe(CANCEL_CHANNEL);
  void worker.run();
  await worker.waitUntilReady();
  let closing: Promise<void> | undefined;
  return {
    name,
    close() {
      closing ??= (async () => {
        worker.cancelAllJobs("worker closing");
        // with Redis gone a graceful close waits for it: bounded, then cut
        await Promise.race([worker.close(), sleep(5000)]);
        await worker.disconnect().catch(() => {});
        await pool.close();
        sub.disconnect();
        client.disconnect();
      })();
      return closing;
    },
  };
}
