import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, test } from "vitest";
import { Job, Scheduler } from "../../src/index.ts";
import { readTrace, recordRun, writeTrace } from "../../src/trace/index.ts";

const tmp = () => mkdtempSync(join(tmpdir(), "aiorch-trace-"));

describe("trace files", () => {
  test("written atomically: complete JSON, no temp file left, old file replaced whole", async () => {
    const dir = tmp();
    const file = join(dir, "run.trace.json");
    writeFileSync(file, "old content");
    const { trace } = await recordRun({
      scheduler: new Scheduler([new Job(async () => 1, { label: "a" })]),
    });
    await writeTrace({ file, trace });
    expect(readdirSync(dir)).toEqual(["run.trace.json"]);
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(trace);
    expect(await readTrace({ file })).toEqual(trace);
  });

  test("a failed write names the file and leaves nothing behind", async () => {
    const dir = tmp();
    const { trace } = await recordRun({ scheduler: new Scheduler([]) });
    await expect(writeTrace({ file: join(dir, "missing", "t.json"), trace })).rejects.toMatchObject(
      {
        code: "TRACE",
        message: expect.stringContaining("cannot write trace"),
      },
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  test("readTrace rejects other files and versions with a clear message", async () => {
    const dir = tmp();
    const f = join(dir, "x.json");
    writeFileSync(f, JSON.stringify({ hello: 1 }));
    await expect(readTrace({ file: f })).rejects.toThrow(/not an aiorch trace/);
    writeFileSync(f, JSON.stringify({ format: "aiorch-trace", version: 2, scenario: {} }));
    await expect(readTrace({ file: f })).rejects.toThrow(/trace version 2 is not supported/);
    writeFileSync(f, "{ nope");
    await expect(readTrace({ file: f })).rejects.toThrow(/is not JSON/);
  });

  test("recordRun writes the trace on a critical failure and on a timeout", async () => {
    const dir = tmp();
    const failing = new Scheduler([
      new Job(
        async () => {
          throw new Error("kaput");
        },
        { label: "bad" },
      ),
      new Job(({ signal }) => sleep(30_000, undefined, { signal }), { label: "slow" }),
    ]);
    const f1 = join(dir, "crit.json");
    expect((await recordRun({ scheduler: failing, trace: f1 })).ok).toBe(false);
    const t1 = await readTrace({ file: f1 });
    expect(t1.run).toMatchObject({ ok: false, reason: "critical" });
    expect(t1.scenario.jobs.map((j) => [j.label, j.state])).toEqual([
      ["bad", "done"],
      ["slow", "cancelled"],
    ]);
    const f2 = join(dir, "timeout.json");
    const slow = new Scheduler(
      [new Job(({ signal }) => sleep(30_000, undefined, { signal }), { label: "s" })],
      {
        timeout: 50,
      },
    );
    expect((await recordRun({ scheduler: slow, trace: f2 })).ok).toBe(false);
    expect((await readTrace({ file: f2 })).run).toMatchObject({ ok: false, reason: "timeout" });
  });

  test("recordRun writes the trace for an invalid scenario, then rethrows", async () => {
    const dir = tmp();
    const a = new Job(async () => 1, { label: "a" });
    const b = new Job(async () => 2, { label: "b", required: a });
    a.requires(b);
    const f = join(dir, "cycle.json");
    await expect(recordRun({ scheduler: new Scheduler([a, b]), trace: f })).rejects.toMatchObject({
      code: "CYCLE",
    });
    expect((await readTrace({ file: f })).run).toMatchObject({
      ok: false,
      reason: "error",
      error: { code: "CYCLE" },
    });
  });
});
