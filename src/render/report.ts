import { createHash } from "node:crypto";
import { escapeHtml, renderGraphSvg } from "./graph-svg.ts";
import { REPORT_CSS, REPORT_JS } from "./report-style.ts";
import { type TimelineJob, type TimelineModel, findCriticalPath } from "./timeline.ts";

/** CSP hash of the one script of the page: no other inline script can run. */
const SCRIPT_HASH = `sha256-${createHash("sha256").update(REPORT_JS).digest("base64")}`;

/**
 * The run report: one self-contained HTML page (no network) with a timeline of every job
 * (coloured by outcome, nested schedulers as groups, the critical path outlined, hover
 * for command / output / error), the dependency graph and the debrief.
 *
 * @example
 * ```ts
 * writeFileSync("run.html", renderReport({ model: timelineFromTrace(JSON.parse(text)) }));
 * ```
 */
export function renderReport({ model }: { model: TimelineModel }): string {
  const cp = findCriticalPath(model);
  const title = model.title || "aiorch run";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src '${SCRIPT_HASH}'; img-src data:">
<title>${escapeHtml(title)} — aiorch report</title>
<style>${REPORT_CSS}</style>
</head>
<body>
${renderHeader(model, cp)}
<h2>Timeline</h2>
${renderGantt(model, new Set(cp))}
<h2>Graph</h2>
<div class="graphbox">${renderGraphSvg({ model, highlight: cp })}</div>
<h2>Debrief</h2>
<pre class="debrief">${escapeHtml(model.debrief ?? formatModelDebrief(model))}</pre>
<div id="tip"></div>
<script type="application/json" id="report-data">${jsonForScript({ start: model.start, jobs: model.jobs })}</script>
<script>${REPORT_JS}</script>
</body>
</html>
`;
}

function renderHeader(model: TimelineModel, cp: string[]): string {
  const leaves = model.jobs.filter((j) => !j.isGroup);
  const count = (o: string) => leaves.filter((j) => j.outcome === o).length;
  const verdict =
    model.ok === undefined
      ? `<span class="verdict bad">did not end</span>`
      : model.ok
        ? `<span class="verdict ok">✔ ok</span>`
        : `<span class="verdict bad">✘ ${escapeHtml(whyOf(model))}</span>`;
  const started = model.start > 0 ? new Date(model.start).toISOString().replace("T", " ") : "";
  const outcomes = ["ok", "restored", "failed", "cancelled", "running", "not-run"];
  return `<header>
<h1>${escapeHtml(model.title || "aiorch run")}</h1>
<div>${verdict} · ${formatMs(model.end - model.start)}${model.timeout !== undefined ? ` (timeout ${formatMs(model.timeout)})` : ""} · started ${escapeHtml(started)}</div>
<div class="counts">${outcomes
    .filter((o) => count(o) > 0)
    .map((o) => `<span><i class="${o}"></i> ${count(o)} ${o}</span>`)
    .join("")} <span>${leaves.length} job(s)</span></div>
<div class="legend">${outcomes.map((o) => `<i class="${o}"></i>${o}`).join(" ")}<i class="cp"></i>critical path${cp.length ? `: ${cp.map((id) => escapeHtml(id)).join(" → ")}` : ""}</div>
</header>`;
}

function renderGantt(model: TimelineModel, cp: Set<string>): string {
  const span = Math.max(1, model.end - model.start);
  const pct = (t: number) => ((100 * (t - model.start)) / span).toFixed(3);
  const step = tickStep(span);
  const ticks: string[] = [];
  for (let t = 0; t <= span; t += step)
    ticks.push(
      `<div class="tick" style="left:${((100 * t) / span).toFixed(3)}%"><span>${formatMs(t)}</span></div>`,
    );
  const rows = [
    `<div class="row axis"><div class="name">job</div><div class="lane">${ticks.join("")}</div></div>`,
  ];
  model.jobs.forEach((j, i) => {
    const pad = 8 + j.group.length * 16;
    const name = `${j.isGroup ? "▾ " : ""}${j.critical && j.outcome === "failed" ? "⚠ " : ""}${j.label}${j.forever ? " ∞" : ""}`;
    let bar = "";
    if (j.start !== undefined) {
      const end = j.end ?? model.end;
      const cls = `bar ${j.outcome}${j.isGroup ? " group" : ""}${cp.has(j.id) ? " cp" : ""}${j.forever ? " forever" : ""}`;
      const w = Math.max(0, end - j.start);
      bar = `<div class="${cls}" style="left:${pct(j.start)}%;width:${((100 * w) / span).toFixed(3)}%"></div><span class="dur" style="left:calc(${pct(end)}% + 4px)">${formatMs(w)}</span>`;
    }
    rows.push(
      `<div class="row ${j.outcome}${j.isGroup ? " group" : ""}" data-i="${i}" data-id="${escapeHtml(j.id)}"><div class="name" style="padding-left:${pad}px">${escapeHtml(name)}</div><div class="lane">${bar}</div></div>`,
    );
  });
  const tick = ((100 * step) / span).toFixed(4);
  return `<div class="gantt" style="--tick:${tick}%">\n${rows.join("\n")}\n</div>`;
}

/** A round tick interval giving about 8 ticks over `span` ms. */
function tickStep(span: number): number {
  const raw = span / 8;
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}

function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function whyOf(model: TimelineModel): string {
  if (model.reason === "timeout" && model.timeout !== undefined)
    return `timed out after ${model.timeout} ms`;
  if (model.reason === "critical") {
    const j = model.jobs.find((x) => x.critical && x.outcome === "failed" && !x.isGroup);
    return j ? `critical job "${j.label}" failed: ${j.error ?? ""}` : "critical job failed";
  }
  return model.reason ?? "not ok";
}

/** A debrief-like text when the source has none: verdict, one line per job, failures. */
export function formatModelDebrief(model: TimelineModel): string {
  const out = [`----- ${model.ok ? "ok" : whyOf(model)} (${model.end - model.start} ms)`];
  const width = String(model.jobs.length).length;
  model.jobs.forEach((j: TimelineJob, i) => {
    const dur = j.start !== undefined && j.end !== undefined ? ` (${j.end - j.start} ms)` : "";
    out.push(
      `${String(i + 1).padStart(width, "0")} ${"> ".repeat(j.group.length)}${j.kind} ${j.label} ${j.outcome}${dur}${j.attempts !== undefined && j.attempts > 1 ? ` (${j.attempts} attempts)` : ""}`,
    );
  });
  const failed = model.jobs.filter((j) => j.outcome === "failed");
  out.push(`===== ${failed.length} job(s) with an exception`);
  for (const j of failed)
    out.push(`${j.critical ? "critical" : "non-critical"}: ${j.label}: ${j.error ?? ""}`);
  return out.join("\n");
}

/** JSON safe inside a <script> element. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028|\u2029/g, (c) => (c === "\u2028" ? "\\u2028" : "\\u2029"));
}
