/**
 * The layering DESIGN.md and STYLE.md ask for, checked on the sources: the engine (src/)
 * depends on neither dsl/ nor codegen/ (only the CLI loads codegen, lazily); only src/ssh/
 * imports ssh2; only codegen/ imports ts-morph; src/index.ts names its exports (no `export *`).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
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
});
