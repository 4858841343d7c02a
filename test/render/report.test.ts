import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, test } from "vitest";
import { Job, type JobContext, Scheduler } from "../../src/index.ts";
import { timelineFromTrace } from "../../src/render/from-trace.ts";
import { flattenEdges } from "../../src/render/graph-svg.ts";
import { createLiveState, reduceLiveState } from "../../src/render/live.ts";
import { renderReport } from "../../src/render/report.ts";
import { buildTimeline, findCriticalPath, type TimelineModel } from "../../src/render/timeline.ts";
import { recordRun } from "../../src/trace/record.ts";

/** fetch -> compile -> tests{unit, e2e} -> pack, lint (fails, non-critical) beside. */
function buildScenario() {
  const step = (label: string, ms: number, opts: { fail?: string; critical?: boolean } = {}) =>
    new Job(
      async ({ signal, log }: JobContext) => {
        log(`${label} <start>`);
        await sleep(ms, undefined, { signal });
        if (opts.fail) throw new Error(opts.fail);
        return label;
      },
      { label, ...(opts.critical === undefined ? {} : { critical: opts.critical }) },
    );
  const fetch = step("fetch", 40);
  const compile = step("compile", 120).requires(fetch);
  const lint = step("lint", 30, { fail: "3 <style> errors", critical: false }).requires(fetch);
  const tests = new Scheduler([step("unit", 30), step("e2e", 150)], { label: "tests" }).requires(
    compile,
  );
  const pack = step("pack", 30).requires(tests, lint);
  return new Scheduler([fetch, compile, lint, tests, pack], { label: "build & <ship>" });
}

async function liveModel(): Promise<TimelineModel> {
  const s = buildScenario();
  const state = createLiveState({ tail: 20 });
  s.on((e) => reduceLiveState(state, e));
  expect(await s.run()).toBe(true);
  return buildTimeline({ state, debrief: s.debrief() });
}

describe("timeline from live events", () => {
  test("every job with times, outcome, output, requirements; groups in display order", async () => {
    const m = await liveModel();
    expect(m.jobs.map((j) => j.id)).toEqual([
      "fetch",
      "compile",
      "lint",
      "tests",
      "tests/unit",
      "tests/e2e",
      "pack",
    ]);
    const byId = new Map(m.jobs.map((j) => [j.id, j]));
    expect(byId.get("lint")).toMatchObject({
      outcome: "failed",
      error: "Error: 3 <style> errors",
      critical: false,
    });
    expect(byId.get("tests")).toMatchObject({ isGroup: true, outcome: "ok", kind: "Scheduler" });
    expect(byId.get("tests/e2e")).toMatchObject({ group: ["tests"], output: ["e2e <start>"] });
    expect(byId.get("pack")!.requires).toEqual(["tests", "lint"]);
    for (const j of m.jobs) expect(j.end! >= j.start!).toBe(true);
    expect(m.ok).toBe(true);
  });

  test("the critical path goes through the slowest requirement, into nested groups", async () => {
    const m = await liveModel();
    expect(findCriticalPath(m)).toEqual(["fetch", "compile", "tests/e2e", "pack"]);
  });

  test("graph edges with groups flattened", async () => {
    const m = await liveModel();
    expect(flattenEdges(m)).toEqual([
      ["fetch", "compile"],
      ["fetch", "lint"],
      ["compile", "tests/unit"],
      ["compile", "tests/e2e"],
      ["tests/unit", "pack"],
      ["tests/e2e", "pack"],
      ["lint", "pack"],
    ]);
  });
});

describe("renderReport()", () => {
  test("one self-contained page: timeline rows, coloured bars, critical path, graph, debrief", async () => {
    const html = renderReport({ model: await liveModel() });
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html.match(/<div class="row (ok|failed|cancelled|running|not-run)/g)).toHaveLength(7);
    expect(html.match(/class="bar ok[^"]*"/g)).toHaveLength(6);
    expect(html.match(/class="bar failed[^"]*"/g)).toHaveLength(1);
    expect(html.match(/class="bar [^"]*\bcp\b/g)).toHaveLength(4);
    expect(html).toContain('<svg class="graph"');
    expect(html.match(/<g class="node /g)).toHaveLength(6);
    expect(html.match(/<path class="edge/g)).toHaveLength(7);
    expect(html).toContain("critical path: fetch → compile → tests/e2e → pack");
    expect(html).toContain("----- ok (");
    // no network: nothing but the SVG namespace looks like a URL
    expect(html.replace('xmlns="http://www.w3.org/2000/svg"', "")).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<(link|img|iframe)\b/);
  });

  test("text is escaped everywhere; the job data parses back", async () => {
    const html = renderReport({ model: await liveModel() });
    expect(html).toContain("build &amp; &lt;ship&gt;");
    expect(html).not.toContain("<style> errors");
    const json = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(
      html,
    )![1]!;
    expect(json).not.toContain("<");
    const { jobs } = JSON.parse(json) as { jobs: { id: string; output: string[] }[] };
    expect(jobs.find((j) => j.id === "fetch")!.output).toEqual(["fetch <start>"]);
  });
});

describe("job ids with / in labels", () => {
  /** group "a" holds job "b/c", group "a/b" holds job "c": joined with "/" both were "a/b/c" */
  function slashes() {
    const job = (label: string, out: string) =>
      new Job(
        async ({ log }: JobContext) => {
          log(out);
          await sleep(20);
        },
        { label },
      );
    const a = new Scheduler([job("b/c", "from a")], { label: "a" });
    const ab = new Scheduler([job("c", "from a/b")], { label: "a/b" }).requires(a);
    const end = job("100%", "end").requires(ab);
    return new Scheduler([a, ab, end], { label: "slashes" });
  }
  const expected = [
    ["a", true, []],
    ["a/b%2Fc", false, []],
    ["a%2Fb", true, ["a"]],
    ["a%2Fb/c", false, []],
    ["100%25", false, ["a%2Fb"]],
  ];

  test("live and recorded timelines give each job its own id and its own output", async () => {
    const s = slashes();
    const state = createLiveState({ tail: 20 });
    s.on((e) => reduceLiveState(state, e));
    expect(await s.run()).toBe(true);
    const live = buildTimeline({ state });
    const { trace } = await recordRun({ scheduler: slashes() });
    const fromTrace = timelineFromTrace(JSON.parse(JSON.stringify(trace)));
    for (const m of [live, fromTrace]) {
      expect(m.jobs.map((j) => [j.id, j.isGroup, j.requires])).toEqual(expected);
      const out = new Map(m.jobs.map((j) => [j.label, j.output]));
      expect(out.get("b/c")).toEqual(["from a"]);
      expect(out.get("c")).toEqual(["from a/b"]);
      expect(findCriticalPath(m)).toEqual(["a/b%2Fc", "a%2Fb/c", "100%25"]);
      expect(flattenEdges(m)).toEqual([
        ["a/b%2Fc", "a%2Fb/c"],
        ["a%2Fb/c", "100%25"],
      ]);
    }
  });
});

describe("timelineFromTrace()", () => {
  test("a recorded run gives the same jobs, outcomes and critical path as the live events", async () => {
    const { trace } = await recordRun({ scheduler: buildScenario() });
    const fromTrace = timelineFromTrace(JSON.parse(JSON.stringify(trace)));
    const live = await liveModel();
    const pick = (m: TimelineModel) =>
      m.jobs.map((j) => [j.id, j.outcome, j.isGroup, j.requires, j.error]);
    expect(pick(fromTrace)).toEqual(pick(live));
    expect(findCriticalPath(fromTrace)).toEqual(["fetch", "compile", "tests/e2e", "pack"]);
    expect(fromTrace.jobs.find((j) => j.id === "tests/unit")!.output).toEqual(["unit <start>"]);
    expect(fromTrace.ok).toBe(true);
    const html = renderReport({ model: fromTrace });
    expect(html).toContain("===== 1 job(s) with an exception");
  });

  test("a hand-written trace of the documented shape: hosts, commands, a timeout", () => {
    const model = timelineFromTrace({
      format: "aiorch-trace",
      version: 1,
      createdAt: "2026-01-01T10:00:05.000Z",
      file: "/srv/deploy.scenario.ts",
      run: {
        startedAt: 1_000_000,
        endedAt: 1_005_000,
        elapsed: 5000,
        ok: false,
        reason: "timeout",
        timeout: 5000,
      },
      limits: { jobOutputBytes: 65536, totalOutputBytes: 4194304, resultBytes: 16384 },
      scenario: {
        type: "scheduler",
        label: "deploy",
        critical: true,
        forever: false,
        requires: [],
        state: "done",
        startedAt: 0,
        endedAt: 5000,
        jobs: [
          {
            type: "job",
            kind: "SshJob",
            label: "install",
            critical: true,
            forever: false,
            requires: [],
            state: "cancelled",
            startedAt: 10,
            endedAt: 5000,
            error: {
              name: "CancelledError",
              code: "TIMEOUT",
              message: "cancelled: timed out after 5000 ms",
            },
            work: {
              kind: "commands",
              node: { type: "ssh", host: "10.0.0.7", user: "root" },
              commands: [
                { type: "run", argv: ["apt-get install -y", "iperf3"] },
                { type: "push", locals: ["conf/"], remote: "/etc/app/" },
              ],
            },
            output: {
              lines: [{ at: 200, stream: "stderr", line: "E: locked", host: "10.0.0.7" }],
              truncated: false,
              droppedLines: 0,
              droppedBytes: 0,
            },
          },
        ],
      },
    });
    expect(model).toMatchObject({
      title: "deploy.scenario.ts",
      start: 1_000_000,
      end: 1_005_000,
      ok: false,
      reason: "timeout",
      timeout: 5000,
    });
    expect(model.jobs[0]).toMatchObject({
      id: "install",
      start: 1_000_010,
      end: 1_005_000,
      outcome: "cancelled",
      host: "root@10.0.0.7",
      command: "apt-get install -y iperf3\npush conf/ -> /etc/app/",
      error: "cancelled: timed out after 5000 ms",
      output: ["! [10.0.0.7] E: locked"],
    });
    expect(renderReport({ model })).toContain("✘ timed out after 5000 ms");
  });
});
