import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";

const ROOT = join(import.meta.dirname, "../..");
const DEMO = "test/fixtures/view-demo.scenario.ts";
const tmp = mkdtempSync(join(tmpdir(), "aiorch-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Run the aiorch command (not on a TTY: plain mode). */
function aiorch(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ["bin/aiorch.mjs", ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    code: r.status,
    stdout: r.stdout.toString(),
    stderr: r.stderr.toString(),
    raw: r.stdout,
  };
}

describe("aiorch graph", () => {
  test("--format dot and mermaid: clusters/subgraphs for nested schedulers", () => {
    const dot = aiorch(["graph", DEMO, "--format", "dot"]);
    expect(dot.code).toBe(0);
    expect(dot.stdout).toMatch(/^digraph aiorch \{/);
    expect(dot.stdout).toContain("subgraph cluster_4 {");
    expect(dot.stdout).toContain('label="5: unit-tests"');
    const mmd = aiorch(["graph", DEMO, "-o", join(tmp, "g.mmd")]);
    expect(mmd.code).toBe(0);
    const text = readFileSync(join(tmp, "g.mmd"), "utf8");
    expect(text).toMatch(/^flowchart TD/);
    expect(text).toContain('subgraph s4["4: tests"]');
  });

  test.runIf(existsSync("/usr/bin/dot"))("--format svg and png through graphviz", () => {
    const svg = aiorch(["graph", DEMO, "--format", "svg"]);
    expect(svg.code).toBe(0);
    expect(svg.stdout).toContain("<svg");
    expect(svg.stdout).toContain("fetch&#45;sources");
    const png = aiorch(["graph", DEMO, "-o", join(tmp, "g.png")]);
    expect(png.code).toBe(0);
    expect(readFileSync(join(tmp, "g.png")).subarray(1, 4).toString()).toBe("PNG");
  });

  test("without graphviz: a message naming the package, exit 1", () => {
    const r = aiorch(["graph", DEMO, "--format", "svg"], { PATH: "/nonexistent" });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('install the package "graphviz"');
  });

  test("an unknown format is a usage error naming the choices", () => {
    const r = aiorch(["graph", DEMO, "--format", "jpeg"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--format expects one of dot, mermaid, svg, png");
  });
});

describe("aiorch run --record, --report, and aiorch report", () => {
  test("plain lines, the debrief at the end, a trace, and both reports", () => {
    const trace = join(tmp, "run.trace.json");
    const live = join(tmp, "live.html");
    const r = aiorch(["run", DEMO, "--record", trace, "--report", live]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("\u001b");
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} ▶ run view-demo: 5 job\(s\), timeout 30000 ms$/,
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/ ★ lint failed \(\d+ ms\): Error: 3 style errors$/),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/ \| tests\/e2e-tests e2e-tests: step 4\/4$/),
    );
    // the final screen is the debrief, once
    expect(r.stdout.match(/^----- ok \(\d+ ms\)$/gm)).toHaveLength(1);
    expect(lines.at(-1)).toBe("non-critical: lint: Error: 3 style errors");

    const html = join(tmp, "trace.html");
    const rep = aiorch(["report", trace, "-o", html]);
    expect(rep.code).toBe(0);
    for (const file of [live, html]) {
      const page = readFileSync(file, "utf8");
      expect(page).toContain("critical path: fetch-sources → compile → tests/e2e-tests → package");
      expect(page.match(/<div class="row (ok|failed)/g)).toHaveLength(7);
    }
  });

  test("--quiet: the debrief of a failed run, once", () => {
    const bad = aiorch(["run", "test/fixtures/view-critical.scenario.ts", "--quiet"]);
    expect(bad.code).toBe(1);
    expect(bad.stdout.match(/^----- critical job "deploy" failed/gm)).toHaveLength(1);
    expect(bad.stdout).toContain("critical: deploy: Error: permission denied on /srv/app");
  });

  test("a file that is not a trace is refused with its name", () => {
    const r = aiorch(["report", DEMO]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${DEMO} is not JSON`);
  });
});
