import { describe, expect, test } from "vitest";
import { buildFromModel } from "../../codegen/build.ts";
import { parseDataScenario } from "../../codegen/data.ts";
import { generateScenario } from "../../codegen/emit/scenario.ts";
import { scenario } from "../../dsl/index.ts";

const YAML = [
  "scenario: s",
  "jobs:",
  "  - label: a",
  "    node: local",
  "    retry: { attempts: 3, backoff: { initial: 50, max: 400 } }",
  '    commands: ["true"]',
  "  - { label: b, after: a, retry: { attempts: 2, backoff: 10 }, replay: { duration: 1 } }",
].join("\n");

describe("retry in data scenarios and the DSL", () => {
  test("YAML retry becomes the job's policy, and generated code keeps it", async () => {
    const model = parseDataScenario({ text: YAML, file: "s.yaml" });
    expect(model.jobs.map((j) => j.retry)).toEqual([
      { attempts: 3, backoff: { initial: 50, max: 400 } },
      { attempts: 2, backoff: 10 },
    ]);
    const s = await buildFromModel({ model });
    expect(s.jobs.map((j) => j.retry?.attempts)).toEqual([3, 2]);
    expect(s.jobs[0]?.retry).toMatchObject({ initial: 50, max: 400, factor: 2 });
    const code = generateScenario({ model });
    expect(code).toContain("retry: { attempts: 3, backoff: { initial: 50, max: 400 } }");
    expect(code).toContain("retry: { attempts: 2, backoff: 10 }");
  });

  test("a bad retry is an error naming the file, line and path", () => {
    expect(() =>
      parseDataScenario({
        text: 'scenario: s\njobs:\n  - { label: a, node: local, commands: ["true"], retry: { attempts: 0 } }\n',
        file: "s.yaml",
      }),
    ).toThrow(/s\.yaml:3:\d+: jobs\[0\]\.retry\.attempts/);
  });

  test("DSL jobs take retry; a bad one fails at declaration, naming the job", async () => {
    let n = 0;
    const sc = scenario("s").job(
      "flaky",
      async () => {
        if (++n < 2) throw new Error("once");
        return n;
      },
      { retry: { attempts: 2, backoff: 1 } },
    );
    const s = sc.build();
    expect(await s.run()).toBe(true);
    expect(s.jobs[0]?.attempts).toBe(2);
    expect(() => scenario("s").job("bad", async () => 1, { retry: { attempts: 1.5 } })).toThrow(
      'job "bad": retry.attempts must be an integer >= 1, got 1.5',
    );
  });
});
