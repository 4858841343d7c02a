/**
 * The public surface split by subpath (package.json `exports`): each entry resolves (here to
 * the sources, through the "aiorch-source" condition) and names what belongs to it; the
 * root stays small (60 names at most) and free of CLI internals.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";

const ROOT = join(import.meta.dirname, "../..");
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  exports: Record<string, string | Record<string, string>>;
};

/** Runtime and type names an index file exports (it lists them by name). */
function exportedNames(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  return [...text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)].flatMap((m) =>
    m[1]!
      .split(",")
      .map((n) => n.trim().replace(/^type\s+/, ""))
      .filter(Boolean)
      .map((n) => n.split(/\s+as\s+/).pop()!),
  );
}

describe("entry points", () => {
  const entries = Object.entries(pkg.exports).filter(([k]) => k !== "./package.json");

  test("one entry per subpath, each with source, types, import and require", () => {
    expect(entries.map(([k]) => k)).toEqual([
      ".",
      "./ssh",
      "./dsl",
      "./trace",
      "./view",
      "./codegen",
      "./queue",
    ]);
    for (const [, target] of entries) {
      expect(Object.keys(target)).toEqual(["aiorch-source", "types", "import", "require"]);
      const t = target as Record<string, string>;
      expect(existsSync(join(ROOT, t["aiorch-source"]!))).toBe(true);
      const dist = t["aiorch-source"]!.replace(/^\.\//, "./dist/").replace(/\.ts$/, "");
      expect([t.types, t.import, t.require]).toEqual([`${dist}.d.ts`, `${dist}.js`, `${dist}.js`]);
    }
  });

  test("the root names at most 60 things, none of them CLI or view internals", () => {
    const root = exportedNames("src/index.ts");
    expect(root.length).toBeLessThanOrEqual(60);
    for (const name of [
      "attachView",
      "chooseViewMode",
      "createLiveState",
      "reduceLiveState",
      "frame",
      "renderReport",
      "recordRun",
      "generateScenario",
    ])
      expect(root).not.toContain(name);
    expect(root).toEqual(expect.arrayContaining(["Job", "Scheduler", "AiorchError", "RunEvent"]));
    // the redaction helpers a scenario needs (a secret known at run time, its own sinks)
    expect(root).toEqual(
      expect.arrayContaining(["addSecrets", "maskSecrets", "isSecretName", "MASK"]),
    );
  });

  test("each subpath loads and gives what it names", async () => {
    const [root, ssh, dsl, trace, view, codegen, queue] = await Promise.all([
      import("aiorch"),
      import("aiorch/ssh"),
      import("aiorch/dsl"),
      import("aiorch/trace"),
      import("aiorch/view"),
      import("aiorch/codegen"),
      import("aiorch/queue"),
    ]);
    expect(typeof root.Scheduler).toBe("function");
    expect([typeof root.addSecrets, typeof root.maskSecrets, root.MASK]).toEqual([
      "function",
      "function",
      "***",
    ]);
    expect(ssh.SshNode).toBe(root.SshNode);
    expect(typeof ssh.fileFormatter).toBe("function");
    expect(typeof dsl.scenario).toBe("function");
    expect(typeof trace.recordRun).toBe("function");
    expect(typeof view.attachView).toBe("function");
    expect(typeof codegen.generateScenario).toBe("function");
    expect([typeof queue.distributeRun, typeof queue.startWorker]).toEqual([
      "function",
      "function",
    ]);
  });
});
