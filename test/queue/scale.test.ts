/**
 * Scale-out against real parts: a redis-server on 127.0.0.1, real `aiorch worker`
 * processes, the test sshd on three loopback addresses, and `aiorch run --redis` of the
 * test scenario (test/fixtures/scale.scenario.ts), compared with the same run done locally.
 */
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TraceJob, TraceScheduler } from "../../src/trace/types.ts";
import { type Sshd, startSshd } from "../ssh/sshd.ts";
import {
  killLeftoverRuns,
  MODULES,
  markerDir,
  ONCE,
  remoteProcesses,
  runsOf,
  scenarioParams,
  startRun,
  startRunOf,
  waitFor,
} from "./helpers.ts";
import {
  killLeftoverWorkers,
  type RedisServer,
  startRedis,
  startWorkerProcess,
  type WorkerProcess,
} from "./redis.ts";

let sshd: Sshd;
let redis: RedisServer;
const workers: WorkerProcess[] = [];
const dirs: string[] = [];

/** three workers of the default site, shared by the tests that kill no worker */
let pool: WorkerProcess[] = [];

beforeAll(async () => {
  [sshd, redis] = await Promise.all([
    startSshd({ addresses: ["127.0.0.2", "127.0.0.3", "127.0.0.4"] }),
    startRedis(),
  ]);
  pool = await Promise.all([worker(), worker(), worker()]);
});

afterAll(async () => {
  killLeftoverRuns();
  await Promise.all(workers.map((w) => w.stop()));
  killLeftoverWorkers();
  for (const w of workers) expect(w.child.exitCode ?? 0).toBe(0);
  await redis?.dispose();
  await sshd?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function worker(args: string[] = []): Promise<WorkerProcess> {
  const w = await startWorkerProcess(redis.url, args);
  workers.push(w);
  return w;
}

function marks(): string {
  const d = markerDir();
  dirs.push(d);
  return d;
}

/** A trace's jobs without times: label, state, requirements, work, result, output lines. */
function shape(file: string) {
  const trace = JSON.parse(readFileSync(file, "utf8")) as { scenario: TraceScheduler };
  return trace.scenario.jobs.map((j) => {
    const job = j as TraceJob;
    const result = job.result as { commands?: Array<Record<string, unknown>> } | string;
    return {
      label: job.label,
      state: job.state,
      requires: job.requires,
      work: job.work,
      result:
        typeof result === "object" && result?.commands
          ? { ...result, commands: result.commands.map(({ durationMs: _, ...c }) => c) }
          : result,
      output: JSON.stringify(job.output).replace(/"(t|time|at)":\d+,?/g, ""),
    };
  });
}

describe("aiorch run --redis", { timeout: 60_000 }, () => {
  it("40 jobs over 3 hosts through 3 workers: same trace structure, results and outputs as the local run", async () => {
    const dir = tmpdir();
    const local = join(dir, `aiorch-local-${process.pid}.json`);
    const remote = join(dir, `aiorch-remote-${process.pid}.json`);
    const [a, b] = [marks(), marks()];
    const l = startRun([...scenarioParams(sshd, { marks: a }), "--record", local]);
    const r = startRun([
      ...scenarioParams(sshd, { marks: b }),
      "--record",
      remote,
      "--redis",
      redis.url,
    ]);
    expect(await l.exit).toBe(0);
    expect(await r.exit, r.stderr()).toBe(0);
    expect(r.stderr()).toMatch(/jobs on workers: 40 on default; in this process: 1/);
    // the marker dirs differ, the rest is the same
    expect(shape(remote)[5]?.output).toContain("out-5");
    expect(shape(remote)).toEqual(JSON.parse(JSON.stringify(shape(local)).replaceAll(a, b)));
    for (let i = 0; i < 40; i++) expect(runsOf(b, i)).toBe(1);
    // the work was spread: every worker ran some jobs
    for (const w of pool) expect(w.output()).toMatch(/start job-\d+/);
    rmSync(local, { force: true });
    rmSync(remote, { force: true });
  });
});

describe("module jobs through workers", { timeout: 60_000 }, () => {
  it("a worker imports the module by path and calls the export; its value is what dependents read; scripts and pushed files travel", async () => {
    const trace = join(tmpdir(), `aiorch-modules-${process.pid}.json`);
    const out = marks();
    const r = startRunOf(MODULES, [
      ...["--plain", "--record", trace, "--param", `out=${out}`],
      ...["--redis", redis.url],
    ]);
    expect(await r.exit, r.stderr()).toBe(0);
    expect(r.stderr()).toMatch(/by kind: commands 2 on workers, module 5 on workers, Job 1 here\n/);
    const jobs = new Map(
      (JSON.parse(readFileSync(trace, "utf8")) as { scenario: TraceScheduler }).scenario.jobs.map(
        (j) => [j.label, j as TraceJob],
      ),
    );
    rmSync(trace, { force: true });
    expect(jobs.get("twice")?.result).toBe(42);
    expect(jobs.get("twice")?.work).toEqual({
      kind: "function",
      module: "../codegen/fixtures/steps.ts",
      name: "double",
      args: [21],
    });
    expect(JSON.stringify(jobs.get("twice")?.output)).toContain("doubling 21");
    // run by one of the workers, not by the controller
    expect(pool.map((w) => w.pid)).toContain(jobs.get("pid")?.result);
    // the variable captured on a worker reached the next worker; the one set came back
    expect(jobs.get("tag")?.result).toEqual({ name: "color", value: "blue", seen: "v-1" });
    expect(jobs.get("sum")?.result).toBe('42 {"name":"color","value":"blue","seen":"v-1"} blue');
    // the script and its include were staged by the worker from the contents sent
    expect(JSON.stringify(jobs.get("files")?.output)).toContain(
      "script x scale-script.sh scale-steps.ts",
    );
    expect(pool.some((w) => w.output().includes("start files "))).toBe(true);
    const script = "test/fixtures/scale-script.sh";
    const pushed = join(out, "scale-script.sh");
    expect(readFileSync(pushed, "utf8")).toBe(readFileSync(script, "utf8"));
    expect(statSync(pushed).mode & 0o777).toBe(statSync(script).mode & 0o777);
    // its retry was a queue job of its own (the first one is kept by BullMQ, failed)
    expect(jobs.get("flaky")?.result).toBe("second attempt");
    expect(jobs.get("map")?.error?.message).toBe(
      'job "map": aMap() returned a value JSON does not carry (at $); results of jobs on workers travel as JSON',
    );
  });
});

/** Start job runs on `a` (its log says so) but never ended there. */
function startedNotEnded(w: WorkerProcess): string[] {
  const out = w.output();
  const started = [...out.matchAll(/start (job-\d+)/g)].map((m) => m[1] as string);
  return started.filter((l) => !out.includes(`end ${l} `));
}

describe("durability", { timeout: 60_000 }, () => {
  /** one kill -9 scenario on a site of its own, so only the worker killed takes the first jobs */
  async function killWorkerMidRun(once: boolean) {
    const site = once ? "k2" : "k1";
    const lock = ["--site", site, "--lock-duration", "1500"];
    const a = await startWorkerProcess(redis.url, lock);
    const dir = marks();
    const r = startRun([
      ...scenarioParams(sshd, { marks: dir, jobs: 6, sleep: 1, once, site }),
      "--redis",
      redis.url,
    ]);
    await waitFor(a.output, /start job-\d+/);
    // kill once its first command has run (the marker written)
    const first = Number(/start job-(\d+)/.exec(a.output())?.[1]);
    await waitFor(() => String(runsOf(dir, first)), /^[1-9]/);
    a.child.kill("SIGKILL");
    const lost = startedNotEnded(a);
    expect(lost.length).toBeGreaterThan(0);
    const b = await worker(lock);
    const code = await r.exit;
    return { dir, r, b, lost, code, first };
  }

  it("kill -9 of a worker mid-run: the run completes, every job's commands done; an atMostOnce job fails instead of running again", async () => {
    const [rerun, once] = await Promise.all([killWorkerMidRun(false), killWorkerMidRun(true)]);
    expect(rerun.code, rerun.r.stderr()).toBe(0);
    for (let i = 0; i < 6; i++) expect(runsOf(rerun.dir, i)).toBeGreaterThanOrEqual(1);
    // taken over: started again by the other worker, commands run twice
    for (const l of rerun.lost) expect(rerun.b.output()).toContain(`start ${l} `);
    expect(runsOf(rerun.dir, rerun.first)).toBe(2);
    expect(once.code).toBe(1);
    expect(once.r.stdout()).toMatch(
      /was taken over from a worker that died; not run again \(atMostOnce\)/,
    );
    expect(runsOf(once.dir, once.first)).toBe(1);
    for (const l of once.lost) expect(runsOf(once.dir, Number(l.slice(4)))).toBeLessThanOrEqual(1);
  });

  it("kill -9 of a worker running an atMostOnce module job: that job fails, ran once; the other jobs complete; nothing left", async () => {
    // a Redis of its own: only these two workers (one job at a time each, short locks)
    const own = await startRedis();
    const opts = ["--lock-duration", "1500", "--concurrency", "1"];
    const pair: WorkerProcess[] = [];
    const trace = join(tmpdir(), `aiorch-once-${process.pid}.json`);
    try {
      pair.push(...(await Promise.all([0, 1].map(() => startWorkerProcess(own.url, opts)))));
      const dir = marks();
      const r = startRunOf(ONCE, [
        ...["--plain", "--record", trace, "--param", `marks=${dir}`],
        ...["--redis", own.url],
      ]);
      await waitFor(() => pair.map((w) => w.output()).join("\n"), /start once /);
      const killed = pair.find((w) => w.output().includes("start once ")) as WorkerProcess;
      const other = pair.find((w) => w !== killed) as WorkerProcess;
      // kill once its function has run (the marker written), mid-sleep
      await waitFor(() => (existsSync(join(dir, "once")) ? "marked" : ""), /marked/);
      killed.child.kill("SIGKILL");
      expect(await r.exit, r.stderr()).toBe(0);
      expect(killed.child.signalCode).toBe("SIGKILL");
      expect(r.stdout()).toContain(
        'job "once" was taken over from a worker that died; not run again (atMostOnce)',
      );
      // taken over by the other worker, which did not run it
      expect(other.output()).toMatch(
        /not run again once \(\S+\): taken over from a worker that died \(atMostOnce\)/,
      );
      expect(other.output()).not.toContain("start once ");
      const pids = (name: string) =>
        readFileSync(join(dir, name), "utf8").split("\n").filter(Boolean);
      expect(pids("once")).toEqual([String(killed.pid)]);
      expect(pids("first")).toHaveLength(1);
      // the job beside it and the one after ran once, on the worker that lived
      expect(pids("slow")).toEqual([String(other.pid)]);
      expect(pids("last")).toEqual([String(other.pid)]);
      const jobs = (JSON.parse(readFileSync(trace, "utf8")) as { scenario: TraceScheduler })
        .scenario.jobs as TraceJob[];
      // every job ended (trace state "done"); only `once` with an error
      expect(jobs.map((j) => [j.label, j.state, j.error?.code])).toEqual([
        ["first", "done", undefined],
        ["once", "done", "NOT_RERUN"],
        ["slow", "done", undefined],
        ["last", "done", undefined],
      ]);
      expect(jobs.map((j) => j.result)).toEqual([
        "first done",
        undefined,
        "slow done",
        "last done",
      ]);
      // nothing left: no job active or waiting in Redis, the killed worker gone
      const q = new Queue("default", {
        prefix: "aiorch",
        connection: { host: "127.0.0.1", port: own.port },
      });
      try {
        expect(await q.getJobCounts("active", "waiting", "delayed")).toEqual({
          active: 0,
          waiting: 0,
          delayed: 0,
        });
      } finally {
        await q.close();
      }
      expect(existsSync(`/proc/${killed.pid}`)).toBe(false);
      expect(await other.stop()).toBe(0);
    } finally {
      rmSync(trace, { force: true });
      for (const w of pair)
        if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGKILL");
      await own.dispose();
    }
  });

  it("kill -9 of the controller, then --resume: done jobs are not run again", async () => {
    const dir = marks();
    const params = scenarioParams(sshd, { marks: dir, jobs: 9, sleep: 1 });
    const first = startRun([...params, "--redis", redis.url]);
    await waitFor(first.stdout, /job-0 done/);
    first.child.kill("SIGKILL");
    await first.exit;
    const runId = /run (\S+) \(resume/.exec(first.stderr())?.[1] as string;
    expect(runId).toBeTruthy();
    const done = [...first.stdout().matchAll(/(job-\d+) done/g)].length;
    expect(done).toBeLessThan(9);
    const again = startRun([...params, "--redis", redis.url, "--resume", runId]);
    expect(await again.exit, again.stderr()).toBe(0);
    expect(again.stderr()).toContain(`run ${runId} `);
    for (let i = 0; i < 9; i++) expect(runsOf(dir, i)).toBe(1);
    // an unknown run id is a usage error
    const unknown = startRun([...params, "--redis", redis.url, "--resume", "nope"]);
    expect(await unknown.exit).toBe(2);
    expect(unknown.stderr()).toMatch(/no run nope in Redis at redis:\/\/127\.0\.0\.1:\d+/);
  });

  it("--resume follows the journal's rules: a changed job and its dependents run again, the rest is restored", async () => {
    const dir = marks();
    const first = startRun([
      ...scenarioParams(sshd, { marks: dir, jobs: 6 }),
      "--redis",
      redis.url,
    ]);
    expect(await first.exit, first.stderr()).toBe(0);
    const runId = /run (\S+) \(resume/.exec(first.stderr())?.[1] as string;
    // job-1 changed; on three hosts job-4 requires it (chains per host)
    const params = scenarioParams(sshd, { marks: dir, jobs: 6, change: 1 });
    const again = startRun([...params, "--redis", redis.url, "--resume", runId]);
    expect(await again.exit, again.stderr()).toBe(0);
    const err = again.stderr();
    expect(err).toContain('resume: "job-1" runs again: its definition changed');
    expect(err).toContain('resume: "job-4" runs again: it requires "job-1", which runs again');
    expect(err).toMatch(
      new RegExp(
        `resuming from the journal of run ${runId} in Redis: 4 job\\(s\\) restored, 3 to run`,
      ),
    );
    expect([0, 1, 2, 3, 4, 5].map((i) => runsOf(dir, i))).toEqual([1, 2, 1, 1, 2, 1]);
    // the restored jobs' captures reach the controller's job as in the first run
    expect(again.stdout()).toContain("6 captured");
    // the run of another scenario: refused before anything runs, the run left as it was
    const other = startRunOf(MODULES, [
      ...["--plain", "--param", `out=${marks()}`, "--redis", redis.url, "--resume", runId],
    ]);
    expect(await other.exit).toBe(2);
    expect(other.stderr()).toContain(
      `cannot resume: run ${runId} in Redis is the journal of scenario "scale", not "modules"`,
    );
  });

  it("no worker for a site within --worker-wait: a clear error, exit 2", async () => {
    const params = scenarioParams(sshd, { marks: marks(), jobs: 2, site: "nobody" });
    const r = startRun([...params, "--redis", redis.url, "--worker-wait", "300"]);
    expect(await r.exit).toBe(2);
    expect(r.stderr()).toMatch(
      /^aiorch: no worker for site "nobody" on Redis at redis:\/\/127\.0\.0\.1:\d+ within 300 ms \(start one with: aiorch worker --redis URL --site nobody\)$/m,
    );
  });

  it("Redis down at start and mid-run: a clear error, exit 2", async () => {
    const other = await startRedis();
    try {
      await other.stop();
      const dir = marks();
      const params = scenarioParams(sshd, { marks: dir, jobs: 6, sleep: 2 });
      const unreachable = /Redis at redis:\/\/127\.0\.0\.1:\d+ is unreachable/;
      const r = startRun([...params, "--redis", other.url, "--redis-wait", "1000"]);
      const w0 = startWorkerProcess(other.url, ["--redis-wait", "1000"]).then(
        (w) => `started ${w.pid}`,
        (err: Error) => err.message,
      );
      expect(await r.exit).toBe(2);
      expect(r.stderr()).toMatch(unreachable);
      expect(await w0).toMatch(/exited 2 .*is unreachable/s);
      // mid-run
      await other.start();
      const w = await startWorkerProcess(other.url);
      const mid = startRun([...params, "--redis", other.url, "--redis-wait", "1000"]);
      await waitFor(mid.stdout, /job-\d+ started/);
      await other.stop();
      expect(await mid.exit).toBe(2);
      expect(mid.stderr()).toMatch(unreachable);
      expect(mid.stderr()).not.toMatch(/\n\s+at /);
      w.child.kill("SIGKILL");
    } finally {
      await other.dispose();
    }
  });

  it("Ctrl-C on the controller leaves no remote process and no job active in Redis", async () => {
    const dir = marks();
    const r = startRun([
      ...scenarioParams(sshd, { marks: dir, jobs: 3, sleep: 30 }),
      "--redis",
      redis.url,
    ]);
    await waitFor(r.stdout, /out-0[\s\S]*out-1|out-1[\s\S]*out-0/);
    await waitFor(r.stdout, /out-2/);
    expect(remoteProcesses(sshd).length).toBeGreaterThan(0);
    r.child.kill("SIGINT");
    expect(await r.exit).not.toBe(0);
    expect(remoteProcesses(sshd)).toEqual([]);
    const q = new Queue("default", {
      prefix: "aiorch",
      connection: { host: "127.0.0.1", port: redis.port },
    });
    try {
      expect(await q.getActiveCount()).toBe(0);
      expect(await q.getWaitingCount()).toBe(0);
    } finally {
      await q.close();
    }
  });
});
