/**
 * A worker: takes job specs from the BullMQ queue of its site, runs them (command jobs as
 * SshJobs with its own credentials, module jobs by importing the module and calling the
 * export), streams output lines back as progress and returns the outcomes or the value.
 * Nodes are cached per spec, so a worker keeps one connection per node across jobs; they
 * close when the worker closes. A cancel message from the controller aborts the job (the
 * remote process group is stopped as in a local run).
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { type Job as QueueJob, Worker } from "bullmq";
import { AiorchError } from "../errors.ts";
import { EventHub } from "../events.ts";
import { JobCtx } from "../context.ts";
import { Job, type JobContext, type Resource } from "../job.ts";
import type { RunFrame } from "../scope.ts";
import type { JsonValue } from "../trace/types.ts";
import { connectionOptions, connectRedis, parseRedisUrl } from "./redis.ts";
import { createNodePool } from "./pool.ts";
import {
  exportOf,
  type FileSpec,
  jobFromSpec,
  type ModuleJobSpec,
  notJsonAt,
  parseJobSpec,
} from "./spec.ts";
import { mapToRoot, resolveUnderRoot } from "./root.ts";
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
  /**
   * this machine's checkout of the scenario's project: a module job whose module lies under
   * the project root sent by the controller is imported from here plus its relative path
   * (never from outside this directory); a module outside that root fails its job
   * @default none: modules are imported at the controller's absolute paths
   */
  root?: string;
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
  const root = opts.root === undefined ? undefined : checkRoot(opts.root);
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

  const modules = createModuleCache(root);

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
      log(`not run again ${spec.label} (${id}): taken over from a worker that died (atMostOnce)`);
      return { node: "", commands: [], vars: {}, error: encodeError(error) } satisfies WireResult;
    }
    const out = streamOutput(job, flushMs);
    const frame = (vars: Record<string, string>, resources: Set<Resource>) => ({
      scope: { vars, resources },
      signal: signal ?? new AbortController().signal,
      path: [],
      hub: out.hub,
    });
    log(`start ${spec.label} (${id})`);
    try {
      if (spec.kind === "module") {
        const fn = await modules.load(spec);
        return await runModule({ spec, fn, frame, signal });
      }
      const staged = await stageFiles(spec.files);
      const node = pool.take(spec.node);
      const vars: Record<string, string> = {};
      try {
        const sshJob = jobFromSpec(spec, node, staged.paths);
        const ctx = new JobCtx(sshJob, frame(vars, pool.resources));
        const result = await sshJob.run(ctx);
        return {
          node: result.node,
          commands: encodeOutcomes(result.commands),
          vars,
        } satisfies WireResult;
      } catch (err) {
        if (signal?.aborted) throw err instanceof Error ? err : new Error(String(err));
        return {
          node: node.name,
          commands: [],
          vars,
          error: encodeError(err),
        } satisfies WireResult;
      } finally {
        pool.release(node);
        await staged.remove();
      }
    } catch (err) {
      if (signal?.aborted) throw err instanceof Error ? err : new Error(String(err));
      return { node: "", commands: [], vars: {}, error: encodeError(err) } satisfies WireResult;
    } finally {
      await out.close();
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
        // with Redis gone a graceful close waits for it: bounded, then cut (the bound's
        // timer unref'd: a close that ends at once lets the process exit at once)
        await Promise.race([worker.close(), sleep(5000, undefined, { ref: false })]);
        await worker.disconnect().catch(() => {});
        await pool.close();
        sub.disconnect();
        client.disconnect();
      })();
      return closing;
    },
  };
}

/** `--root` as an absolute path; a usage error unless it is a directory. */
function checkRoot(dir: string): string {
  const abs = resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(abs).isDirectory();
  } catch {}
  if (!isDir)
    throw new AiorchError("USAGE", `--root ${dir}: not a directory`, { option: "--root" });
  return abs;
}

/** Output lines of a queue job, sent as its progress every `flushMs` and at the end. */
function streamOutput(job: QueueJob, flushMs: number) {
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
  return {
    hub,
    async close() {
      clearInterval(timer);
      await flush();
    },
  };
}

type ModuleFn = (ctx: JobContext, ...args: unknown[]) => unknown;

/**
 * The worker's imports of module jobs' modules, each loaded once; with `root`, from this
 * machine's checkout (see {@link WorkerOptions.root}).
 */
function createModuleCache(root: string | undefined) {
  const loaded = new Map<string, Promise<Record<string, unknown>>>();
  const importOnce = (file: string) => {
    let mod = loaded.get(file);
    if (!mod) {
      mod = (async () => {
        // a compiled aiorch imports a .ts module through tsx, as `aiorch run` does
        await (await import("../cli/load.ts")).registerTsx();
        return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
      })();
      loaded.set(file, mod);
      // a failed import is tried again by the next job (the file may be deployed since)
      mod.catch(() => loaded.delete(file));
    }
    return mod;
  };
  return {
    async load(spec: ModuleJobSpec): Promise<ModuleFn> {
      let file = spec.module;
      let m: Record<string, unknown>;
      try {
        if (root !== undefined) {
          file = mapUnderRoot(spec, root);
          file = await realUnderRoot(spec, file, root);
        }
        m = await importOnce(file);
      } catch (err) {
        if (err instanceof AiorchError) throw err;
        const hint =
          root === undefined
            ? "workers need the scenario's files at the same paths, or their own checkout of the project given as `aiorch worker --root DIR`"
            : `module ${spec.module} of the run, mapped under --root ${root}`;
        throw new AiorchError(
          "SCENARIO_INVALID",
          `job "${spec.label}": this worker cannot import ${file} (${(err as Error).message}); ${hint}`,
          { label: spec.label, file },
        );
      }
      const fn = exportOf(m, spec.name);
      if (typeof fn !== "function")
        throw new AiorchError(
          "SCENARIO_INVALID",
          `job "${spec.label}": ${file} has no exported function "${spec.name}" on this worker`,
          { label: spec.label, file },
        );
      return fn as ModuleFn;
    },
  };
}

/** A module `--root` does not import: `INVALID_ARGUMENT` naming job, module and root. */
function refusal(spec: ModuleJobSpec, root: string, why: string): AiorchError {
  return new AiorchError(
    "INVALID_ARGUMENT",
    `job "${spec.label}": module ${spec.module} ${why}; this worker (--root ${root}) does not import it`,
    { label: spec.label, file: spec.module, option: "--root" },
  );
}

/** Where `--root` puts a module job's module (lexically), or throws the refusal. */
function mapUnderRoot(spec: ModuleJobSpec, root: string): string {
  const mapped = mapToRoot({ module: spec.module, root: spec.root, dir: root });
  if ("refused" in mapped) throw refusal(spec, root, mapped.refused);
  return mapped.path;
}

/**
 * The real path of the mapped module when it stays under `root`, or throws the refusal;
 * a missing file rejects with the file system's error (the import message).
 */
async function realUnderRoot(spec: ModuleJobSpec, path: string, root: string): Promise<string> {
  const real = await resolveUnderRoot({ path, dir: root });
  if ("refused" in real) throw refusal(spec, root, `maps to ${path}, which ${real.refused}`);
  return real.path;
}

/**
 * Run a module job: the function gets a context with the run's variables as sent, its
 * `log` lines stream back, its `use` resources close when it ends; the result travels as
 * JSON (a value JSON does not carry fails the job, naming where), with the variables it set.
 */
async function runModule(o: {
  spec: ModuleJobSpec;
  fn: ModuleFn;
  frame: (vars: Record<string, string>, resources: Set<Resource>) => RunFrame;
  signal: AbortSignal | undefined;
}): Promise<WireResult> {
  const { spec, fn } = o;
  const sent = spec.vars ?? {};
  const vars = { ...sent };
  const resources = new Set<Resource>();
  const job = new Job((ctx) => fn(ctx, ...spec.args), {
    label: spec.label,
    critical: spec.critical,
  });
  const changed = () => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(vars)) if (sent[k] !== v) out[k] = v;
    return out;
  };
  try {
    const value = await job.run(new JobCtx(job, o.frame(vars, resources)));
    const at = notJsonAt(value, "$");
    if (at !== undefined)
      throw new AiorchError(
        "JOB_FAILED",
        `job "${spec.label}": ${spec.name}() returned a value JSON does not carry (at ${at}); results of jobs on workers travel as JSON`,
        { label: spec.label },
      );
    return {
      node: "",
      commands: [],
      vars: changed(),
      ...(value === undefined ? {} : { value: value as JsonValue }),
    };
  } catch (err) {
    if (o.signal?.aborted) throw err instanceof Error ? err : new Error(String(err));
    return { node: "", commands: [], vars: changed(), error: encodeError(err) };
  } finally {
    for (const r of resources) await r.close().catch(() => {});
  }
}

/**
 * Write the controller's files a command job reads into a private directory of this
 * worker, each in a folder of its own (same base name and permission bits as there).
 */
async function stageFiles(files: Record<string, FileSpec> | undefined) {
  const paths = new Map<string, string>();
  if (!files || Object.keys(files).length === 0) return { paths, remove: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), "aiorch-files-"));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    for (const [i, [path, f]] of Object.entries(files).entries()) {
      const copy = join(dir, String(i), basename(path));
      await mkdir(dirname(copy), { mode: 0o700 });
      await writeFile(copy, Buffer.from(f.data, "base64"), { mode: 0o600 });
      await chmod(copy, f.mode);
      paths.set(path, copy);
    }
  } catch (err) {
    await remove();
    throw err;
  }
  return { paths, remove };
}
