/**
 * The type check of `aiorch run` / `aiorch check`: remembered by the content of the scenario
 * and of its local imports (an edit in an imported helper checks again and reports the
 * helper's file:line), and `aiorch check` of data scenarios uses their own validation.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { checkScenarioTypes } from "../../src/cli/check.ts";

const ROOT = join(import.meta.dirname, "../..");
let dir = "";
let saved: string | undefined;

beforeAll(() => {
  mkdirSync(join(ROOT, ".tmp"), { recursive: true });
  dir = mkdtempSync(join(ROOT, ".tmp", "check-"));
  saved = process.env.AIORCH_CACHE_DIR;
  process.env.AIORCH_CACHE_DIR = join(dir, "cache");
});

afterAll(() => {
  if (saved === undefined) delete process.env.AIORCH_CACHE_DIR;
  else process.env.AIORCH_CACHE_DIR = saved;
  rmSync(dir, { recursive: true, force: true });
});

describe("checkScenarioTypes", () => {
  test("cached by content, the local imports included", async () => {
    const main = join(dir, "main.scenario.ts");
    const helper = join(dir, "helper.ts");
    writeFileSync(helper, "export const retries: number = 3;\n");
    writeFileSync(
      main,
      `import { scenario } from "aiorch/dsl";
import { retries } from "./helper.ts";

export default scenario("m").job("n", async () => retries + 1);
`,
    );
    expect(await checkScenarioTypes({ files: [main] })).toEqual({
      ok: true,
      cached: false,
      text: "",
      errors: 0,
    });
    expect((await checkScenarioTypes({ files: [main] })).cached).toBe(true);
    writeFileSync(helper, 'export const retries: number = "3";\n');
    const broken = await checkScenarioTypes({ files: [main] });
    expect(broken).toMatchObject({ ok: false, cached: false, errors: 1 });
    expect(broken.text).toMatch(
      /helper\.ts\(1,14\): error TS2322: Type 'string' is not assignable to type 'number'/,
    );
  }, 240_000);
});

describe("aiorch check", () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, [join(ROOT, "bin/aiorch.mjs"), "check", ...args], {
      cwd: dir,
      encoding: "utf8",
    });

  test("a data scenario gets its own validation, not the compiler", () => {
    const good = join(ROOT, "test/codegen/fixtures/local.yaml");
    expect(cli([good])).toMatchObject({ status: 0, stderr: "aiorch: 1 file ok\n" });
    const bad = join(dir, "bad.yaml");
    writeFileSync(
      bad,
      "scenario: bad\njobs:\n  - label: a\n    after: [nope]\n    replay: { duration: 1 }\n",
    );
    const r = cli([bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nope/);
    expect(r.stderr).not.toMatch(/error TS/);
  }, 60_000);
});
