/**
 * The package as a new user gets it: `npm pack` (prepack builds dist/), then the tarball
 * installed into a fresh `npm init -y` project (type commonjs), used from a .mjs, a .cjs, a
 * `tsc --init` TypeScript project, and through `npx aiorch run` / `aiorch check`, also from a
 * folder without package.json. One pack and one install serve every case.
 */
import type { SpawnSyncReturns } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { type Installed, installPacked, ok, ROOT } from "./install.ts";

/** bound of each case: npm, npx and the compiler are slow on a busy machine */
const SLOW = 240_000;
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
let installed: Installed | undefined;
let tmp = "";
let project = "";

function sh(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  return (installed as Installed).sh(cmd, args, cwd);
}

/** The README's example scenario (the `ts run` block after "## Example"). */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  return /## Example\s+```ts run\n([\s\S]*?)```/.exec(readme)![1]!;
}

const SCRIPT = `
const node = new LocalNode();
const sc = scenario("consumer")
  .ssh("greet", node, [run("echo", "hi", { capture: "greeting" })])
  .job("shout", async ({ vars }) => vars.greeting.toUpperCase(), { after: ["greet"] })
  .job("count", async ({ results }) => results.shout.length, { after: ["shout"] });
const scheduler = sc.build();
`;
const REPORT = `
  const loaded = Object.keys(require.cache).filter((f) => /ts-morph|typescript|esbuild/.test(f));
  console.log(JSON.stringify({ ok, jobs: scheduler.list().split("\\n").length, loaded }));
`;

beforeAll(() => {
  // the children start with a check, whatever the suite's setting, and their own cache
  installed = installPacked({ prefix: "aiorch-consumer-" });
  ({ tmp, project } = installed);
}, 300_000);

afterAll(() => {
  installed?.dispose();
});

describe("installed from the packed tarball", () => {
  test(
    "the package holds compiled JavaScript and declarations, no TypeScript sources",
    () => {
      const pkg = join(project, "node_modules/aiorch");
      const files = readdirSync(pkg, { recursive: true, encoding: "utf8" });
      expect(files).toContain(join("dist", "src", "index.js"));
      expect(files).toContain(join("dist", "dsl", "index.d.ts"));
      expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    },
    SLOW,
  );

  test(
    "(1) a .mjs run by node imports aiorch and aiorch/dsl and runs 3 jobs",
    () => {
      const file = join(project, "three.mjs");
      writeFileSync(
        file,
        `import { createRequire } from "node:module";
import { LocalNode, run } from "aiorch";
import { scenario } from "aiorch/dsl";
const require = createRequire(import.meta.url);
${SCRIPT}
const ok = await scheduler.run();
${REPORT}`,
      );
      const out = JSON.parse(ok(sh("node", [file], project)));
      // the engine and the DSL do not load the TypeScript compiler, ts-morph or esbuild
      expect(out).toEqual({ ok: true, jobs: 3, loaded: [] });
    },
    SLOW,
  );

  test(
    "(2) the same through require() in a .cjs",
    () => {
      const file = join(project, "three.cjs");
      writeFileSync(
        file,
        `const { LocalNode, run } = require("aiorch");
const { scenario } = require("aiorch/dsl");
${SCRIPT}
scheduler.run().then((ok) => {${REPORT}});`,
      );
      expect(JSON.parse(ok(sh("node", [file], project)))).toEqual({
        ok: true,
        jobs: 3,
        loaded: [],
      });
    },
    SLOW,
  );

  test(
    "(3) a tsc --init project (nodenext, strict) compiles a scenario and runs it",
    () => {
      const dir = join(project, "typed");
      mkdirSync(dir);
      symlinkSync(join(project, "node_modules"), join(dir, "node_modules"));
      writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
      ok(sh("node", [TSC, "--init"], dir));
      writeFileSync(
        join(dir, "main.ts"),
        `import { LocalNode, run, type JobContext } from "aiorch";
import { scenario } from "aiorch/dsl";
const node = new LocalNode();
const sc = scenario("typed")
  .ssh("greet", node, [run("echo", "hi", { capture: "greeting" })])
  .job("shout", async ({ vars }: Pick<JobContext, "vars">) => vars.greeting!.toUpperCase(), {
    after: ["greet"],
  })
  .job("count", async ({ results }) => results.shout.length, { after: ["shout"] });
const ok: boolean = await sc.build().run();
console.log(\`ok=\${ok}\`);
`,
      );
      ok(sh("node", [TSC, "-p", "."], dir));
      expect(ok(sh("node", ["main.js"], dir)).trim()).toBe("ok=true");
    },
    SLOW,
  );

  test(
    "(4) npx aiorch run of the README example: npm init -y project, folder without package.json",
    () => {
      const bare = join(tmp, "bare");
      mkdirSync(bare);
      symlinkSync(join(project, "node_modules"), join(bare, "node_modules"));
      for (const dir of [project, bare]) {
        writeFileSync(join(dir, "experiment.scenario.ts"), readmeExample());
        const r = sh("npx", ["aiorch", "run", "experiment.scenario.ts", "--plain"], dir);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(r.stdout).toMatch(/Job report -> 'kernel \S+: 3 probes, total 14'/);
      }
    },
    SLOW,
  );

  test(
    "(5) a type error: exit 2 with the compiler's message; --no-check runs; aiorch check",
    () => {
      writeFileSync(
        join(project, "typo.scenario.ts"),
        `import { scenario } from "aiorch/dsl";

const retries: number = "3";
export default scenario("typo")
  .job("fetch", async () => 42)
  .job("use", async ({ results }) => results.fetch + Number(retries), { after: ["fetch"] });
`,
      );
      const r = sh("npx", ["aiorch", "run", "typo.scenario.ts", "--plain"], project);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(
        /^typo\.scenario\.ts\(3,7\): error TS2322: Type 'string' is not assignable to type 'number'/m,
      );
      expect(r.stderr).toMatch(/aiorch: 1 type error in typo\.scenario\.ts/);
      const unchecked = sh(
        "npx",
        ["aiorch", "run", "typo.scenario.ts", "--no-check", "--plain"],
        project,
      );
      expect([unchecked.status, unchecked.stderr]).toEqual([0, ""]);
      expect(unchecked.stdout).toMatch(/Job use -> 45/);
      const check = sh(
        "npx",
        ["aiorch", "check", "experiment.scenario.ts", "typo.scenario.ts"],
        project,
      );
      expect(check.status).toBe(2);
      expect(check.stderr).toMatch(/^typo\.scenario\.ts\(3,7\): error TS2322/m);
      const good = sh("npx", ["aiorch", "check", "experiment.scenario.ts"], project);
      expect([good.status, good.stderr]).toEqual([0, "aiorch: 1 file ok\n"]);
    },
    SLOW,
  );
});
