import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { Job, LocalNode, type RunEvent, run, Scheduler, SshJob } from "../../src/index.ts";
import {
  createJournal,
  journalPathFor,
  parseJournal,
  planResume,
  readJournal,
  readResumeSource,
} from "../../src/journal/index.ts";
import { plainLine } from "../../src/render/plain.ts";
import { createRecorder, moduleJob, writeTrace } from "../../src/trace/index.ts";

const dir = mkdtempSync(join(tmpdir(), "aiorch-journal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function double(_ctx: unknown, n: number): Promise<number> {
  return n * 2;
}

/** a -> b -> c (+ d alone), each a described function job; `fail` makes c throw. */
function scenario(opts: { fail?: boolean; n?: number; calls: string[] }) {
  const make = (label: string, n: number, required?: Job) =>
    new Job(
      Object.assign(
        moduleJob(
          async (ctx, k: number) => {
            opts.calls.push(label);
            if (label === "c" && opts.fail) throw new Error("c broke");
            return double(ctx, k);
          },
          { module: "./steps.ts", name: label, args: [n] },
        ),
      ),
      { label, ...(required ? { required } : {}) },
    );
  const a = make("a", 1);
  const b = make("b", opts.n ?? 2, a);
  const c = make("c", 3, b);
  const d = make("d", 4);
  return new Scheduler([a, b, c, d], { label: "demo", critical: false });
}

describe("journal", () => {
  test("a result over resultBytes is refused before it is encoded: the job runs again on resume", async () => {
    const file = join(dir, "big.journal.jsonl");
    const node = new LocalNode();
    const big = new SshJob(node, [run("head -c 3000 /dev/zero", { capture: "z" })], {
      label: "big",
    });
    const small = new SshJob(node, [run("printf ok", { capture: "o" })], { label: "small" });
    const values = new Job(async () => "x".repeat(5000), { label: "values" });
    const s = new Scheduler([big, small, values], { label: "sizes" });
    const w = createJournal({ scheduler: s, journal: file, resultBytes: 1000 });
    expect(await s.run()).toBe(true);
    w.stop();
    const j = readJournal({ file });
    expect(j.jobs.get("big")).toMatchObject({
      ok: true,
      unrestorable: "its captured output is larger than 1000 bytes",
    });
    expect(j.jobs.get("big")?.result).toBeUndefined();
    expect(j.jobs.get("values")).toMatchObject({
      unrestorable: "its result is larger than 1000 bytes",
    });
    expect(j.jobs.get("small")?.unrestorable).toBeUndefined();
    expect(j.jobs.get("small")?.result).toBeDefined();
  });

  test("one line per job end, then run-end; read back by label", async () => {
    const file = join(dir, "one.journal.jsonl");
    const calls: string[] = [];
    const s = scenario({ fail: true, calls });
    const w = createJournal({ scheduler: s, journal: file, file: "/x/demo.scenario.ts" });
    await s.run();
    w.stop();
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(1 + 4 + 1);
    const j = readJournal({ file });
    expect(j.header).toMatchObject({ format: "aiorch-journal", version: 1, scenario: "demo" });
    expect(j.jobs.get("a")).toMatchObject({ state: "done", ok: true, result: 2 });
    expect(j.jobs.get("a")?.identity).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(j.jobs.get("c")).toMatchObject({ state: "done", ok: false });
    expect(j.jobs.get("c")?.error?.message).toBe("c broke");
    expect(j.end).toMatchObject({ type: "run-end", ok: true });
    expect(j.warnings).toEqual([]);
  });

  test("a torn last line is ignored and said so; a bad middle line names file:line", () => {
    const file = join(dir, "torn.journal.jsonl");
    const header = JSON.stringify({
      format: "aiorch-journal",
      version: 1,
      scenario: "demo",
      startedAt: 1,
    });
    const a = JSON.stringify({ type: "job", label: "a", path: [], state: "done", ok: true, at: 2 });
    writeFileSync(file, `${header}\n${a}\n{"type":"job","lab`);
    const j = readJournal({ file });
    expect([...j.jobs.keys()]).toEqual(["a"]);
    expect(j.end).toBeUndefined();
    expect(j.warnings).toEqual([
      `${file}:3: last line is incomplete (the run was stopped while writing it): ignored`,
    ]);
    expect(() => parseJournal({ text: `${header}\nnope\n${a}\n`, file: "f.jsonl" })).toThrow(
      "f.jsonl:2: not JSON",
    );
    expect(() =>
      parseJournal({
        text: `${header}\n{"type":"job","label":"a","path":[],"state":"weird","ok":true}\n`,
        file: "f",
      }),
    ).toThrow(`f:2: job "a": "state" must be "done" or "cancelled", got "weird"`);
    expect(() => parseJournal({ text: `{"format":"x"}\n`, file: "g" })).toThrow(
      `g:1: not an aiorch journal`,
    );
  });

  test("resume: done jobs are restored with their results, the failed one and its dependents run", async () => {
    const file = join(dir, "resume.journal.jsonl");
    const first: string[] = [];
    const s1 = scenario({ fail: true, calls: first });
    const w = createJournal({ scheduler: s1, journal: file });
    await s1.run();
    w.stop();
    expect(first.sort()).toEqual(["a", "b", "c", "d"]);

    const second: string[] = [];
    const s2 = scenario({ calls: second });
    const plan = planResume({ scheduler: s2, journal: readJournal({ file }) });
    expect([...plan.restore.keys()].map((j) => j.label)).toEqual(["a", "b", "d"]);
    expect(plan.rerun).toEqual([]);
    const events: RunEvent[] = [];
    s2.on((e) => events.push(e));
    expect(await s2.run({ restore: plan.restore })).toBe(true);
    expect(second).toEqual(["c"]);
    const byLabel = new Map(s2.jobs.map((j) => [j.label, j]));
    expect(byLabel.get("b")?.result()).toBe(4);
    expect(byLabel.get("b")?.isRestored()).toBe(true);
    expect(byLabel.get("c")?.isRestored()).toBe(false);
    const b = events.find((e) => e.type === "job-state" && e.label === "b");
    expect(b).toMatchObject({ state: "done", previous: "idle", restored: true });
    expect(plainLine(b!, { ascii: true, time: () => "T" })).toBe(
      "T r b restored (not run: done in the resumed run)",
    );
    expect(s2.list()).toMatch(/b -> 4 \(restored\)/);
  });

  test("a changed definition runs again, and so does everything downstream", async () => {
    const file = join(dir, "changed.journal.jsonl");
    const s1 = scenario({ calls: [] });
    const w = createJournal({ scheduler: s1, journal: file });
    await s1.run();
    w.stop();
    const calls: string[] = [];
    const s2 = scenario({ n: 20, calls });
    const plan = planResume({ scheduler: s2, journal: readJournal({ file }) });
    expect(plan.rerun).toEqual([
      { label: "b", why: "its definition changed" },
      { label: "c", why: 'it requires "b", which runs again' },
    ]);
    await s2.run({ restore: plan.restore });
    expect(calls.sort()).toEqual(["b", "c"]);
    expect(s2.jobs[2]?.result()).toBe(6);
  });

  test("results that cannot be restored and undescribable functions run again, one note each", async () => {
    const file = join(dir, "opaque.journal.jsonl");
    const build = (calls: string[]) => {
      const plain = new Job(
        async () => {
          calls.push("plain");
          return 1;
        },
        { label: "plain" },
      );
      const obj = new Job(
        Object.assign(
          moduleJob(
            async () => {
              calls.push("obj");
              return new Map([["k", 1]]);
            },
            { module: "./m.ts", name: "obj" },
          ),
        ),
        { label: "obj" },
      );
      return new Scheduler([plain, obj], { label: "demo" });
    };
    const s1 = build([]);
    const w = createJournal({ scheduler: s1, journal: file });
    await s1.run();
    w.stop();
    expect(readJournal({ file }).jobs.get("obj")?.unrestorable).toBe(
      "its result is not plain JSON data",
    );
    const calls: string[] = [];
    const s2 = build(calls);
    const plan = planResume({ scheduler: s2, journal: readJournal({ file }) });
    expect(plan.restore.size).toBe(0);
    expect(plan.rerun.map((r) => r.label)).toEqual(["plain", "obj"]);
    expect(plan.rerun[0]!.why).toMatch(/function cannot be described/);
    expect(plan.rerun[1]!.why).toBe(
      "its result cannot be restored: its result is not plain JSON data",
    );
    await s2.run({ restore: plan.restore });
    expect(calls).toEqual(["plain", "obj"]);
  });

  test("the journal of another scenario is a RESUME_MISMATCH error", async () => {
    const file = join(dir, "other.journal.jsonl");
    const s1 = scenario({ calls: [] });
    const w = createJournal({ scheduler: s1, journal: file });
    await s1.run();
    w.stop();
    const other = new Scheduler([new Job(async () => 1, { label: "zzz" })], { label: "demo" });
    expect(() => planResume({ scheduler: other, journal: readJournal({ file }) })).toThrow(
      /has no job label in common with scenario "demo"/,
    );
    const renamed = new Scheduler([new Job(async () => 1, { label: "a" })], { label: "other" });
    expect(() => planResume({ scheduler: renamed, journal: readJournal({ file }) })).toThrow(
      expect.objectContaining({ code: "RESUME_MISMATCH" }),
    );
  });

  test("--resume source: a trace reads the journal beside it, or its own plain results", async () => {
    const trace = join(dir, "run.trace.json");
    const s1 = scenario({ calls: [] });
    const rec = createRecorder({ scheduler: s1 });
    await s1.run();
    await writeTrace({ file: trace, trace: rec.finish({ ok: true }) });
    // no journal beside it: the trace's own jobs
    const fromTrace = readResumeSource({ file: trace });
    expect(fromTrace.jobs.get("b")).toMatchObject({ ok: true, result: 4 });
    const plan = planResume({ scheduler: scenario({ calls: [] }), journal: fromTrace });
    expect(plan.restore.size).toBe(4);
    // a journal beside it wins (also when the trace was never written)
    const beside = journalPathFor(trace);
    expect(beside).toBe(join(dir, "run.trace.journal.jsonl"));
    const s2 = scenario({ calls: [], fail: true });
    const w = createJournal({ scheduler: s2, journal: beside });
    await s2.run();
    w.stop();
    expect(readResumeSource({ file: trace }).jobs.get("c")?.ok).toBe(false);
    rmSync(trace);
    expect(readResumeSource({ file: trace }).file).toBe(beside);
    appendFileSync(beside, "");
    expect(() => readResumeSource({ file: join(dir, "none.json") })).toThrow(/no such file/);
  });
});
