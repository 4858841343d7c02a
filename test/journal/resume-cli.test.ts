/**
 * The five tests of durable runs, through `aiorch run` on data scenarios, once on a
 * LocalNode and once on the test sshd: executions are counted with a file each command
 * appends to.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readJournal } from "../../src/journal/index.ts";
import type { Trace, TraceJob } from "../../src/trace/types.ts";
import { type Sshd, startSshd } from "../ssh/sshd.ts";

let sshd: Sshd;
const dirs: string[] = [];
/** sleeps of this test run, told apart by a unique duration (killed at the end) */
const SLEEP = `30.${randomBytes(3).readUIntBE(0, 3)}`;

beforeAll(async () => {
  sshd = await startSshd({ addresses: ["127.0.0.2"] });
});

afterAll(async () => {
  for (const pid of ownSleeps()) process.kill(pid, "SIGKILL");
  await sshd?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** pids of this run's `sleep SLEEP` processes (local or started by the test sshd). */
function ownSleeps(): number[] {
  const out: number[] = [];
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const argv = readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0");
      if (argv[0]?.endsWith("sleep") && argv[1] === SLEEP) out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** A work dir the test user of the sshd can write too. */
function workDir(): string {
  const d = mkdtempSync(join(tmpdir(), "aiorch-resume-"));
  chmodSync(d, 0o777);
  // written by local functions and by the sshd's test user alike
  writeFileSync(join(d, "runs"), "");
  chmodSync(join(d, "runs"), 0o666);
  dirs.push(d);
  return d;
}

type Node = "local" | "ssh";

/** A data scenario (JSON is YAML): jobs given as [label, command, after?, extra?]. */
function writeScenario(
  dir: string,
  node: Node,
  jobs: [string, string, string[]?, Record<string, unknown>?][],
  extra: Record<string, unknown>[] = [],
): string {
  const nodes =
    node === "ssh"
      ? {
          n: {
            host: "127.0.0.2",
            port: sshd.port,
            user: sshd.user,
            keys: [sshd.keys.clientKey.path],
            knownHosts: sshd.knownHosts,
            agent: false,
          },
        }
      : { n: { local: true } };
  const file = join(dir, "s.yaml");
  writeFileSync(
    file,
    JSON.stringify({
      scenario: "durable",
      nodes,
      jobs: [
        ...extra,
        ...jobs.map(([label, cmd, after, more]) => ({
          label,
          node: "n",
          ...(after ? { after } : {}),
          commands: [`echo ${label} >> ${dir}/runs; ${cmd}`],
          ...more,
        })),
      ],
    }),
  );
  return file;
}

function aiorch(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("node", ["bin/aiorch.mjs", ...args], { encoding: "utf8" }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const runs = (dir: string): string[] =>
  existsSync(join(dir, "runs"))
    ? readFileSync(join(dir, "runs"), "utf8").trim().split("\n").filter(Boolean)
    : [];

const traceOf = (file: string): Trace => JSON.parse(readFileSync(file, "utf8")) as Trace;
const jobOf = (t: Trace, label: string): TraceJob =>
  t.scenario.jobs.find((j) => j.label === label) as TraceJob;

describe.each<Node>(["local", "ssh"])("durable runs on %s", (node) => {
  test("(1) the third job fails, then passes: --resume runs it and its dependents only", async () => {
    const dir = workDir();
    const s = writeScenario(dir, node, [
      ["one", "true"],
      ["two", "true", ["one"]],
      ["three", `test -e ${dir}/marker`, ["two"]],
      ["four", "true", ["three"]],
    ]);
    const t1 = join(dir, "first.trace.json");
    const first = await aiorch(["run", s, "--plain", "--record", t1]);
    expect(first.code).toBe(1);
    expect(runs(dir)).toEqual(["one", "two", "three"]);
    writeFileSync(join(dir, "marker"), "");
    const t2 = join(dir, "second.trace.json");
    const second = await aiorch(["run", s, "--plain", "--resume", t1, "--record", t2]);
    expect(second.code, second.stderr).toBe(0);
    expect(runs(dir)).toEqual(["one", "two", "three", "three", "four"]);
    expect(second.stderr).toContain(
      `aiorch: resuming from ${join(dir, "first.trace.journal.jsonl")}: 2 job(s) restored, 2 to run`,
    );
    // restored in the plain log, the debrief, the new trace and its journal
    expect(second.stdout).toMatch(/ ⤺ one restored \(not run: done in the resumed run\)/);
    expect(second.stdout).toMatch(/SshJob one -> OK \(restored\)/);
    const trace = traceOf(t2);
    expect([jobOf(trace, "one").restored, jobOf(trace, "two").restored]).toEqual([true, true]);
    expect(jobOf(trace, "three").restored).toBeUndefined();
    const j2 = readJournal({ file: join(dir, "second.trace.journal.jsonl") });
    expect(j2.jobs.get("one")).toMatchObject({ ok: true, restored: true });
    // the journal of the resumed run resumes as well: nothing left to run
    const third = await aiorch(["run", s, "--plain", "--resume", t2]);
    expect(third.code).toBe(0);
    expect(runs(dir)).toHaveLength(5);
  });

  test("(2) kill -9 of aiorch run --record mid-run, then --resume: done jobs not run again, running ones run", async () => {
    const dir = workDir();
    const s = writeScenario(dir, node, [
      ["one", "true"],
      ["two", "true", ["one"]],
      ["slow", `test -e ${dir}/fast || sleep ${SLEEP}`, ["two"]],
      ["three", "true", ["slow"]],
    ]);
    const t = join(dir, "run.trace.json");
    const child: ChildProcess = spawn(
      "node",
      ["bin/aiorch.mjs", "run", s, "--plain", "--record", t],
      {
        stdio: "ignore",
        detached: true,
      },
    );
    const deadline = Date.now() + 20_000;
    while (!runs(dir).includes("slow") && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(runs(dir)).toEqual(["one", "two", "slow"]);
    const exited = new Promise((r) => child.once("exit", r));
    process.kill(-child.pid!, "SIGKILL");
    await exited;
    expect(existsSync(t)).toBe(false); // the trace is written at the end: only the journal is there
    const journal = readJournal({ file: join(dir, "run.trace.journal.jsonl") });
    expect([...journal.jobs.keys()]).toEqual(["one", "two"]);
    expect(journal.end).toBeUndefined();
    writeFileSync(join(dir, "fast"), "");
    const again = await aiorch(["run", s, "--plain", "--resume", t]);
    expect(again.code, again.stderr).toBe(0);
    expect(runs(dir)).toEqual(["one", "two", "slow", "slow", "three"]);
    expect(again.stderr).toContain("2 job(s) restored, 2 to run");
  });

  test("(3) a changed command invalidates that job and everything downstream", async () => {
    const dir = workDir();
    const jobs: [string, string, string[]?][] = [
      ["one", "true"],
      ["two", "true", ["one"]],
      ["three", "true", ["two"]],
      ["side", "true", ["one"]],
    ];
    const s = writeScenario(dir, node, jobs);
    const t = join(dir, "run.trace.json");
    expect((await aiorch(["run", s, "--plain", "--record", t])).code).toBe(0);
    expect(runs(dir).sort()).toEqual(["one", "side", "three", "two"]);
    jobs[1] = ["two", "echo changed", ["one"]];
    writeScenario(dir, node, jobs);
    const again = await aiorch(["run", s, "--plain", "--resume", t]);
    expect(again.code, again.stderr).toBe(0);
    expect(runs(dir).slice(4)).toEqual(["two", "three"]);
    expect(again.stderr).toContain(`aiorch: resume: "two" runs again: its definition changed`);
    expect(again.stderr).toContain(
      `aiorch: resume: "three" runs again: it requires "two", which runs again`,
    );
    expect(again.stderr).toContain("2 job(s) restored, 2 to run");
  });

  test("(4) retries: a job failing twice then passing; the attempts are in the trace", async () => {
    const dir = workDir();
    const count = `n=$(cat ${dir}/tries 2>/dev/null || echo 0); n=$((n+1)); echo $n > ${dir}/tries; test $n -ge 3`;
    const s = writeScenario(dir, node, [
      ["flaky", count, undefined, { retry: { attempts: 3, backoff: 20 } }],
      ["after", "true", ["flaky"]],
    ]);
    const t = join(dir, "run.trace.json");
    const r = await aiorch(["run", s, "--plain", "--record", t]);
    expect(r.code, r.stderr).toBe(0);
    expect(runs(dir)).toEqual(["flaky", "flaky", "flaky", "after"]);
    expect(r.stdout).toMatch(/↻ flaky attempt 1\/3 failed: .*exited 1.*, attempt 2 in \d+ ms/);
    expect(r.stdout).toMatch(/↻ flaky attempt 2\/3 failed: .*, attempt 3 in \d+ ms/);
    expect(r.stdout).toMatch(/☓ flaky done \(\d+ ms\) after 3 attempts/);
    const flaky = jobOf(traceOf(t), "flaky");
    expect(flaky.attempts?.map((a) => [a.attempt, a.error.code])).toEqual([
      [1, "COMMAND_FAILED"],
      [2, "COMMAND_FAILED"],
    ]);
    expect(flaky.error).toBeUndefined();
  });

  test("(5) resume across a non-serialisable result: that job and its dependents run again, said once each", async () => {
    const dir = workDir();
    writeFileSync(
      join(dir, "steps.mjs"),
      [
        `import { appendFileSync } from "node:fs";`,
        `export async function table() { appendFileSync(${JSON.stringify(join(dir, "runs"))}, "table\\n"); return new Map([["k", 1]]); }`,
        `export async function count() { appendFileSync(${JSON.stringify(join(dir, "runs"))}, "count\\n"); return 7; }`,
      ].join("\n"),
    );
    const calls = [
      { label: "table", call: { module: "./steps.mjs", name: "table" } },
      { label: "count", call: { module: "./steps.mjs", name: "count" } },
    ];
    const s = writeScenario(
      dir,
      node,
      [
        ["use", "true", ["table"]],
        ["last", `test -e ${dir}/marker`, ["use", "count"]],
      ],
      calls,
    );
    const t = join(dir, "run.trace.json");
    expect((await aiorch(["run", s, "--plain", "--record", t])).code).toBe(1);
    expect(runs(dir).sort()).toEqual(["count", "last", "table", "use"]);
    writeFileSync(join(dir, "marker"), "");
    const again = await aiorch(["run", s, "--plain", "--resume", t]);
    expect(again.code, again.stderr).toBe(0);
    expect(runs(dir).slice(4)).toEqual(["table", "use", "last"]);
    const notes = again.stderr.split("\n").filter((l) => l.startsWith("aiorch: resume: "));
    expect(notes).toEqual([
      `aiorch: resume: "table" runs again: its result cannot be restored: its result is not plain JSON data`,
      `aiorch: resume: "use" runs again: it requires "table", which runs again`,
    ]);
    expect(again.stderr).toContain("1 job(s) restored, 3 to run");
  });
});

describe("resume errors", () => {
  test("the journal of another scenario is an error, exit 2", async () => {
    const dir = workDir();
    const s = writeScenario(dir, "local", [["one", "true"]]);
    const t = join(dir, "run.trace.json");
    expect((await aiorch(["run", s, "--record", t, "--quiet"])).code).toBe(0);
    const other = join(dir, "other.yaml");
    writeFileSync(
      other,
      JSON.stringify({
        scenario: "else",
        jobs: [{ label: "x", node: "local", commands: ["true"] }],
      }),
    );
    const r = await aiorch(["run", other, "--resume", t]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `aiorch: cannot resume: ${join(dir, "run.trace.journal.jsonl")} is the journal of scenario "durable", not "else"`,
    );
    const missing = await aiorch(["run", s, "--resume", join(dir, "nope.json")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("no such file");
  });
});
