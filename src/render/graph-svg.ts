import type { TimelineJob, TimelineModel } from "./timeline.ts";
import { jobId } from "../model.ts";

/** Escape text for HTML and SVG content and attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const ROW = 26;
const COL = 190;
const BOX_W = 160;
const BOX_H = 18;
const PAD = 12;

/**
 * Edges between leaf jobs, with nested schedulers flattened: requiring a group means
 * requiring its last members, and a group's own requirements gate its first members.
 */
export function flattenEdges(model: TimelineModel): Array<[from: string, to: string]> {
  const byId = new Map(model.jobs.map((j) => [j.id, j]));
  const members = (g: string) => model.jobs.filter((j) => jobId(j.group) === g);
  const inside = (j: TimelineJob, g: string) => jobId(j.group) === g;
  const exits = (g: TimelineJob): TimelineJob[] => {
    const ms = members(g.id);
    const required = new Set(ms.flatMap((m) => m.requires));
    return ms.filter((m) => !required.has(m.id)).flatMap((m) => (m.isGroup ? exits(m) : [m]));
  };
  const entries = (g: TimelineJob): TimelineJob[] =>
    members(g.id)
      .filter((m) => !m.requires.some((r) => byId.get(r) && inside(byId.get(r)!, g.id)))
      .flatMap((m) => (m.isGroup ? entries(m) : [m]));
  const edges: Array<[string, string]> = [];
  for (const j of model.jobs)
    for (const rid of j.requires) {
      const r = byId.get(rid);
      if (!r) continue;
      const froms = r.isGroup ? exits(r) : [r];
      const tos = j.isGroup ? entries(j) : [j];
      for (const f of froms) for (const t of tos) edges.push([f.id, t.id]);
    }
  return edges;
}

/**
 * The dependency graph as inline SVG: one row per job in display order (so nested
 * schedulers are contiguous boxes), one column per dependency depth, edges left to right.
 * Nodes carry `data-id` so the page can link them to the timeline; jobs on `highlight`
 * (the critical path) are drawn bold.
 */
export function renderGraphSvg({
  model,
  highlight = [],
}: {
  model: TimelineModel;
  highlight?: readonly string[];
}): string {
  const edges = flattenEdges(model);
  const rows = new Map<string, number>();
  model.jobs.forEach((j, i) => rows.set(j.id, i));
  const preds = new Map<string, string[]>();
  for (const [f, t] of edges) preds.set(t, [...(preds.get(t) ?? []), f]);
  const depth = new Map<string, number>();
  const depthOf = (id: string, stack: Set<string>): number => {
    const known = depth.get(id);
    if (known !== undefined) return known;
    if (stack.has(id)) return 0; // a cycle cannot come from a valid run; do not loop
    stack.add(id);
    let d = 0;
    for (const p of preds.get(id) ?? []) d = Math.max(d, depthOf(p, stack) + 1);
    stack.delete(id);
    depth.set(id, d);
    return d;
  };
  const indent = (j: TimelineJob) => j.group.length * 14;
  let maxCol = 0;
  for (const j of model.jobs) if (!j.isGroup) maxCol = Math.max(maxCol, depthOf(j.id, new Set()));
  const width = PAD * 2 + (maxCol + 1) * COL + 14 * maxGroupDepth(model);
  const height = PAD * 2 + model.jobs.length * ROW;
  const onPath = new Set(highlight);
  const x = (j: TimelineJob) => PAD + indent(j) + (depth.get(j.id) ?? 0) * COL;
  const y = (j: TimelineJob) => PAD + (rows.get(j.id) ?? 0) * ROW;
  const out: string[] = [
    `<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
  ];
  model.jobs.forEach((g, i) => {
    if (!g.isGroup) return;
    let last = i;
    while (last + 1 < model.jobs.length && model.jobs[last + 1]!.id.startsWith(`${g.id}/`)) last++;
    const gx = PAD + g.group.length * 14 - 6;
    out.push(
      `<g class="cluster ${g.outcome}" data-id="${escapeHtml(g.id)}"><rect x="${gx}" y="${y(g) - 4}" width="${width - gx - PAD / 2}" height="${(last - i + 1) * ROW + 2}" rx="6"/>`,
      `<text x="${gx + 6}" y="${y(g) + 13}">${escapeHtml(g.label)}</text></g>`,
    );
  });
  const byId = new Map(model.jobs.map((j) => [j.id, j]));
  for (const [f, t] of edges) {
    const a = byId.get(f)!;
    const b = byId.get(t)!;
    const x1 = x(a) + BOX_W;
    const y1 = y(a) + BOX_H / 2;
    const x2 = x(b);
    const y2 = y(b) + BOX_H / 2;
    const mid = Math.max(24, (x2 - x1) / 2);
    const cls = onPath.has(f) && onPath.has(t) ? "edge cp" : "edge";
    out.push(
      `<path class="${cls}" d="M${x1},${y1} C${x1 + mid},${y1} ${x2 - mid},${y2} ${x2},${y2}"/>`,
    );
  }
  for (const j of model.jobs) {
    if (j.isGroup) continue;
    const cls = `node ${j.outcome}${onPath.has(j.id) ? " cp" : ""}${j.critical ? " critical" : ""}${j.forever ? " forever" : ""}`;
    const text = j.label.length > 24 ? `${j.label.slice(0, 23)}…` : j.label;
    out.push(
      `<g class="${cls}" data-id="${escapeHtml(j.id)}"><title>${escapeHtml([...j.group, j.label].join("/"))}</title>`,
      `<rect x="${x(j)}" y="${y(j)}" width="${BOX_W}" height="${BOX_H}" rx="4"/>`,
      `<text x="${x(j) + 6}" y="${y(j) + 13}">${escapeHtml(text)}</text></g>`,
    );
  }
  out.push("</svg>");
  return out.join("\n");
}

function maxGroupDepth(model: TimelineModel): number {
  let d = 0;
  for (const j of model.jobs) d = Math.max(d, j.group.length);
  return d;
}
