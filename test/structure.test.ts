/**
 * The layering DESIGN.md and STYLE.md ask for, checked on the sources: the engine (src/)
 * depends on neither dsl/ nor codegen/ (only the CLI loads codegen, lazily); only src/ssh/
 * imports ssh2; only codegen/ imports ts-morph; src/index.ts names its exports (no `export *`);
 * src/ has no import cycle (type-only imports count: they couple all the same); views read
 * plans and events, not the engine's classes.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, test } from "vitest";

const ROOT = join(import.meta.dirname, "..");

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(dir, f));
}

/** Module specifiers a file imports, statically or with import(). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) out.push(m[1]!);
  return out;
}

const offenders = (files: string[], bad: (spec: string, file: string) => boolean) =>
  files.flatMap((f) =>
    importsOf(f)
      .filter((s) => bad(s, f))
      .map((s) => `${f} imports ${s}`),
  );

describe("layering", () => {
  test("the engine imports neither dsl/ nor codegen/ (the CLI may load codegen lazily)", () => {
    const engine = sources("src").filter((f) => !f.startsWith(join("src", "cli")));
    expect(offenders(engine, (s) => /(^|\/)(dsl|codegen)\//.test(s))).toEqual([]);
    const cli = sources(join("src", "cli"));
    const staticCodegen = cli.filter((f) =>
      /^import[^(]*from\s*"[./]*codegen\//m.test(readFileSync(join(ROOT, f), "utf8")),
    );
    expect(staticCodegen).toEqual([]);
  });

  test("only src/ssh/ imports ssh2, only codegen/ imports ts-morph", () => {
    const all = [...sources("src"), ...sources("dsl"), ...sources("codegen")];
    expect(
      offenders(all, (s, f) => s === "ssh2" && !relative("src/ssh", f).match(/^[^.]/)),
    ).toEqual([]);
    expect(offenders(all, (s, f) => s === "ts-morph" && !f.startsWith("codegen"))).toEqual([]);
  });

  test("only src/queue/ imports bullmq and ioredis; the CLI loads it lazily", () => {
    const all = [...sources("src"), ...sources("dsl"), ...sources("codegen")];
    const queue = (f: string) => relative("src/queue", f).match(/^[^.]/);
    expect(offenders(all, (s, f) => /^(bullmq|ioredis)$/.test(s) && !queue(f))).toEqual([]);
    const cli = sources(join("src", "cli"));
    const staticQueue = cli.filter((f) =>
      /^import[^(]*from\s*"[./]*queue\//m.test(readFileSync(join(ROOT, f), "utf8")),
    );
    expect(staticQueue).toEqual([]);
  });

  test("src/index.ts lists its exports by name", () => {
    expect(readFileSync(join(ROOT, "src/index.ts"), "utf8")).not.toMatch(/export \*/);
  });

  test("no import cycle in src/, type-only imports included", () => {
    const files = sources("src");
    const known = new Set(files);
    const edges = new Map(
      files.map((f) => [
        f,
        importsOf(f)
          .filter((s) => s.startsWith("."))
          .map((s) => relative(ROOT, resolve(ROOT, dirname(f), s)))
          .filter((t) => known.has(t)),
      ]),
    );
    expect(findCycles(edges)).toEqual([]);
  });

  test("nothing under src/render/ imports scheduler.ts or job.ts", () => {
    const render = sources(join("src", "render"));
    expect(
      offenders(render, (s) => /(^|\/)(scheduler|job)\.ts$/.test(s) && !s.includes("ssh/")),
    ).toEqual([]);
  });

  test("the trace recorder reads the plan and the events: the engine's classes as types only", () => {
    const text = readFileSync(join(ROOT, "src/trace/recorder.ts"), "utf8");
    const valueImports = [...text.matchAll(/^import\s+(?!type\b)[^;]*?from\s*"([^"]+)"/gms)]
      .map((m) => m[1]!)
      .filter((s) => /(^|\/)(scheduler|job)\.ts$/.test(s));
    expect(valueImports).toEqual([]);
    expect(text).not.toMatch(/\be\.job\b|instanceof/);
  });
});

/** Strongly connected components of more than one file (Tarjan), each as a sorted list. */
function findCycles(edges: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        onStack.delete(w);
        scc.push(w);
        if (w === v) break;
      }
      if (scc.length > 1 || edges.get(v)?.includes(v)) out.push(scc.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return out;
}
