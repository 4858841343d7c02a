/**
 * The seed notebook's examples A–F in the DSL, each a part included as a nested
 * scheduler, run one after the other. The two examples whose run is false on purpose
 * (D: timeout, F: critical failure) are included as non-critical (the scenario's
 * default), so the whole scenario succeeds and shows both outcomes.
 *
 *   npx aiorch run scenarios/seed-examples.scenario.ts
 *
 * `exampleA()`…`exampleF()` build each part's Scheduler alone (the engine tests use them).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { JobContext, Scheduler } from "aiorch";
import { scenario } from "aiorch/dsl";

/** A job body that logs, sleeps `ms` (cancellable) and returns `value`. */
function step<T>(ms: number, value: T): (ctx: JobContext) => Promise<T> {
  return async ({ signal, log, label }) => {
    log(`${label}: sleeping ${ms} ms`);
    await sleep(ms, undefined, { signal });
    return value;
  };
}

/** A body failing after 100 ms. */
function failing(message: string): () => Promise<never> {
  return async () => {
    await sleep(100);
    throw new Error(message);
  };
}

/** A: three jobs in parallel; the run takes as long as the longest. */
export const partA = scenario("A-parallel")
  .job("a1", step(300, 1))
  .job("a2", step(200, 2))
  .job("a3", step(100, 3));

/** B: b2 requires b1, b3 runs alongside. */
export const partB = scenario("B-requires")
  .job("b1", step(200, "b1"))
  .job("b2", step(200, "b2"), { after: ["b1"] })
  .job("b3", step(100, "b3"));

/** C: producers feed a queue; a forever monitor drains it and is aborted at the end. */
export function partC() {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  const producer =
    (ms: number) =>
    async ({ signal, label }: JobContext) => {
      for (let i = 1; i <= 3; i++) {
        await sleep(ms, undefined, { signal });
        queue.push(`${label}#${i}`);
        wake?.();
      }
      return label;
    };
  return scenario("C-forever-monitor")
    .job(
      "monitor",
      async ({ signal, log }) => {
        for (;;) {
          for (let m = queue.shift(); m !== undefined; m = queue.shift()) log(`monitor got ${m}`);
          await new Promise<void>((resolve, reject) => {
            wake = resolve;
            signal.addEventListener("abort", () => reject(signal.reason), { once: true });
          });
        }
      },
      { forever: true },
    )
    .job("p1", producer(50))
    .job("p2", producer(80));
}

/** D: a job longer than the scenario's timeout; the run resolves false. */
export const partD = scenario("D-timeout", { timeout: 400, critical: false })
  .job("d-short", step(100, "ok"))
  .job("d-long", step(5_000, "never"));

/** E: a non-critical job fails, its dependent still runs (and sees the failure). */
export const partE = scenario("E-non-critical")
  .job("e1", failing("e1 failed on purpose"), { critical: false })
  .job(
    "e2",
    async ({ results, log }) => {
      log(`e1 ${results.e1.ok ? "succeeded" : "failed"}, e2 runs anyway`);
      await sleep(100);
      return "e2 ran anyway";
    },
    { after: ["e1"] },
  );

/** F: a critical job fails; its dependent stays idle and the run is false. */
export const partF = scenario("F-critical", { critical: false })
  .job("f1", failing("f1 failed on purpose"), { critical: true })
  .job("f2", step(100, "never"), { after: ["f1"] });

export const exampleA = (): Scheduler => partA.build();
export const exampleB = (): Scheduler => partB.build();
export const exampleC = (): Scheduler => partC().build();
export const exampleD = (): Scheduler => partD.build();
export const exampleE = (): Scheduler => partE.build();
export const exampleF = (): Scheduler => partF.build();

export default scenario("seed-examples", { critical: false })
  .include("A-parallel", partA)
  .include("B-requires", partB, { after: ["A-parallel"] })
  .include("C-forever-monitor", partC(), { after: ["B-requires"] })
  .include("D-timeout", partD, { after: ["C-forever-monitor"] })
  .include("E-non-critical", partE, { after: ["D-timeout"] })
  .include("F-critical", partF, { after: ["E-non-critical"] });
