/**
 * `--root`: module jobs of a project checked out at one path on the controller and at
 * another on a worker. The path mapping (any input: under DIR or refused), links resolved,
 * the project root found from the scenario file; then a real redis-server, a real
 * `aiorch worker --root B` and `aiorch run` of a scenario in A, and hostile queue data
 * pushed straight to the queue (refused, never imported).
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Queue } from "bullmq";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  mapToRoot,
  moduleRefOf,
  projectRootOf,
  relativeToRoot,
  resolveUnderRoot,
} from "../../src/queue/root.ts";
import { SPEC_VERSION } from "../../src/queue/spec.ts";
import { startRunOf } from "./helpers.ts";
import { type RedisServer, startRedis, startWorkerProcess, type WorkerProcess } from "./redis.ts";

const base = realpathSync(mkdtempSync(join(tmpdir(), "aiorch-root-")));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe("path mapping", () => {
  it("maps a module under the spec's root to the same relative path under DIR", () => {
    expect(
      mapToRoot({ module: "/home/a/exp/lib/s.ts", root: "/home/a/exp", dir: "/opt/exp" }),
    ).toEqual({ path: "/opt/exp/lib/s.ts" });
    expect(
      mapToRoot({ module: "/home/a/exp/s.ts", root: "/home/a/exp/", dir: "/opt/exp/" }),
    ).toEqual({
      path: "/opt/exp/s.ts",
    });
    expect(mapToRoot({ module: "/home/a/other/s.ts", root: "/home/a/exp", dir: "/opt" })).toEqual({
      refused: "is not under the run's project root /home/a/exp",
    });
    expect(mapToRoot({ module: "/home/a/exp/../x.ts", root: "/home/a/exp", dir: "/opt" })).toEqual({
      refused: "is not under the run's project root /home/a/exp",
    });
    expect(mapToRoot({ module: "/home/a/exp", root: "/home/a/exp", dir: "/opt" })).toMatchObject({
      refused: expect.stringMatching(/not under/),
    });
    expect(mapToRoot({ module: "../../etc/x.mjs", root: "/r", dir: "/opt" })).toEqual({
      refused: "is not an absolute path",
    });
    expect(mapToRoot({ module: "/r/a\0b", root: "/r", dir: "/opt" })).toEqual({
      refused: "holds a NUL byte",
    });
    // a file whose name starts with two dots is no `..` segment
    expect(mapToRoot({ module: "/r/..x/s.ts", root: "/r", dir: "/opt" })).toEqual({
      path: "/opt/..x/s.ts",
    });
    expect(moduleRefOf({ module: "/r/lib/s.ts", root: "/r" })).toBe("lib/s.ts");
    expect(moduleRefOf({ module: "/lib/s.ts", root: "/r" })).toBe("/lib/s.ts");
    expect(relativeToRoot({ module: "/r/a/b.ts", root: "/r" })).toEqual({ rel: "a/b.ts" });
  });

  const segment = fc.oneof(
    fc.constantFrom("..", ".", "", "a", "b", "..a", "a..", "\0", " ", "%2e%2e", "\\.."),
    fc.string({ maxLength: 4 }),
  );
  const path = fc
    .tuple(fc.boolean(), fc.array(segment, { maxLength: 6 }))
    .map(([abs, parts]) => `${abs ? "/" : ""}${parts.join("/")}`);

  it("any module, root and DIR: a path under DIR, or refused", () => {
    fc.assert(
      fc.property(path, path, path, (module, root, dir) => {
        const m = mapToRoot({ module, root, dir });
        if ("refused" in m) return;
        const rel = relative(resolve(dir), m.path);
        expect(rel).not.toBe("");
        expect(isAbsolute(rel)).toBe(false);
        expect(rel.split("/")).not.toContain("..");
        expect(m.path.startsWith(resolve(dir) === "/" ? "/" : `${resolve(dir)}/`)).toBe(true);
        expect(m.path.includes("\0")).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it("any relative path of plain segments under the root maps to that path under DIR", () => {
    const name = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,8}$/);
    fc.assert(
      fc.property(fc.array(name, { minLength: 1, maxLength: 5 }), (parts) => {
        const m = mapToRoot({ module: `/ctl/exp/${parts.join("/")}`, root: "/ctl/exp", dir: "/w" });
        expect(m).toEqual({ path: join("/w", ...parts) });
      }),
    );
  });

  it("resolves links: a link under DIR to a file outside is refused, one inside is followed", async () => {
    const dir = join(base, "links");
    mkdirSync(join(dir, "in", "lib"), { recursive: true });
    writeFileSync(join(dir, "outside.mjs"), "");
    writeFileSync(join(dir, "in", "lib", "real.mjs"), "");
    symlinkSync(join(dir, "outside.mjs"), join(dir, "in", "out.mjs"));
    symlinkSync(join(dir, "in", "lib", "real.mjs"), join(dir, "in", "ok.mjs"));
    const root = join(dir, "in");
    expect(await resolveUnderRoot({ path: join(root, "out.mjs"), dir: root })).toEqual({
      refused: `resolves to ${join(dir, "outside.mjs")}, outside ${root}`,
    });
    expect(await resolveUnderRoot({ path: join(root, "ok.mjs"), dir: root })).toEqual({
      path: join(root, "lib", "real.mjs"),
    });
    // DIR itself through a link: compared by real paths
    symlinkSync(root, join(dir, "alias"));
    expect(
      await resolveUnderRoot({ path: join(dir, "alias", "ok.mjs"), dir: join(dir, "alias") }),
    ).toEqual({
      path: join(root, "lib", "real.mjs"),
    });
    await expect(resolveUnderRoot({ path: join(root, "nope.mjs"), dir: root })).rejects.toThrow(
      /ENOENT/,
    );
  });

  it("the project root: the nearest folder with a package.json at or above, else the folder", () => {
    const top = join(base, "proj");
    mkdirSync(join(top, "a", "b"), { recursive: true });
    expect(projectRootOf(join(top, "a", "b"))).toBe(join(top, "a", "b"));
    writeFileSync(join(top, "package.json"), "{}");
    expect(projectRootOf(join(top, "a", "b"))).toBe(top);
    expect(projectRootOf(top)).toBe(top);
  });
});

/** How a queue job ended: its error message, or `failed: REASON` (polled, 20 s at most). */
async function endOf(q: Queue, id: string): Promise<string> {
  for (const until = Date.now() + 20_000; Date.now() < until; ) {
    const state = await q.getJobState(id);
    // read after the state: a job fetched before it ended holds no result yet
    const job = state === "completed" || state === "failed" ? await q.getJob(id) : undefined;
    if (job && state === "completed")
      return (job.returnvalue as { error?: { message: string } }).error?.message ?? "no error";
    if (job && state === "failed") return `failed: ${job.failedReason}`;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`queue job ${id} did not end within 20 s`);
}

describe("aiorch worker --root", { timeout: 60_000 }, () => {
  let redis: RedisServer;
  let w: WorkerProcess;
  const A = join(base, "A");
  const B = join(base, "B");
  const out = join(base, "out");
  const outside = join(base, "outside");
  // what a worker must never import: it writes the pid of whoever imports it
  const evil = join(outside, "evil.mjs");
  const imports = join(out, "evil-imports");

  beforeAll(async () => {
    mkdirSync(join(A, "scenarios"), { recursive: true });
    mkdirSync(out);
    mkdirSync(outside);
    writeFileSync(join(A, "package.json"), '{ "type": "module" }\n');
    writeFileSync(
      join(A, "steps.mjs"),
      [
        'import { appendFileSync } from "node:fs";',
        "export function where(_ctx, out) {",
        '  appendFileSync(out + "/where", import.meta.url + " " + process.pid + "\\n");',
        '  return "ran";',
        "}",
        "",
      ].join("\n"),
    );
    writeFileSync(
      evil,
      [
        'import { appendFileSync } from "node:fs";',
        `appendFileSync(${JSON.stringify(imports)}, \`\${process.pid}\\n\`);`,
        "export function evil() { return 1; }",
        "",
      ].join("\n"),
    );
    // the scenario in a subfolder: the root is A (its package.json), not the scenario's folder
    writeFileSync(
      join(A, "scenarios", "s.yaml"),
      [
        "scenario: rooted",
        "jobs:",
        "  - label: where",
        `    call: { module: ../steps.mjs, name: where, args: [${JSON.stringify(out)}] }`,
        "  - label: shared",
        "    critical: false",
        `    call: { module: ${JSON.stringify(relative(join(A, "scenarios"), evil))}, name: evil }`,
        "",
      ].join("\n"),
    );
    // B: a byte-identical copy at another path, plus a link leading out of it
    cpSync(A, B, { recursive: true });
    symlinkSync(evil, join(B, "link.mjs"));
    redis = await startRedis();
    w = await startWorkerProcess(redis.url, ["--root", B]);
  });

  afterAll(async () => {
    expect(await w?.stop()).toBe(0);
    await redis?.dispose();
  });

  it("runs a module job from the worker's checkout B of the project the controller has at A", async () => {
    expect(w.output()).toContain(`ready with --root ${B}`);
    const r = startRunOf(join(A, "scenarios", "s.yaml"), ["--plain", "--redis", redis.url]);
    expect(await r.exit, r.stderr()).toBe(0);
    expect(r.stderr()).toMatch(/by kind: module 2 on workers/);
    // the worker ran B's copy, once
    expect(readFileSync(join(out, "where"), "utf8")).toBe(
      `${pathToFileURL(join(B, "steps.mjs")).href} ${w.pid}\n`,
    );
    // a module outside the project root fails its job, naming job, module and DIR
    expect(r.stdout()).toContain(
      `job "shared": module ${evil} is not under the run's project root ${A}; this worker (--root ${B}) does not import it`,
    );
    // imported by the controller (it checks the export), never by the worker
    expect(readFileSync(imports, "utf8").split("\n").filter(Boolean)).not.toContain(String(w.pid));
  });

  it("hostile queue data: a module outside the root, a link out of DIR, `..` and relative paths are refused, nothing imported", async () => {
    rmSync(imports, { force: true });
    const q = new Queue("default", {
      prefix: "aiorch",
      connection: { host: "127.0.0.1", port: redis.port },
    });
    try {
      const spec = (label: string, module: string) => ({
        v: SPEC_VERSION,
        kind: "module",
        label,
        critical: true,
        atMostOnce: false,
        module,
        root: A,
        name: "evil",
        args: [],
      });
      const specs = [
        spec("link", join(A, "link.mjs")),
        spec("outside", evil),
        spec("dotdot", `${A}/../outside/evil.mjs`),
        spec("relative", "../../outside/evil.mjs"),
        spec("missing", join(A, "missing.mjs")),
      ];
      for (const s of specs) await q.add(s.label, s, { jobId: `hostile-${s.label}` });
      const ends: Record<string, string> = {};
      for (const s of specs) ends[s.label] = await endOf(q, `hostile-${s.label}`);
      expect(ends).toEqual({
        link: `job "link": module ${join(A, "link.mjs")} maps to ${join(B, "link.mjs")}, which resolves to ${evil}, outside ${B}; this worker (--root ${B}) does not import it`,
        outside: `job "outside": module ${evil} is not under the run's project root ${A}; this worker (--root ${B}) does not import it`,
        dotdot: "failed: queue job data: $.module must be a normalised absolute path",
        relative: "failed: queue job data: $.module must be an absolute path",
        missing: `job "missing": this worker cannot import ${join(B, "missing.mjs")} (ENOENT: no such file or directory, realpath '${join(B, "missing.mjs")}'); module ${join(A, "missing.mjs")} of the run, mapped under --root ${B}`,
      });
      expect(existsSync(imports)).toBe(false);
      expect(await q.getActiveCount()).toBe(0);
    } finally {
      await q.close();
    }
  });

  it("without --root, a module missing at the controller's path fails its job, naming --root", async () => {
    expect(await w.stop()).toBe(0);
    w = await startWorkerProcess(redis.url);
    const q = new Queue("default", {
      prefix: "aiorch",
      connection: { host: "127.0.0.1", port: redis.port },
    });
    try {
      const gone = join(base, "gone", "steps.mjs");
      const data = { v: SPEC_VERSION, kind: "module", label: "gone", critical: true };
      const spec = { ...data, atMostOnce: false, module: gone, root: base, name: "f", args: [] };
      await q.add("gone", spec, { jobId: "plain-gone" });
      expect(await endOf(q, "plain-gone")).toMatch(
        new RegExp(
          `^job "gone": this worker cannot import ${gone} \\(Cannot find module .*\\); workers need the scenario's files at the same paths, or their own checkout of the project given as \`aiorch worker --root DIR\`$`,
        ),
      );
    } finally {
      await q.close();
    }
  });

  it("bad --root: a usage error, exit 2, before anything runs", async () => {
    const r = startRunOf(join(A, "scenarios", "s.yaml"), ["--plain", "--root", A]);
    expect(await r.exit).toBe(2);
    expect(r.stderr()).toContain("--root needs --redis");
    const missing = join(base, "nope");
    const r2 = startRunOf(join(A, "scenarios", "s.yaml"), [
      "--plain",
      "--redis",
      redis.url,
      "--root",
      missing,
    ]);
    expect(await r2.exit).toBe(2);
    expect(r2.stderr()).toContain(`--root ${missing}: not a directory`);
    await expect(startWorkerProcess(redis.url, ["--root", missing])).rejects.toThrow(
      `exited 2 before / ready/: aiorch: --root ${missing}: not a directory`,
    );
  });
});
