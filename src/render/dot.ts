import type { AbstractJob } from "../job.ts";
import type { Scheduler } from "../scheduler.ts";
import { assignIds, isScheduler } from "./list.ts";

/** A DOT double-quoted string: backslashes, quotes and line breaks escaped. */
export function dotString(s: string): string {
  return `"${s
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\r\n|\r|\n/g, "\\n")}"`;
}

/**
 * Graphviz DOT of a scheduler tree. Nodes are named by display id; a nested scheduler is a
 * cluster with an invisible anchor node that edges enter and leave (with lhead/ltail).
 */
export function formatDot(root: Scheduler): string {
  const ids = assignIds(root);
  const out = ["digraph aiorch {", "  compound=true;", '  node [shape="box", style="rounded"];'];
  const anchor = (j: AbstractJob): string => (isScheduler(j) ? `c${ids.get(j)}` : `n${ids.get(j)}`);
  const style = (j: AbstractJob): string => {
    const parts = [j.critical ? 'color="red", penwidth="2"' : 'penwidth="0.5"'];
    if (j.forever) parts.push('style="rounded,dashed"');
    return parts.join(", ");
  };
  const walk = (s: Scheduler, pad: string): void => {
    for (const j of s.topologicalOrder()) {
      const id = ids.get(j)!;
      if (isScheduler(j)) {
        out.push(`${pad}subgraph cluster_${id} {`);
        out.push(`${pad}  label=${dotString(`${id}: ${j.label}`)};`);
        out.push(
          `${pad}  ${j.critical ? 'color="red"; penwidth="2";' : 'penwidth="0.5";'}${j.forever ? ' style="dashed";' : ""}`,
        );
        out.push(`${pad}  c${id} [shape="point", style="invis", label=""];`);
        walk(j, `${pad}  `);
        out.push(`${pad}}`);
      } else out.push(`${pad}n${id} [label=${dotString(`${id}: ${j.label}`)}, ${style(j)}];`);
    }
    for (const j of s.topologicalOrder())
      for (const r of j.required) {
        if (!ids.has(r) || !s.has(r)) continue;
        const attrs: string[] = [];
        if (isScheduler(r)) attrs.push(`ltail="cluster_${ids.get(r)}"`);
        if (isScheduler(j)) attrs.push(`lhead="cluster_${ids.get(j)}"`);
        out.push(
          `${pad}${anchor(r)} -> ${anchor(j)}${attrs.length ? ` [${attrs.join(", ")}]` : ""};`,
        );
      }
  };
  walk(root, "  ");
  out.push("}");
  return `${out.join("\n")}\n`;
}
