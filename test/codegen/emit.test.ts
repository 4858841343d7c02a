import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { loadDataModel } from "../../codegen/data.ts";
import { generateScenario } from "../../codegen/emit/scenario.ts";
import { traceToModel } from "../../codegen/from-trace.ts";
import { makeBigTrace } from "../../bench/codegen.ts";

const GOLDEN = join(import.meta.dirname, "../golden/local.scenario.ts");
const FIXTURE = join(import.meta.dirname, "fixtures/local.yaml");

/** Longest builder chain in `code`: calls between `scenario(`/`const x = y` and `;`. */
function longestChain(code: string): number {
  let longest = 0;
  for (const stmt of code.split(/;\n/))
    longest = Math.max(longest, (stmt.match(/^\s+\.(job|ssh|include)\(/gm) ?? []).length);
  return longest;
}

describe("generateScenario", () => {
  test("matches the golden file (readability)", async () => {
    const model = await loadDataModel({ file: FIXTURE });
    const code = generateScenario({ model, outFile: GOLDEN, source: "fixtures/local.yaml" });
    if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, code);
    expect(code).toBe(readFileSync(GOLDEN, "utf8"));
  });

  test("a 2,000-job trace: well under 2 s, no chain over 200 calls, every job emitted", () => {
    const trace = makeBigTrace({ jobs: 2000 });
    const t = performance.now();
    const code = generateScenario({ model: traceToModel({ trace }), outFile: "big.scenario.ts" });
    const ms = performance.now() - t;
    expect(ms).toBeLessThan(5_000); // bench/codegen.ts measures ~0.2 s; generous for CI
    expect(longestChain(code)).toBe(200);
    expect((code.match(/^\s+\.(job|ssh)\(/gm) ?? []).length).toBe(2000);
    expect(code).toContain("const big_10 = big_9\n");
    expect(code).toContain("export default big_10;");
  });

  test("nested schedulers become included sub-scenarios, declared before use", () => {
    const code = generateScenario({
      model: traceToModel({ trace: makeBigTrace({ jobs: 100, phases: 4 }) }),
    });
    expect(code.indexOf('const phase_0 = scenario("phase-0")')).toBeLessThan(
      code.indexOf('.include("phase-0", phase_0)'),
    );
    expect(code).toContain('.include("phase-3", phase_3, { after: ["phase-2"] })');
  });
});
