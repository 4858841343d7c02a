/**
 * The seed notebook's examples A–F, each a nested scheduler, run one after the other.
 * The two examples whose run is false on purpose (D: timeout, F: critical failure) are
 * non-critical here, so the whole scenario succeeds and shows both outcomes.
 *
 *   npx aiorch run scenarios/seed-examples.scenario.ts
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Job, type JobContext, Scheduler, Sequence } from "aiorch";

/** A job that logs, sleeps `ms` (cancellable) and returns `value`. */
function step<T>(label: string, ms: number, value: T, opts: { critical?: boolean } = {}): Job<T> {
  return new Job(
    async ({ signal, log }: JobContext) => {
      log(`${label}: sleeping ${ms} ms`);
      await sleep(ms, undefined, { signal });
      return value;
    },
    { label, ...opts },
  );
}

/** A: three jobs in parallel; the run takes as long as the longest. */
export function exampleA(): Scheduler {
  return new Scheduler([step("a1", 300, 1), step("a2", 200, 2), step("a3", 100, 3)], {
    label: "A-parallel",
  });
}

/** B: b2 requires b1, b3 runs alongside. */
export function exampleB(): Scheduler {
  const b1 = step("b1", 200, "b1");
  const b2 = step("b2", 200, "b2");
  b2.requires(b1);
  return new Scheduler([b1, b2, step("b3", 100, "b3")], { label: "B-requires" });
}

/** C: producers feed a queue; a forever monitor drains it, and is aborted at the end. */
export function exampleC(): Scheduler {
  const queue: string[] = [];
  let wake: (() => void) | undefined;
  const push = (m: string) => {
    queue.push(m);
    wake?.();
  };
  const producer = (label: string, ms: number) =>
    new Job(
      async ({ signal }) => {
        for (let i = 1; i <= 3; i++) {
          await sleep(ms, undefined, { signal });
          push(`${label}#${i}`);
        }
        return label;
      },
      { label },
    );
  const seen: string[] = [];
  const monitor = new Job(
    async ({ signal, log }) => {
      for (;;) {
        while (queue.length > 0) {
          const m = queue.shift() as string;
          seen.push(m);
          log(`monitor got ${m}`);
        }
        await new Promise<void>((resolve, reject) => {
          wake = resolve;
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        });
      }
    },
    { label: "monitor", forever: true },
  );
  const s = new Scheduler([monitor, producer("p1", 50), producer("p2", 80)], {
    label: "C-forever-monitor",
  });
  return Object.assign(s, { seen });
}

/** D: a job longer than the global timeout; the run resolves false. */
export function exampleD(): Scheduler {
  return new Scheduler([step("d-short", 100, "ok"), step("d-long", 5_000, "never")], {
    label: "D-timeout",
    timeout: 400,
    critical: false,
  });
}

/** E: a non-critical job fails, its dependent still runs; the run is true. */
export function exampleE(): Scheduler {
  const e1 = new Job(
    async () => {
      await sleep(100);
      throw new Error("e1 failed on purpose");
    },
    { label: "e1", critical: false },
  );
  const e2 = step("e2", 100, "e2 ran anyway").requires(e1);
  return new Scheduler([e1, e2], { label: "E-non-critical" });
}

/** F: a critical job fails; its dependent stays idle and the run is false. */
export function exampleF(): Scheduler {
  const f1 = new Job(
    async () => {
      await sleep(100);
      throw new Error("f1 failed on purpose");
    },
    { label: "f1", critical: true },
  );
  const f2 = step("f2", 100, "never").requires(f1);
  return new Scheduler([f1, f2], { label: "F-critical", critical: false });
}

export default new Scheduler(
  [new Sequence(exampleA(), exampleB(), exampleC(), exampleD(), exampleE(), exampleF())],
  { label: "seed-examples", critical: false },
);
