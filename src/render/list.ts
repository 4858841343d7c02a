import { maskSecrets } from "../redact.ts";
import type { EndFacts, NodeStatus, PlanNode } from "../model.ts";
import { oneLine, visibleText } from "./cells.ts";
import { badgeColumns, type OutcomeFacts, formatOutcome, shownError, useAscii } from "./line.ts";

/** What `list()` and `debrief()` format: a plan and each job's status, by id. */
export interface ListInput {
  plan: PlanNode;
  status: ReadonlyMap<string, NodeStatus>;
  /** extra lines per job (an SSH job's commands) @default false */
  details?: boolean;
  ascii?: boolean;
}

const NOT_RUN: NodeStatus = { state: "idle", failed: false };

/** Badge and outcome facts of a node. */
function factsOf(n: PlanNode, status: ReadonlyMap<string, NodeStatus>): OutcomeFacts {
  return { critical: n.critical, forever: n.forever, ...(status.get(n.id) ?? NOT_RUN) };
}

/** Lines of `list()`: ids in topological order, nested groups indented with `>`. */
export function formatList({
  plan,
  status,
  details = false,
  ascii = useAscii(),
}: ListInput): string {
  const lines: string[] = [];
  const walk = (g: PlanNode, depth: number): void => {
    const indent = depth > 0 ? `${">".repeat(depth)} ` : "";
    for (const n of g.children ?? []) {
      const facts = factsOf(n, status);
      // labels, results and messages are untrusted: control characters shown, not acted on
      let line = `${n.id} ${badgeColumns(facts, ascii).join(" ")} ${indent}${n.kind} ${oneLine(n.label)} ${formatOutcome(facts)}`;
      if (n.requires.length) line += ` requires {${n.requires.join(", ")}}`;
      if (n.group) line += ` -> entries {${(n.entries ?? []).join(", ")}}`;
      lines.push(line);
      if (details && n.details)
        for (const l of n.details.split("\n"))
          lines.push(`${" ".repeat(n.id.length + 1)}${indent}  ${visibleText(l)}`);
      if (n.group) {
        walk(n, depth + 1);
        lines.push(
          `${n.id} --end-- ${"<".repeat(depth + 1)} ${n.kind} ${oneLine(n.label)} exits {${(n.exits ?? []).join(", ")}}`,
        );
      }
    }
  };
  walk(plan, 0);
  return lines.join("\n");
}

/**
 * The one text of why a run ended: `ok`, `timed out after N ms`, `critical job X failed: msg`
 * (without `: msg` when `cause` is false), `cancelled`, or `not run`.
 */
export function formatWhy(end: EndFacts, opts: { cause?: boolean } = {}): string {
  switch (end.reason) {
    case undefined:
      return "not run";
    case "ok":
      return "ok";
    case "timeout":
      return `timed out after ${end.timeout} ms`;
    case "cancelled":
      return "cancelled";
    case "critical": {
      const head = `critical job "${oneLine(end.critical?.label ?? "")}" failed`;
      return opts.cause === false ? head : `${head}: ${shownError(end.critical?.error)}`;
    }
  }
}

/** What `debrief()` formats beside the list. */
export interface DebriefInput extends ListInput {
  end: EndFacts;
  /** ms */
  elapsed: number;
  problems: readonly { label: string; error: unknown }[];
}

/** Every node below `g`, depth first in insertion order (a group before its jobs). */
function inInsertionOrder(g: PlanNode): PlanNode[] {
  const out: PlanNode[] = [];
  const kids = [...(g.children ?? [])].sort((a, b) => a.index - b.index);
  for (const n of kids) out.push(n, ...(n.group ? inInsertionOrder(n) : []));
  return out;
}

/** What a debrief line is, so text and colour renderers format the same sections. */
export type DebriefTone =
  | "verdict-ok"
  | "verdict-failed"
  | "heading"
  | "critical"
  | "non-critical"
  | "plain";

/** One line of a debrief. */
export interface DebriefLine {
  readonly text: string;
  readonly tone: DebriefTone;
}

/**
 * The debrief as toned lines: the verdict, the list, every failure (stack and causes for
 * critical ones, the message for others), shutdown problems.
 */
export function debriefLines(input: DebriefInput): DebriefLine[] {
  const { plan, status, end } = input;
  const failed = inInsertionOrder(plan).filter((n) => status.get(n.id)?.failed);
  const critical = failed.filter((n) => n.critical);
  const out: DebriefLine[] = [];
  const push = (tone: DebriefTone, text: string): void => void out.push({ text, tone });
  const verdict = end.reason === "ok" ? "verdict-ok" : "verdict-failed";
  push(verdict, `----- ${formatWhy(end)} (${input.elapsed} ms)`);
  push("plain", formatList(input));
  const count = `${failed.length} job(s) with an exception, including ${critical.length} critical`;
  push("heading", `===== ${count}`);
  for (const n of critical) {
    const e = status.get(n.id)?.error;
    push("critical", `critical: ${oneLine(n.label)}: ${shownError(e)}`);
    const stack = e instanceof Error ? e.stack?.split("\n").slice(1) : undefined;
    for (const l of stack ?? []) push("plain", `    ${visibleText(maskSecrets(l.trim()))}`);
    for (
      let c = e instanceof Error ? e.cause : undefined;
      c !== undefined;
      c = c instanceof Error ? c.cause : undefined
    )
      push("plain", `    caused by: ${shownError(c)}`);
  }
  for (const n of failed)
    if (!n.critical)
      push(
        "non-critical",
        `non-critical: ${oneLine(n.label)}: ${shownError(status.get(n.id)?.error)}`,
      );
  if (input.problems.length) {
    push("heading", `===== ${input.problems.length} shutdown problem(s)`);
    for (const p of input.problems)
      push("plain", `shutdown: ${oneLine(p.label)}: ${shownError(p.error)}`);
  }
  // detached services: what the run started on purpose and did not stop, whatever their end
  // (done, readiness failed, cancelled while waiting for it)
  const left = inInsertionOrder(plan).flatMap((n) => {
    const l = n.group ? undefined : status.get(n.id)?.leftRunning;
    return l === undefined ? [] : [l];
  });
  if (left.length) {
    push("heading", `===== ${left.length} process(es) left running`);
    for (const l of left) push("plain", l);
  }
  return out;
}

/** `why()`, the list, then every failure, as text. */
export function formatDebrief(input: DebriefInput): string {
  return debriefLines(input)
    .map((l) => l.text)
    .join("\n");
}
