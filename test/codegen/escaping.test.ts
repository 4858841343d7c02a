/**
 * Property: scenarios whose labels, commands, paths and hostnames hold quotes, backticks,
 * `${`, backslashes, newlines and non-ASCII text generate files that type-check and, once
 * imported and built, reproduce every one of those strings exactly.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { checkScenarioFiles } from "../../codegen/check.ts";
import { generateScenario } from "../../codegen/emit/scenario.ts";
import type {
  CommandOptionsModel,
  JobModel,
  NodeModel,
  ScenarioModel,
} from "../../codegen/model.ts";
import type { AbstractJob, Scheduler } from "../../src/index.ts";
import { SshJob } from "../../src/ssh/index.ts";
import { nastyString } from "./strings.ts";

const ROOT = resolve(import.meta.dirname, "../..");

/** A random model: SSH and local nodes, command and replay jobs, one nested scenario. */
const modelArb: fc.Arbitrary<ScenarioModel> = fc
  .record({
    name: nastyString(),
    hosts: fc.uniqueArray(
      nastyString().filter((s) => s !== ""),
      { minLength: 1, maxLength: 2 },
    ),
    user: nastyString(),
    labels: fc.uniqueArray(
      nastyString().filter((s) => s !== ""),
      { minLength: 3, maxLength: 6 },
    ),
    words: fc.array(nastyString(), { minLength: 1, maxLength: 4 }),
    body: nastyString(),
    result: fc.jsonValue({ maxDepth: 2 }),
    picks: fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
  })
  .map((r): ScenarioModel => {
    const nodes: NodeModel[] = [
      ...r.hosts.map((host, i) => ({ id: `n${i}`, type: "ssh" as const, host, user: r.user })),
      { id: "here", type: "local" },
    ];
    const jobs: JobModel[] = r.labels.map((label, i): JobModel => {
      const after = i > 0 && (r.picks[i] ?? 0) % 2 ? [r.labels[(r.picks[i] ?? 0) % i]!] : [];
      if (i % 3 === 2)
        return {
          kind: "replay",
          label,
          after,
          replay: { duration: 1, outcome: "ok", result: r.result as never },
        };
      return {
        kind: "commands",
        label,
        after,
        node: nodes[(r.picks[i] ?? 0) % nodes.length]!.id,
        commands: [
          { type: "run", argv: r.words, options: { env: { V: r.body }, cwd: r.body || "/" } },
          { type: "runString", body: r.body, args: r.words },
          { type: "push", locals: r.words.map((w) => w || "x"), remote: r.body || "/tmp" },
        ],
      };
    });
    const [first, ...rest] = jobs;
    return {
      name: r.name || "s",
      nodes,
      jobs: [
        first!,
        {
          kind: "scenario",
          label: `${r.labels[0]}/nested`,
          after: [first!.label],
          jobs: rest.map((j) => ({ ...j, after: [] })),
        },
      ],
    };
  });

/** What a built scheduler says about labels, nodes and commands. */
function describeTree(s: Scheduler): unknown[] {
  return s.jobs.map((j: AbstractJob) =>
    "jobs" in j
      ? { label: j.label, jobs: describeTree(j as Scheduler) }
      : {
          label: j.label,
          what: j.describe(),
          // descriptions never show env values (src/redact.ts): compare the built commands'
          ...(j instanceof SshJob
            ? { env: j.commands.map((c) => ("env" in c.options ? c.options.env : undefined)) }
            : {}),
        },
  );
}

const redactedEnv = (o: CommandOptionsModel | undefined) =>
  o?.env
    ? { ...o, env: Object.fromEntries(Object.keys(o.env).map((k) => [k, { $redacted: true }])) }
    : o;

/** The same facts, from the model. */
function expected(jobs: readonly JobModel[], nodes: readonly NodeModel[]): unknown[] {
  return jobs.map((j) => {
    if (j.kind === "scenario") return { label: j.label, jobs: expected(j.jobs, nodes) };
    // a replay job says what it replays (one description, carried by its function)
    if (j.kind === "replay") return { label: j.label, what: { kind: "replay", replay: j.replay } };
    if (j.kind !== "commands") return { label: j.label, what: { kind: "opaque" } };
    const n = nodes.find((x) => x.id === j.node)!;
    return {
      label: j.label,
      what: {
        kind: "commands",
        node:
          n.type === "local"
            ? { type: "local" }
            : expect.objectContaining({ type: "ssh", host: n.host, user: n.user }),
        commands: j.commands.map((c) =>
          c.type === "run"
            ? { type: "run", argv: c.argv, options: redactedEnv(c.options) }
            : c.type === "runString"
              ? { type: "runString", body: c.body, args: c.args }
              : c,
        ),
      },
      env: j.commands.map((c) => ("options" in c ? c.options?.env : undefined)),
    };
  });
}

describe("escaping (property-based)", () => {
  test("generated files compile and reproduce every string exactly", async () => {
    const models = fc.sample(modelArb, { numRuns: 12, seed: 20_260_101 });
    mkdirSync(join(ROOT, ".tmp"), { recursive: true });
    const dir = mkdtempSync(join(ROOT, ".tmp", "esc-"));
    mkdirSync(dir, { recursive: true });
    const files = models.map((model, i) => {
      const file = join(dir, `m${i}.scenario.ts`);
      writeFileSync(
        file,
        generateScenario({
          model,
          outFile: file,
          imports: {
            engine: "../../src/index.ts",
            trace: "../../src/trace/index.ts",
            dsl: "../../dsl/index.ts",
          },
        }),
      );
      return file;
    });
    expect(checkScenarioFiles({ files, tsconfig: join(ROOT, "tsconfig.json") })).toEqual([]);
    for (const [i, model] of models.entries()) {
      const mod = (await import(pathToFileURL(files[i]!).href)) as {
        default: { build(): Scheduler };
      };
      const s = mod.default.build();
      expect(s.label).toBe(model.name);
      expect(describeTree(s)).toEqual(expected(model.jobs, model.nodes));
    }
    rmSync(dir, { recursive: true, force: true });
    // a full type-check of generated files: ~27 s alone on a loaded 2-core machine
  }, 120_000);
});
