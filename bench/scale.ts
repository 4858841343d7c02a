/**
 * Scale-out benchmark (`npm run bench -- scale`), real redis-server on 127.0.0.1 and real
 * sshd on loopback addresses, everything measured in the same run:
 * 1. per-job overhead on no-op command jobs (`true` on a LocalNode): the local run, the
 *    same jobs through the queue (an in-process worker), and BullMQ's own add-to-complete
 *    on the same command without aiorch (a bare Queue + Worker spawning `sh -c true`);
 *    one job at a time (latency) and 200 at once (throughput);
 * 2. `uname -a` fanned out to 100 hosts: local run vs 1 and 2 `aiorch worker` processes,
 *    with the controller's and the workers' CPU time and the workers' memory, the figures
 *    docs/scale.md sizes 10,000 hosts from.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Queue, QueueEvents, Worker } from "bullmq";
import { distributeRun } from "../src/queue/controller.ts";
import { startWorker } from "../src/queue/worker.ts";
import { Scheduler } from "../src/scheduler.ts";
import { LocalNode, run, SshJob } from "../src/ssh/index.ts";
import { type RedisServer, startRedis, startWorkerProcess } from "../test/queue/redis.ts";
import { printTable, startFleet, timeIt } from "./util.ts";

const SEQ = 50;
const PAR = 200;
const HOSTS = 100;

const ms = (x: number) => x.toFixed(2);

/** `n` SshJobs running `true` locally, chained when `chain`. */
function noOps(n: number, chain: boolean): Scheduler {
  const node = new LocalNode();
  const jobs: SshJob[] = [];
  for (let i = 0; i < n; i++) {
    const j = new SshJob(node, [run("true")], { label: `noop-${i}` });
    if (chain && i > 0) j.requires(jobs[i - 1] as SshJob);
    jobs.push(j);
  }
  return new Scheduler(jobs, { critical: true });
}

async function throughQueue(redis: string, n: number, chain: boolean): Promise<void> {
  const s = noOps(n, chain);
  const d = await distributeRun({ scheduler: s, redis });
  try {
    if (!(await s.run())) throw new Error("bench scale: queued no-op run failed");
  } finally {
    await d.close({ ok: true });
  }
}

/** BullMQ alone: add `n` jobs (one after another when `chain`), a worker spawning `sh -c true`. */
async function bareBullmq(url: RedisServer, n: number, chain: boolean): Promise<number> {
  const connection = { host: "127.0.0.1", port: url.port, maxRetriesPerRequest: null };
  const name = `bare-${Math.random().toString(36).slice(2)}`;
  const queue = new Queue(name, { connection });
  // each waitUntilFinished listens for the queue closing: 200 at once are expected
  queue.setMaxListeners(n + 10);
  const events = new QueueEvents(name, { connection });
  const worker = new Worker(
    name,
    () =>
      new Promise<number>((resolve) => {
        const c = spawn("/bin/sh", ["-c", "true"], { stdio: "ignore" });
        c.on("exit", (code) => resolve(code ?? 0));
      }),
    { connection, concurrency: 50 },
  );
  await Promise.all([events.waitUntilReady(), worker.waitUntilReady()]);
  const t0 = performance.now();
  const opts = { removeOnComplete: false };
  if (chain)
    for (let i = 0; i < n; i++) await (await queue.add("j", {}, opts)).waitUntilFinished(events);
  else
    await Promise.all(
      (await queue.addBulk(Array.from({ length: n }, () => ({ name: "j", data: {}, opts })))).map(
        (j) => j.waitUntilFinished(events),
      ),
    );
  const elapsed = performance.now() - t0;
  await worker.close();
  await events.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return elapsed;
}

/** CPU ms (user+system) of a process, from /proc. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // clock ticks at USER_HZ 100
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m?.[1] ?? 0) / 1024;
}

async function overhead(redis: RedisServer): Promise<void> {
  const worker = await startWorker({ redis: redis.url, concurrency: 50 });
  try {
    const rows: (string | number)[][] = [];
    for (const [what, n, chain] of [
      [`${SEQ} in a chain`, SEQ, true],
      [`${PAR} at once`, PAR, false],
    ] as const) {
      const local = await timeIt(() => noOps(n, chain).run());
      const queued = await timeIt(() => throughQueue(redis.url, n, chain));
      const bare = await timeIt(() => bareBullmq(redis, n, chain));
      rows.push([
        what,
        ms(local / n),
        ms(bare / n),
        ms(queued / n),
        (queued / local).toFixed(2),
        (queued / bare).toFixed(2),
      ]);
    }
    printTable(
      "per-job overhead, no-op command jobs (ms per job, median of 3)",
      ["jobs", "local", "bare BullMQ", "aiorch via queue", "queue/local", "queue/bare"],
      rows,
    );
  } finally {
    await worker.close();
  }
}

async function fanOut(redis: RedisServer): Promise<void> {
  const fleet = await startFleet({ hosts: HOSTS, net: "127.0.2", name: "scale" });
  try {
    const fan = () =>
      new Scheduler(
        fleet.addresses.map(
          (host) => new SshJob(fleet.node(host), [run("uname -a")], { label: `uname@${host}` }),
        ),
      );
    const rows: (string | number)[][] = [];
    const c0 = process.cpuUsage();
    const local = await timeIt(async () => {
      const s = fan();
      if (!(await s.run())) throw new Error("bench scale: local fan-out failed");
      await s.shutdown();
    }, 1);
    const c1 = process.cpuUsage(c0);
    rows.push(["local", ms(local), "1.00", ms((c1.user + c1.system) / 1000), "-", "-"]);
    for (const n of [1, 2]) {
      const ws = await Promise.all(
        Array.from({ length: n }, () => startWorkerProcess(redis.url, ["--concurrency", "100"])),
      );
      try {
        const before = ws.map((w) => cpuMs(w.pid));
        const c2 = process.cpuUsage();
        const t = await timeIt(async () => {
          const s = fan();
          const d = await distributeRun({ scheduler: s, redis: redis.url });
          try {
            if (!(await s.run())) throw new Error("bench scale: queued fan-out failed");
          } finally {
            await d.close({ ok: true });
          }
        }, 1);
        const c3 = process.cpuUsage(c2);
        const workerCpu = ws.reduce((sum, w, i) => sum + cpuMs(w.pid) - (before[i] as number), 0);
        const rss = ws.reduce((sum, w) => sum + rssMb(w.pid), 0) / n;
        rows.push([
          `${n} worker${n > 1 ? "s" : ""}`,
          ms(t),
          (t / local).toFixed(2),
          ms((c3.user + c3.system) / 1000),
          ms(workerCpu),
          rss.toFixed(0),
        ]);
      } finally {
        await Promise.all(ws.map((w) => w.stop()));
      }
    }
    printTable(
      `uname -a on ${HOSTS} hosts (first connection included)`,
      ["run", "wall ms", "vs local", "controller CPU ms", "workers CPU ms", "worker RSS MB"],
      rows,
    );
  } finally {
    await fleet.stop();
  }
}

export async function benchScale(): Promise<void> {
  const redis = await startRedis();
  try {
    await overhead(redis);
    await fanOut(redis);
  } finally {
    await redis.dispose();
  }
}
