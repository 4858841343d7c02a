/**
 * View benchmark: what watching a run costs. 1,000 no-op-ish jobs (layered DAG, each job
 * logs 2 lines) run with no listener, with the live view's reducer, with the whole live
 * view (reducer + log-update redraws at 10 fps on a fake 120x40 terminal), and with the
 * plain log (a line per event to a null stream). "empty listener" is the engine's own cost
 * of emitting events, the floor for any view. Also the cost of one frame of 1,000 jobs.
 * Targets: the live view adds ≤ 5 µs per job to the run, and a frame takes ≤ 2 ms.
 */
import { Writable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { attachView, type ViewStream } from "../src/cli/view.ts";
import { Job, type JobContext, type RunEvent, Scheduler } from "../src/index.ts";
import { createLiveState, frame, reduceLiveState } from "../src/render/live.ts";
import { median, printTable, prng } from "./util.ts";

const N = 1000;
const REPEAT = 21;

/** 1,000 jobs in layers of 100, 3 requirements each in the previous layer; each logs twice
 *  and waits a microtask, or `sleepMs` on a timer. */
function buildScheduler(sleepMs = 0): Scheduler {
  const rnd = prng(7);
  const jobs: Job[] = [];
  for (let i = 0; i < N; i++) {
    const job = new Job(async ({ log }: JobContext) => {
      log(`job ${i}: start`);
      await (sleepMs > 0 ? sleep(sleepMs) : Promise.resolve());
      log(`job ${i}: done`);
    });
    if (i >= 100) {
      const base = (Math.floor(i / 100) - 1) * 100;
      for (let k = 0; k < 3; k++) job.requires(jobs[base + Math.floor(rnd() * 100)]!);
    }
    jobs.push(job);
  }
  return new Scheduler(jobs, { label: "bench" });
}

/** A terminal that swallows what it gets, counting bytes. */
function fakeTerminal(): ViewStream & { bytes: number } {
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      (w as unknown as { bytes: number }).bytes += chunk.length;
      cb();
    },
  }) as unknown as ViewStream & { bytes: number };
  Object.assign(w, { isTTY: true, columns: 120, rows: 40, bytes: 0 });
  return w;
}

type Variant =
  | "no listener"
  | "empty listener"
  | "live reducer"
  | "live view (10 fps)"
  | "plain log";

async function runOnce(variant: Variant, sleepMs: number): Promise<number> {
  const s = buildScheduler(sleepMs);
  const out = fakeTerminal();
  let detach = (): void => {};
  if (variant === "empty listener") detach = s.on(() => {});
  else if (variant === "live reducer") {
    const state = createLiveState();
    detach = s.on((e) => reduceLiveState(state, e));
  } else if (variant === "live view (10 fps)") {
    const v = attachView({ scheduler: s, mode: "live", out, color: true, debrief: "never" });
    detach = () => v.stop();
  } else if (variant === "plain log") {
    const v = attachView({ scheduler: s, mode: "plain", out, debrief: "never" });
    detach = () => v.stop();
  }
  const t0 = performance.now();
  const ok = await s.run();
  const ms = performance.now() - t0;
  detach();
  if (!ok) throw new Error(`bench run failed: ${s.why()}`);
  return ms;
}

/** Median time of one frame of a 1,000-job run caught mid-way. */
async function frameCost(): Promise<{ ms: number; lines: number }> {
  const s = buildScheduler();
  const state = createLiveState();
  s.on((e) => reduceLiveState(state, e));
  await s.run();
  // pretend a third of the jobs still run, so the frame has to pick and sort
  state.jobs.forEach((j, i) => {
    if (i % 3 === 0) {
      j.state = "running";
      j.endedAt = 0;
    }
  });
  const times: number[] = [];
  let lines = 0;
  for (let k = 0; k < 200; k++) {
    const t0 = performance.now();
    const text = frame(state, { rows: 40, cols: 120, now: Date.now(), color: true });
    times.push(performance.now() - t0);
    lines = text.split("\n").length;
  }
  return { ms: median(times), lines };
}

/** Best time to fold the recorded events of one 1,000-job run into a fresh state. */
async function replayCost(): Promise<{ ms: number; events: number }> {
  const s = buildScheduler();
  const events: RunEvent[] = [];
  s.on((e) => events.push(e));
  await s.run();
  let best = Number.POSITIVE_INFINITY;
  for (let k = 0; k < 50; k++) {
    const state = createLiveState();
    const t0 = performance.now();
    for (const e of events) reduceLiveState(state, e);
    best = Math.min(best, performance.now() - t0);
  }
  return { ms: best, events: events.length };
}

/** Section of `npm run bench`. */
export async function benchView(): Promise<void> {
  const variants: Variant[] = [
    "no listener",
    "empty listener",
    "live reducer",
    "live view (10 fps)",
    "plain log",
  ];
  for (const sleepMs of [0, 1]) {
    const times = new Map<Variant, number[]>(variants.map((v) => [v, []]));
    for (const v of variants) await runOnce(v, sleepMs); // warm-up
    const repeat = sleepMs > 0 ? 7 : REPEAT;
    for (let r = 0; r < repeat; r++)
      for (const v of variants) times.get(v)!.push(await runOnce(v, sleepMs));
    const base = median(times.get("no listener")!);
    printTable(
      `${N} ${sleepMs > 0 ? `jobs of ${sleepMs} ms (timer)` : "no-op jobs"} (layered, 2 output lines each), median of ${repeat}`,
      ["variant", "ms / run", "added µs / job", "overhead"],
      variants.map((v) => {
        const m = median(times.get(v)!);
        return [
          v,
          m.toFixed(1),
          v === "no listener" ? "-" : (((m - base) * 1000) / N).toFixed(1),
          v === "no listener" ? "-" : `${(((m - base) / base) * 100).toFixed(0)}%`,
        ];
      }),
    );
  }
  const r = await replayCost();
  const f = await frameCost();
  printTable(
    "the view's own work, warm (no engine, no terminal)",
    ["measure", "ms", "note"],
    [
      ["reduce one run's events, best of 50", r.ms.toFixed(2), `${r.events} events`],
      [
        "one frame of 1,000 jobs, median of 200",
        f.ms.toFixed(3),
        `${f.lines} lines, 120x40, colour`,
      ],
    ],
  );
}
