import type { PlanNode } from "../model.ts";

/** A Mermaid label: every character that could be syntax becomes an entity code. */
export function mermaidString(s: string): string {
  let out = "";
  for (const ch of s) {
    if (ch === "\n") out += "<br/>";
    else if (/[A-Za-z0-9 _.,:/@+-]/.test(ch)) out += ch;
    else out += `#${ch.codePointAt(0)};`;
  }
  return `"${out}"`;
}

/** Mermaid flowchart of a plan: subgraphs for nested schedulers. */
export function formatMermaid(plan: PlanNode): string {
  const out = ["flowchart TD"];
  const critical: string[] = [];
  const forever: string[] = [];
  const name = (n: PlanNode): string => (n.group ? `s${n.id}` : `n${n.id}`);
  const walk = (g: PlanNode, pad: string): void => {
    const kids = g.children ?? [];
    for (const n of kids) {
      if (n.critical) critical.push(name(n));
      if (n.forever) forever.push(name(n));
      if (n.group) {
        out.push(`${pad}subgraph ${name(n)}[${mermaidString(`${n.id}: ${n.label}`)}]`);
        walk(n, `${pad}  `);
        out.push(`${pad}end`);
      } else out.push(`${pad}${name(n)}(${mermaidString(`${n.id}: ${n.label}`)})`);
    }
    const byId = new Map(kids.map((n) => [n.id, n]));
    for (const n of kids)
      for (const id of n.requires) {
        const r = byId.get(id);
        if (r) out.push(`${pad}${name(r)} --> ${name(n)}`);
      }
  };
  walk(plan, "  ");
  out.push("  classDef critical stroke:#d00,stroke-width:2px");
  out.push("  classDef forever stroke-dasharray:5 5");
  if (critical.length) out.push(`  class ${critical.join(",")} critical`);
  if (forever.length) out.push(`  class ${forever.join(",")} forever`);
  return `${out.join("\n")}\n`;
}
