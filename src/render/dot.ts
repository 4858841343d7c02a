import type { PlanNode } from "../model.ts";
/** A DOT double-quoted string: backslashes, quotes and line breaks escaped. */
export function dotString(s: string): string {
  return `"${s
    .replace(/\\/g, "\\\\")
    .replace(/"/g, '\\"')
    .replace(/\r\n|\r|\n/g, "\\n")}"`;
}

/**
 * Graphviz DOT of a plan. Nodes are named by display id; a nested scheduler is a cluster
 * with an invisible anchor node that edges enter and leave (with lhead/ltail).
 */
export function formatDot(plan: PlanNode): string {
  const out = ["digraph aiorch {", "  compound=true;", '  node [shape="box", style="rounded"];'];
  const anchor = (n: PlanNode): string => (n.group ? `c${n.id}` : `n${n.id}`);
  const style = (n: PlanNode): string => {
    const parts = [n.critical ? 'color="red", penwidth="2"' : 'penwidth="0.5"'];
    if (n.forever) parts.push('style="rounded,dashed"');
    return parts.join(", ");
  };
  const walk = (g: PlanNode, pad: string): void => {
    const kids = g.children ?? [];
    for (const n of kids) {
      if (n.group) {
        out.push(`${pad}subgraph cluster_${n.id} {`);
        out.push(`${pad}  label=${dotString(`${n.id}: ${n.label}`)};`);
        out.push(
          `${pad}  ${n.critical ? 'color="red"; penwidth="2";' : 'penwidth="0.5";'}${n.forever ? ' style="dashed";' : ""}`,
        );
        out.push(`${pad}  c${n.id} [shape="point", style="invis", label=""];`);
        walk(n, `${pad}  `);
        out.push(`${pad}}`);
      } else out.push(`${pad}n${n.id} [label=${dotString(`${n.id}: ${n.label}`)}, ${style(n)}];`);
    }
    const byId = new Map(kids.map((n) => [n.id, n]));
    for (const n of kids)
      for (const id of n.requires) {
        const r = byId.get(id);
        if (!r) continue;
        const attrs: string[] = [];
        if (r.group) attrs.push(`ltail="cluster_${r.id}"`);
        if (n.group) attrs.push(`lhead="cluster_${n.id}"`);
        out.push(
          `${pad}${anchor(r)} -> ${anchor(n)}${attrs.length ? ` [${attrs.join(", ")}]` : ""};`,
        );
      }
  };
  walk(plan, "  ");
  out.push("}");
  return `${out.join("\n")}\n`;
}
