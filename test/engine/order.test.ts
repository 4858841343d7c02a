import { describe, expect, test } from "vitest";
import { Job, Scheduler } from "../../src/index.ts";
import { labels, noop, Recorder } from "./helpers.ts";

function build(): Scheduler {
  // insertion order deliberately not alphabetical nor topological
  const z = noop("z");
  const m = noop("m");
  const a = noop("a", [z, m]);
  const q = noop("q", z);
  const inner = new Scheduler([noop("i2"), noop("i1")], { label: "inner" });
  inner.requires(q);
  return new Scheduler([a, inner, q, m, z], { label: "root" });
}

describe("B18: deterministic order", () => {
  test("jobs ready together start in insertion order (window 1)", async () => {
    const r = new Recorder();
    const names = ["k", "c", "x", "a", "m", "b"];
    const s = new Scheduler(
      names.map((n) => r.job(n, 5)),
      { window: 1 },
    );
    expect(await s.run()).toBe(true);
    expect(r.started()).toEqual(names);
  });

  test("jobs ready together start in insertion order (no window)", async () => {
    const order: string[] = [];
    const mk = (l: string, req?: Job) =>
      new Job(async () => void order.push(l), req ? { label: l, required: req } : { label: l });
    const root = mk("root");
    const jobs = ["d", "b", "e", "a", "c"].map((l) => mk(l, root));
    expect(await new Scheduler([...jobs, root]).run()).toBe(true);
    expect(order).toEqual(["root", "d", "b", "e", "a", "c"]);
  });

  test("successors released by one job start in insertion order, with a window", async () => {
    const r = new Recorder();
    const gate = r.job("gate", 20);
    const succ = ["s3", "s1", "s2"].map((l) => r.job(l, 5, { required: gate }));
    const s = new Scheduler([...succ, gate], { window: 1 });
    expect(await s.run()).toBe(true);
    expect(r.started()).toEqual(["gate", "s3", "s1", "s2"]);
  });

  test("topological order is stable: insertion order among peers", () => {
    const s = build();
    expect(labels(s.topologicalOrder())).toEqual(["m", "z", "a", "q", "inner"]);
  });

  test("listings, ids, DOT and Mermaid are identical for identical builds", () => {
    const a = build();
    const b = build();
    expect(a.list({ ascii: true })).toBe(b.list({ ascii: true }));
    expect(a.exportDot()).toBe(b.exportDot());
    expect(a.exportMermaid()).toBe(b.exportMermaid());
    expect(a.list({ ascii: true })).toBe(a.list({ ascii: true }));
    const ids = a
      .list({ ascii: true })
      .split("\n")
      .map((l) => `${l.split(" ")[0]} ${l.match(/ (Job|Scheduler) (\S+)/)?.[2] ?? "end"}`);
    expect(ids).toEqual([
      "1 m",
      "2 z",
      "3 a",
      "4 q",
      "5 inner",
      "6 i2",
      "7 i1",
      "5 inner", // the --end-- line of inner
    ]);
  });

  test("graph queries return jobs in insertion order", () => {
    const j1 = noop("j1");
    const later = noop("later", j1);
    const early = noop("early", j1);
    const s = new Scheduler([j1, later, early]);
    expect(labels(s.successors(j1))).toEqual(["later", "early"]);
    expect(labels(s.downstream(j1))).toEqual(["later", "early"]);
    expect(labels(s.exitJobs())).toEqual(["later", "early"]);
  });
});
