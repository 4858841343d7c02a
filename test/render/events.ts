/**
 * Synthetic run events with a fixed clock, for pure tests of the live view, the plain log
 * and the timeline: the jobs are real (labels, requirements, nesting) but never run.
 */
import { type AbstractJob, Job, type RunEvent, Scheduler } from "../../src/index.ts";
import type { JobState } from "../../src/job.ts";

/** 2026-01-01 10:00:00 UTC */
export const T0 = Date.UTC(2026, 0, 1, 10, 0, 0);

/** Jobs of a small build: fetch -> compile, lint; tests {unit, e2e} after compile; pack. */
export function demoTree() {
  const fetch = new Job(async () => 1, { label: "fetch" });
  const compile = new Job(async () => 1, { label: "compile", required: fetch });
  const lint = new Job(async () => 1, { label: "lint", required: fetch, critical: false });
  const unit = new Job(async () => 1, { label: "unit" });
  const e2e = new Job(async () => 1, { label: "e2e" });
  const tests = new Scheduler([unit, e2e], { label: "tests", required: compile });
  const pack = new Job(async () => 1, { label: "pack", required: [tests, lint] });
  const root = new Scheduler([fetch, compile, lint, tests, pack], { label: "demo" });
  return { root, fetch, compile, lint, unit, e2e, tests, pack };
}

/** Builds events of one run on a fixed clock: `at(ms)` offsets from {@link T0}. */
export class EventScript {
  readonly events: RunEvent[] = [];
  readonly root: Scheduler;
  constructor(root: Scheduler) {
    this.root = root;
  }

  start(at: number, opts: { timeout?: number } = {}): this {
    this.events.push({
      type: "run-start",
      time: T0 + at,
      scheduler: this.root,
      label: this.root.label,
      path: [],
      jobs: this.root.jobs.length,
      plan: this.root.plan({ details: true }),
      ...opts,
    });
    return this;
  }

  state(at: number, job: AbstractJob, state: JobState, path: string[] = [], error?: unknown): this {
    this.events.push({
      type: "job-state",
      time: T0 + at,
      job,
      label: job.label,
      path,
      state,
      previous: "idle",
      ...(error === undefined ? {} : { error }),
    });
    return this;
  }

  output(at: number, job: AbstractJob, line: string, path: string[] = [], host?: string): this {
    this.events.push({
      type: "job-output",
      time: T0 + at,
      job,
      label: job.label,
      path,
      stream: "log",
      line,
      ...(host === undefined ? {} : { host }),
    });
    return this;
  }

  end(at: number, ok: boolean, reason: "ok" | "timeout" | "critical" | "cancelled" = "ok"): this {
    this.events.push({
      type: "run-end",
      time: T0 + at,
      scheduler: this.root,
      label: this.root.label,
      path: [],
      ok,
      reason,
      elapsed: at,
    });
    return this;
  }
}

/** The demo run up to 2.5 s: fetch done, lint failed, compile running, tests idle. */
export function demoScript() {
  const t = demoTree();
  const s = new EventScript(t.root)
    .start(0, { timeout: 60_000 })
    .state(10, t.fetch, "running")
    .output(300, t.fetch, "git clone \u001b[32mhttps://example.org/app.git\u001b[0m")
    .state(800, t.fetch, "done")
    .state(800, t.compile, "running")
    .state(800, t.lint, "running")
    .output(1200, t.compile, "gcc -O2 -c main.c -o main.o")
    .output(1500, t.lint, "checking 12 files")
    .state(1700, t.lint, "done", [], new Error("3 style errors"));
  return { ...t, script: s };
}
