/** Stylesheet of the HTML report (inlined: the report works offline). */
export const REPORT_CSS = `
:root { --ok:#2e9d4c; --failed:#d93b3b; --cancelled:#d98e04; --running:#3b7dd9; --not-run:#b8b8b8; --restored:#1a9fb0;
  --fg:#1d2330; --muted:#6b7280; --line:#e5e7eb; --bg:#fff; --cp:#7c3aed; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: var(--bg); }
header { padding: 16px 24px 8px; border-bottom: 1px solid var(--line); }
h1 { margin: 0 0 4px; font-size: 20px; }
h2 { font-size: 15px; margin: 24px 24px 8px; }
.verdict { font-weight: 600; }
.verdict.ok { color: var(--ok); } .verdict.bad { color: var(--failed); }
.counts span { margin-right: 14px; }
.legend { margin: 6px 0 0; color: var(--muted); }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin: 0 4px 0 10px;
  vertical-align: -1px; }
.legend i.cp { background: none; outline: 2px solid var(--cp); }
.gantt { margin: 0 24px; border: 1px solid var(--line); border-radius: 6px; overflow: hidden; }
.row { display: flex; height: 22px; border-top: 1px solid #f3f4f6; }
.row:hover { background: #f8fafc; }
.row.axis { height: 24px; border-top: none; background: #fafafa; border-bottom: 1px solid var(--line); }
.name { flex: 0 0 280px; padding: 2px 8px; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; border-right: 1px solid var(--line); }
.row.group .name { font-weight: 600; }
.row.not-run .name { color: var(--muted); }
.lane { position: relative; flex: 1 1 auto; margin-right: 72px; }
.row.failed .name { color: var(--failed); }
.row:not(.axis) .lane { background-image: linear-gradient(to right, #eef0f3 1px, transparent 1px);
  background-size: var(--tick) 100%; }
.tick { position: absolute; top: 0; bottom: 0; border-left: 1px dashed var(--line); }
.axis .tick span { position: absolute; top: 4px; left: 3px; color: var(--muted); font-size: 11px;
  white-space: nowrap; }
.bar { position: absolute; top: 4px; height: 14px; min-width: 2px; border-radius: 3px; }
.bar.ok { background: var(--ok); } .bar.failed { background: var(--failed); }
.bar.cancelled { background: var(--cancelled); } .bar.restored { background: var(--restored); } .bar.running { background: var(--running); }
.bar.group { top: 8px; height: 6px; opacity: .55; }
.bar.cp { outline: 2px solid var(--cp); outline-offset: 1px; }
.bar.forever { background-image: repeating-linear-gradient(45deg, transparent 0 4px, rgba(255,255,255,.45) 4px 8px); }
.dur { position: absolute; top: 3px; font-size: 11px; color: var(--muted); white-space: nowrap; }
i.ok { background: var(--ok); } i.failed { background: var(--failed); } i.cancelled { background: var(--cancelled); }
i.running { background: var(--running); } i.not-run { background: var(--not-run); } i.restored { background: var(--restored); }
#tip { position: fixed; display: none; max-width: 640px; background: #111827; color: #f9fafb;
  padding: 8px 10px; border-radius: 6px; font-size: 12px; pointer-events: none; z-index: 10;
  box-shadow: 0 4px 16px rgba(0,0,0,.25); }
#tip b { font-size: 13px; } #tip .k { color: #9ca3af; }
#tip pre { margin: 4px 0 0; white-space: pre-wrap; word-break: break-all; font-size: 11px;
  max-height: 240px; overflow: hidden; }
#tip pre.err { color: #fca5a5; }
.graphbox { margin: 0 24px; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
svg.graph text { font: 11px system-ui, sans-serif; fill: var(--fg); }
svg.graph .node rect { fill: #fff; stroke: var(--not-run); stroke-width: 1.5; }
svg.graph .node.ok rect { stroke: var(--ok); fill: #ecf8ef; }
svg.graph .node.failed rect { stroke: var(--failed); fill: #fdecec; }
svg.graph .node.cancelled rect { stroke: var(--cancelled); fill: #fdf4e3; }
svg.graph .node.running rect { stroke: var(--running); fill: #ebf2fc; }
svg.graph .node.forever rect { stroke-dasharray: 4 3; }
svg.graph .node.cp rect { stroke: var(--cp); stroke-width: 3; }
svg.graph .node.hl rect, .row.hl { outline: 2px solid #f59e0b; }
svg.graph .edge { fill: none; stroke: #9ca3af; stroke-width: 1.2; }
svg.graph .edge.cp { stroke: var(--cp); stroke-width: 2.5; }
svg.graph .cluster rect { fill: #f9fafb; stroke: #d1d5db; stroke-dasharray: 5 3; }
svg.graph .cluster text { font-weight: 600; fill: var(--muted); }
pre.debrief { margin: 0 24px 32px; padding: 12px; background: #f8fafc; border: 1px solid var(--line);
  border-radius: 6px; overflow: auto; font: 12px/1.45 ui-monospace, Menlo, Consolas, monospace; }
`;

/** Script of the HTML report: tooltips with command / output / error, graph-row linking. */
export const REPORT_JS = `
const data = JSON.parse(document.getElementById("report-data").textContent);
const jobs = data.jobs;
const START = data.start;
const tip = document.getElementById("tip");
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const fmt = (ms) => ms < 1000 ? ms + " ms" : (ms / 1000).toFixed(ms < 10000 ? 2 : 1) + " s";
function show(j, ev) {
  let h = "<b>" + esc(j.label) + "</b> <span class=k>" + esc(j.kind) + (j.group.length ? " in " + esc(j.group.join(" / ")) : "") + "</span>";
  h += "<div>" + esc(j.outcome) + (j.critical ? " · critical" : "") + (j.forever ? " · forever" : "");
  if (j.start !== undefined) h += " · starts +" + fmt(j.start - START);
  if (j.start !== undefined && j.end !== undefined) h += " · took " + fmt(j.end - j.start);
  if (j.host) h += " · on " + esc(j.host);
  h += "</div>";
  if (j.requires.length) h += "<div class=k>after " + esc(j.requires.join(", ")) + "</div>";
  if (j.command) h += "<pre>" + esc(j.command) + "</pre>";
  if (j.error) h += "<pre class=err>" + esc(j.error) + "</pre>";
  if (j.output.length) h += "<pre>" + esc(j.output.join("\\n")) + "</pre>";
  tip.innerHTML = h;
  tip.style.display = "block";
  move(ev);
}
function move(ev) {
  const r = tip.getBoundingClientRect();
  tip.style.left = Math.min(ev.clientX + 14, innerWidth - r.width - 8) + "px";
  tip.style.top = Math.min(ev.clientY + 14, innerHeight - r.height - 8) + "px";
}
function linked(id, on) {
  for (const el of document.querySelectorAll('[data-id="' + CSS.escape(id) + '"]')) el.classList.toggle("hl", on);
}
for (const el of document.querySelectorAll("[data-i]")) {
  const j = jobs[Number(el.dataset.i)];
  el.addEventListener("mouseenter", (ev) => { show(j, ev); linked(j.id, true); });
  el.addEventListener("mousemove", move);
  el.addEventListener("mouseleave", () => { tip.style.display = "none"; linked(j.id, false); });
}
for (const el of document.querySelectorAll("svg.graph .node")) {
  const i = jobs.findIndex((j) => j.id === el.dataset.id);
  if (i < 0) continue;
  el.addEventListener("mouseenter", (ev) => { show(jobs[i], ev); linked(jobs[i].id, true); });
  el.addEventListener("mousemove", move);
  el.addEventListener("mouseleave", () => { tip.style.display = "none"; linked(jobs[i].id, false); });
}
`;
