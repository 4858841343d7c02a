import type { AbstractJob } from "../job.ts";
import type { Scheduler } from "../scheduler.ts";
import { assignIds, isScheduler } from "./list.ts";

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

/** Mermaid flowchart of a scheduler tree: subgraphs for nested schedulers. */
export function formatMermaid(root: Scheduler): string {
  const ids = assignIds(root);
  const out = ["flowchart TD"];
  const critical: string[] = [];
  const forever: string[] = [];
  const name = (j: AbstractJob): string => (isScheduler(j) ? `s${ids.get(j)}` : `n${ids.get(j)}`);
  const walk = (s: Scheduler, pad: string): void => {
    for (const j of s.topologicalOrder()) {
      const id = ids.get(j)!;
      if (j.critical) critical.push(name(j));
      if (j.forever) forever.push(name(j));
      if (isScheduler(j)) {
        out.push(`${pad}subgraph ${name(j)}[${mermaidString(`${id}: ${j.label}`)}]`);
        walk(j, `${pad}  `);
        out.push(`${pad}end`);
      } else out.push(`${pad}${name(j)}(${mermaidString(`${id}: ${j.label}`)})`);
    }
    for (const j of s.topologicalOrder())
      for (const r of j.required) if (s.has(r)) out.push(`${pad}${name(r)} --> ${name(j)}`);
  };
  walk(root, "  ");
  out.push("  classDef critical stroke:#d00,stroke-width:2px");
  out.push("  classDef forever stroke-dasharray:5 5");
  if (critical.length) out.push(`  class ${critical.join(",")} critical`);
  if (forever.length) out.push(`  class ${forever.join(",")} forever`);
  return `${out.join("\n")}\n`;
}
