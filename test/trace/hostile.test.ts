/**
 * Traces are untrusted input. A real trace is mutated at random places (fast-check): every
 * outcome is one clean `TRACE` error naming its JSON path, or a report whose only code is the
 * report's own script (data only as JSON) and a generated scenario that parses; never a raw
 * TypeError. Named attacks (a script in `run.startedAt`, code in a replay `duration`) are
 * refused with the path.
 */
import fc from "fast-check";
import ts from "typescript";
import { beforeAll, describe, expect, test } from "vitest";
import { generateScenario } from "../../codegen/emit/scenario.ts";
import { traceToModel } from "../../codegen/from-trace.ts";
import { AiorchError } from "../../src/errors.ts";
import { Job, Scheduler } from "../../src/index.ts";
import { timelineFromTrace } from "../../src/render/from-trace.ts";
import { REPORT_JS } from "../../src/render/report-style.ts";
import { renderReport } from "../../src/render/report.ts";
import { LocalNode, run, SshJob } from "../../src/ssh/index.ts";
import { checkTrace } from "../../src/trace/file.ts";
import { recordRun } from "../../src/trace/index.ts";
import type { Trace } from "../../src/trace/types.ts";

let real: Trace;

beforeAll(async () => {
  const node = new LocalNode();
  const a = new Job(
    async ({ log }) => {
      log("hello");
      return { n: 1 };
    },
    { label: "a" },
  );
  const b = new SshJob(node, [run("echo", () => "hi", { env: { MODE: "fast" }, timeout: 5000 })], {
    label: "b",
    required: a,
  });
  const c = new Job(
    async () => {
      throw new Error("expected");
    },
    { label: "c", critical: false, required: a },
  );
  const inner = new Scheduler([new Job(async () => 2, { label: "i" })], { label: "phase" });
  const scheduler = new Scheduler([a, b, c, inner], { label: "hostile", critical: false });
  real = (await recordRun({ scheduler })).trace;
});

/** Every [parent, key] of a JSON tree. */
function slots(v: unknown, out: [Record<string, unknown> | unknown[], string | number][] = []) {
  if (Array.isArray(v))
    v.forEach((x, i) => {
      out.push([v, i]);
      slots(x, out);
    });
  else if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v)) {
      out.push([v as Record<string, unknown>, k]);
      slots(x, out);
    }
  return out;
}

const INJECTIONS = [
  '0; document.title="XSS"; //',
  "</script><script>document.title='XSS'</script>",
  '1, (require("node:fs").writeFileSync("/tmp/aiorch-pwned", "x"), 1)',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an injection attempt, on purpose
  "${process.exit(1)}",
  "*/ process.exit(1) /*",
  -1,
  1e308 * 10,
  "",
  null,
  [],
  {},
  true,
];

const replacement = fc.oneof(
  fc.constantFrom(...INJECTIONS),
  fc.jsonValue({ maxDepth: 2 }),
  fc.constant(undefined),
);

/** What a consumer does with a trace: report and generated code, or a clean error. */
function consume(data: unknown): { error?: AiorchError; html?: string; code?: string } {
  let trace: Trace;
  try {
    trace = checkTrace({ data, file: "t.json" });
  } catch (err) {
    if (!(err instanceof AiorchError)) throw err;
    return { error: err };
  }
  let html: string;
  try {
    html = renderReport({ model: timelineFromTrace(trace) });
  } catch (err) {
    throw new Error(`report crashed: ${(err as Error).stack}`);
  }
  let code: string;
  try {
    code = generateScenario({ model: traceToModel({ trace }) });
  } catch (err) {
    if (!(err instanceof AiorchError)) throw new Error(`codegen crashed: ${(err as Error).stack}`);
    return { error: err, html };
  }
  return { html, code };
}

/** The report's scripts: one JSON data block, one script equal to the report's own. */
function checkReport(html: string): void {
  const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
  expect(html.match(/<script/g)?.length).toBe(scripts.length);
  const code = scripts.filter((s) => !/type="application\/json"/.test(s[1] ?? ""));
  expect(code.map((s) => s[2])).toEqual([REPORT_JS]);
  for (const s of scripts) if (s !== code[0]) JSON.parse(s[2] ?? "");
}

function checkCode(code: string): void {
  const sf = ts.createSourceFile("x.ts", code, ts.ScriptTarget.ES2022, true);
  const diags = (sf as unknown as { parseDiagnostics: ts.Diagnostic[] }).parseDiagnostics;
  expect(diags.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"))).toEqual([]);
  // injected text stays inside literals and comments: no call the generator does not write
  const calls: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n)) {
      const e = n.expression;
      calls.push(
        ts.isPropertyAccessExpression(e)
          ? e.name.text
          : ts.isIdentifier(e)
            ? e.text
            : e.kind === ts.SyntaxKind.ImportKeyword
              ? "import"
              : "?",
      );
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  const bad = calls.filter((c) =>
    /^(exit|require|writeFile|writeFileSync|eval|Function|import|\?)$/.test(c),
  );
  expect(bad, code).toEqual([]);
}

describe("hostile traces", () => {
  test("a script in run.startedAt is refused with its JSON path", () => {
    const data = structuredClone(real) as unknown as { run: Record<string, unknown> };
    data.run.startedAt = '0; document.title="XSS"; //';
    const r = consume(data);
    expect(r.error?.code).toBe("TRACE");
    expect(r.error?.message).toBe(
      't.json: run.startedAt: expected a number, got the string "0; document.title=\\"XSS\\"; //"',
    );
  });

  test("code in a replay duration is refused with its JSON path", () => {
    const data = structuredClone(real) as unknown as {
      scenario: { jobs: Record<string, unknown>[] };
    };
    data.scenario.jobs[0] = {
      ...data.scenario.jobs[0],
      work: {
        kind: "replay",
        replay: { duration: 'require("node:fs").writeFileSync("x", "")', outcome: "ok" },
      },
    };
    const r = consume(data);
    expect(r.error?.message).toContain("scenario.jobs[0].work.replay.duration: expected a number");
  });

  test("a recorded deferred argument that is not one function expression is refused", () => {
    const data = structuredClone(real) as unknown as {
      scenario: { jobs: { work: { commands: { argv: unknown[] }[] } }[] };
    };
    const argv = data.scenario.jobs[1]?.work.commands[0]?.argv as unknown[];
    expect(argv[1]).toMatchObject({ deferred: expect.stringContaining("=>") });
    for (const source of [
      '(() => require("node:fs").writeFileSync("/tmp/aiorch-pwned", ""))()',
      '() => 1); require("node:fs").rmSync("/tmp/x"); ((',
      "process.exit(1)",
    ]) {
      argv[1] = { deferred: source };
      const r = consume(data);
      expect(r.error?.code).toBe("CODEGEN");
      expect(r.error?.message).toContain(
        'job "b": a recorded deferred argument is not one function',
      );
    }
  });

  test("the report embeds every trace value as JSON data, never as code", () => {
    const data = structuredClone(real) as unknown as { scenario: { label: string } };
    data.scenario.label = "</script><script>document.title='XSS'</script>";
    const r = consume(data);
    expect(r.error).toBeUndefined();
    checkReport(r.html ?? "");
    expect(r.html).not.toContain("<script>document.title");
  });

  test("random mutations of a real trace: a clean error, or a safe report and code that parses", () => {
    const baseline = consume(structuredClone(real));
    expect(baseline.error).toBeUndefined();
    fc.assert(
      fc.property(fc.nat(), replacement, fc.nat(), replacement, (i, v, j, w) => {
        const data = structuredClone(real) as unknown;
        for (const [at, value] of [
          [i, v],
          [j, w],
        ] as const) {
          const all = slots(data);
          const [parent, key] = all[at % all.length] as [Record<string, unknown>, string];
          if (value === undefined) delete parent[key];
          else parent[key] = structuredClone(value);
        }
        const r = consume(data);
        if (r.error) {
          expect(["TRACE", "CODEGEN"]).toContain(r.error.code);
          expect(r.error.message).toMatch(/^t\.json[: ]|^job "/);
        }
        if (r.html !== undefined) checkReport(r.html);
        if (r.code !== undefined) checkCode(r.code);
      }),
      { numRuns: 300, seed: Number(process.env.SEED ?? Date.now() % 100000) },
    );
  });
});
