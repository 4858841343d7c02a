import { execFileSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { Job, Scheduler } from "../../src/index.ts";
import { noop } from "./helpers.ts";

const WEIRD = 'q"uo\\te\nnew{brace}[sq]<tag>|pipe\\N#;`x`';

function sample(): Scheduler {
  const a = new Job(async () => 1, { label: WEIRD });
  const crit = noop("crit");
  const relaxed = new Job(async () => 1, { label: "relaxed", critical: false, required: a });
  const forever = new Job(async () => 1, { label: "forever", forever: true, critical: false });
  const inner = new Scheduler([noop('in}{ner"'), noop("second")], {
    label: 'sub "x"\\\n{y}',
    required: a,
    critical: false,
  });
  const after = noop("after", inner);
  return new Scheduler([a, crit, relaxed, forever, inner, after]);
}

/** DOT quoted-string content -> text (\" \\ \n as graphviz reads them). */
function undot(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
}

/** Mermaid label content -> text. */
function unmermaid(s: string): string {
  return s
    .replace(/<br\/>/g, "\n")
    .replace(/#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)));
}

function hasDot(): boolean {
  try {
    execFileSync("dot", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe("exportDot()", () => {
  test("nodes, edges, cluster for a nested scheduler, critical highlighted, forever dashed", () => {
    const dot = sample().exportDot();
    const lines = dot.split("\n");
    expect(lines[0]).toBe("digraph aiorch {");
    expect(lines.at(-2)).toBe("}");
    expect(dot).toContain("compound=true;");
    // critical: red and thick; non-critical thin
    expect(dot).toMatch(/n2 \[label="2: crit", color="red", penwidth="2"\];/);
    expect(dot).toMatch(/n3 \[label="3: relaxed", penwidth="0.5"\];/);
    // forever: dashed
    expect(dot).toMatch(/n4 \[label="4: forever", penwidth="0.5", style="rounded,dashed"\];/);
    // nested scheduler: a cluster containing its jobs, edges in/out with lhead/ltail
    expect(dot).toContain("subgraph cluster_5 {");
    expect(dot).toMatch(/n6 \[label="6: in\}\{ner\\""/);
    expect(dot).toContain('n1 -> c5 [lhead="cluster_5"];');
    expect(dot).toContain('c5 -> n8 [ltail="cluster_5"];');
    expect(dot).toContain("n1 -> n3;");
  });

  test("B19: every label is fully escaped: quotes, backslashes, newlines; braces stay inside quotes", () => {
    const dot = sample().exportDot();
    const labels = [...dot.matchAll(/label=("(?:[^"\\]|\\.)*")/g)].map((m) => m[1] ?? "");
    const texts = labels.map((l) => undot(l.slice(1, -1)));
    expect(texts).toContain(`1: ${WEIRD}`);
    expect(texts).toContain('5: sub "x"\\\n{y}');
    expect(texts).toContain('6: in}{ner"');
    // no raw newline inside any statement: each line is one statement or a brace
    for (const l of dot.trimEnd().split("\n"))
      expect(l).toMatch(/^(digraph aiorch \{|\s*\}|\s*subgraph cluster_\d+ \{|\s*.*;)$/);
  });

  test.skipIf(!hasDot())("graphviz parses it and reads the labels back unchanged", () => {
    const json = execFileSync("dot", ["-Tjson"], { input: sample().exportDot() }).toString();
    const objects = (JSON.parse(json) as { objects: { name: string; label?: string }[] }).objects;
    const byName = new Map(objects.map((o) => [o.name, o.label ?? ""]));
    // graphviz keeps escString escapes (\\, \n) in -Tjson; undo them like its renderer does
    expect(undot(byName.get("n1") ?? "")).toBe(`1: ${WEIRD}`);
    expect(undot(byName.get("cluster_5") ?? "")).toBe('5: sub "x"\\\n{y}');
    expect(byName.get("n6")).toBe('6: in}{ner"');
  });

  test("a forever nested scheduler is a dashed cluster; a forever one in Mermaid gets the class", () => {
    const inner = new Scheduler([noop("x")], { label: "watcher", forever: true });
    const s = new Scheduler([noop("a"), inner]);
    const dot = s.exportDot();
    const cluster = dot.slice(dot.indexOf("subgraph cluster_2"));
    expect(cluster.split("\n")[2]).toBe('    color="red"; penwidth="2"; style="dashed";');
    expect(s.exportMermaid()).toMatch(/^ {2}class s2 forever$/m);
  });

  test("an empty scheduler is a valid empty graph", () => {
    expect(new Scheduler().exportDot()).toBe(
      'digraph aiorch {\n  compound=true;\n  node [shape="box", style="rounded"];\n}\n',
    );
  });
});

describe("exportMermaid()", () => {
  test("flowchart with a subgraph, critical and forever classes", () => {
    const m = sample().exportMermaid();
    const lines = m.trimEnd().split("\n");
    expect(lines[0]).toBe("flowchart TD");
    expect(m).toMatch(/^ {2}subgraph s5\[".*"\]$/m);
    expect(m).toMatch(/^ {4}n6\(".*"\)$/m);
    expect(m).toMatch(/^ {2}end$/m);
    expect(m).toContain("  n1 --> s5");
    expect(m).toContain("  s5 --> n8");
    expect(m).toContain("  n1 --> n3");
    expect(m).toContain("classDef critical");
    expect(m).toContain("classDef forever stroke-dasharray");
    const critical = m.match(/^ {2}class (\S+) critical$/m)?.[1]?.split(",");
    // the nested scheduler is non-critical, so are its jobs (inherited)
    expect(critical).toEqual(["n1", "n2", "n8"]);
    expect(m).toMatch(/^ {2}class n4 forever$/m);
  });

  test("B19: labels are fully escaped (entity codes, <br/> for newlines) and read back unchanged", () => {
    const m = sample().exportMermaid();
    const labels = [...m.matchAll(/[[(]"([^"]*)"[\])]/g)].map((x) => x[1] ?? "");
    for (const l of labels) expect(l.replace(/<br\/>/g, "")).not.toMatch(/["{}[\]()<>|\\`\n]/);
    const texts = labels.map(unmermaid);
    expect(texts).toContain(`1: ${WEIRD}`);
    expect(texts).toContain('5: sub "x"\\\n{y}');
    expect(texts).toContain('6: in}{ner"');
  });
});
