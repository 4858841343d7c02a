// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the test strings contain ${ on purpose (escaping)
/**
 * Round trip: run a scenario on a real sshd and the local machine → record → codegen →
 * type-check → `aiorch run` the generated file with `--record` → both traces have the same
 * structure, nodes and commands.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkScenarioFiles } from "../../codegen/check.ts";
import { generateScenario } from "../../codegen/emit/scenario.ts";
import { traceToModel } from "../../codegen/from-trace.ts";
import { scenario } from "../../dsl/index.ts";
import { LocalNode, run, runString, type SshNode } from "../../src/index.ts";
import { moduleJob, readTrace, recordRun } from "../../src/trace/index.ts";
import type { Trace, TraceNode, TraceWork } from "../../src/trace/types.ts";
import { nodeOn } from "../ssh/helpers.ts";
import { type Sshd, startSshd } from "../ssh/sshd.ts";
import { double } from "./fixtures/steps.ts";

const ROOT = resolve(import.meta.dirname, "../..");
let sshd: Sshd;
let node: SshNode;

beforeAll(async () => {
  sshd = await startSshd({ addresses: ["127.0.0.2"] });
  node = nodeOn(sshd, "127.0.0.2");
});
afterAll(async () => {
  await node?.close();
  await sshd?.stop();
});

/** What must survive the round trip: structure, nodes and commands (not timings). */
function shape(n: TraceNode, file: string): unknown {
  const base = {
    type: n.type,
    label: n.label,
    requires: n.requires,
    critical: n.critical,
    forever: n.forever,
  };
  if (n.type === "scheduler")
    return {
      ...base,
      timeout: n.timeout,
      window: n.window,
      jobs: n.jobs.map((j) => shape(j, file)),
    };
  return { ...base, state: n.state, work: work(n.work, file) };
}

function work(w: TraceWork, file: string): unknown {
  if (w.kind === "opaque" || w.kind === "replay") return { kind: "replay" }; // opaque is replayed
  if (w.kind === "function") return { ...w, module: resolve(dirname(file), String(w.module)) };
  // a deferred argument is recorded as its source, which the transpiler (vitest, tsx) reprints
  return JSON.parse(JSON.stringify(w), (k, v) =>
    k === "deferred"
      ? String(v)
          .replace(/\s+/g, "")
          .replace(/^\((\w+)\)=>/, "$1=>")
      : v,
  );
}

function runCli(args: string[]): Promise<number | null> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [join(ROOT, "bin/aiorch.mjs"), ...args], {
      stdio: "inherit",
    });
    child.on("error", rej);
    child.on("exit", res);
  });
}

describe("record → codegen → run → record", () => {
  test("local and SSH nodes: the two traces have the same structure and commands", async () => {
    const phase = scenario("phase", { window: 1, critical: false })
      .ssh("inner-ssh", node, [run("test", "-d", "/")])
      .job("inner-fail", async () => {
        throw new TypeError("expected failure");
      });
    const original = scenario("roundtrip", { timeout: 60_000 })
      .job("fetch", async () => ({ n: 1, text: 'a "quoted" `x` ${y}' }))
      .ssh("remote", node, [run("echo", 'it\'s "quoted" `x` ${y} é', { capture: "greeting" })], {
        after: ["fetch"],
      })
      .ssh(
        "local",
        new LocalNode(),
        [
          run("printf '%s\\n'", (vars) => vars.greeting ?? ""),
          runString('#!/bin/sh\necho "$1" \\\\ `true` ${HOME:+home}\n', ["arg 1"]),
        ],
        { after: ["remote"], critical: false },
      )
      .job(
        "double",
        moduleJob(double, { module: "./fixtures/steps.ts", name: "double", args: [21] }),
        {
          after: ["fetch"],
        },
      )
      .include("phase", phase, { after: ["local", "double"] });

    const first = await recordRun({
      scheduler: original.build(),
      file: join(import.meta.dirname, "roundtrip.scenario.ts"),
    });
    expect(first.ok).toBe(true);
    const t1: Trace = first.trace;

    mkdirSync(join(ROOT, ".tmp"), { recursive: true });
    const dir = mkdtempSync(join(ROOT, ".tmp", "rt-"));
    mkdirSync(dir, { recursive: true });
    const out = join(dir, "replay.scenario.ts");
    const code = generateScenario({
      model: traceToModel({ trace: t1 }),
      outFile: out,
      source: "roundtrip",
    });
    writeFileSync(out, code);
    expect(code).toContain("new SshNode({");
    expect(code).toContain("// REPLAY: an opaque function: it took");
    expect(code).toContain('run("echo", "it\'s \\"quoted\\" `x` ${y} é", { capture: "greeting" })');
    expect(checkScenarioFiles({ files: [out], tsconfig: join(ROOT, "tsconfig.json") })).toEqual([]);

    const tracePath = join(dir, "second.trace.json");
    expect(await runCli(["run", out, "--quiet", "--record", tracePath])).toBe(0);
    const t2 = await readTrace({ file: tracePath });
    expect(t2.run).toMatchObject({ ok: true, reason: "ok" });
    expect(shape(t2.scenario, t2.file ?? "")).toEqual(shape(t1.scenario, t1.file ?? ""));
    // replayed jobs keep their recorded outcome
    const fetch2 = t2.scenario.jobs.find((j) => j.label === "fetch");
    expect(fetch2).toMatchObject({ result: { n: 1, text: 'a "quoted" `x` ${y}' } });
    const inner = (t2.scenario.jobs.find((j) => j.label === "phase") as { jobs: TraceNode[] })
      .jobs[1];
    expect(inner).toMatchObject({ error: { name: "TypeError", message: "expected failure" } });
    rmSync(dir, { recursive: true, force: true });
    // a full type-check of generated files: ~27 s alone on a loaded 2-core machine
  }, 120_000);
});
