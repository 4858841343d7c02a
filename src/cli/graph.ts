import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { AiorchError } from "../errors.ts";
import { EXIT } from "./exit.ts";

/** Formats of `aiorch graph`. */
export const GRAPH_FORMATS = ["dot", "mermaid", "svg", "png"] as const;
/** One of {@link GRAPH_FORMATS}. */
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

/** `aiorch graph FILE` and `aiorch report TRACE`. */
export function registerGraphCommands(program: Command, setCode: (code: number) => void): void {
  program
    .command("graph")
    .description("draw a scenario's dependency graph (DOT, Mermaid, or SVG/PNG through Graphviz)")
    .argument("<file>", "scenario file")
    .option("-f, --format <format>", `${GRAPH_FORMATS.join(" | ")} (default: from -o, else dot)`)
    .option("-o, --output <file>", "write to this file instead of stdout")
    .option("--param <key=value>", "scenario parameter (repeatable)", collectParam, {})
    .action(async (file: string, opts: GraphCliOptions) => {
      setCode(await graphCommand(file, opts));
    });
  program
    .command("report")
    .description("turn a trace (aiorch run --record) into one self-contained HTML page")
    .argument("<trace>", "trace file written by aiorch run --record")
    .option(
      "-o, --output <file>",
      "HTML file to write (default: stdout, or TRACE.html on a terminal)",
    )
    .action(async (trace: string, opts: { output?: string }) => {
      // loaded here, not at the top: registering the command (every `aiorch` start) stays cheap
      const [{ timelineFromTrace }, { renderReport }, { readTrace }] = await Promise.all([
        import("../render/from-trace.ts"),
        import("../render/report.ts"),
        import("../trace/file.ts"),
      ]);
      const model = timelineFromTrace(await readTrace({ file: trace }));
      const html = renderReport({ model });
      const target =
        opts.output ??
        (process.stdout.isTTY ? trace.replace(/(\.trace)?\.json$/, "") + ".html" : undefined);
      if (target === undefined) process.stdout.write(html);
      else {
        writeOutput(target, html);
        process.stderr.write(`aiorch: report written to ${target}\n`);
      }
      setCode(EXIT.ok);
    });
}

/** Options of `aiorch graph`. */
export interface GraphCliOptions {
  format?: string;
  output?: string;
  param: Record<string, string>;
}

async function graphCommand(file: string, opts: GraphCliOptions): Promise<number> {
  const format = pickFormat(opts);
  const { loadScenario } = await import("./load.ts");
  const { scheduler } = await loadScenario({ file, params: opts.param });
  scheduler.validate();
  const dot = scheduler.exportDot();
  if (format === "dot" || format === "mermaid") {
    const text = format === "dot" ? dot : scheduler.exportMermaid();
    if (opts.output !== undefined) writeOutput(opts.output, text);
    else process.stdout.write(text);
    return EXIT.ok;
  }
  if (format === "png" && opts.output === undefined && process.stdout.isTTY) {
    process.stderr.write("aiorch graph: not writing PNG to a terminal: use -o FILE.png\n");
    return EXIT.usage;
  }
  const image = renderWithGraphviz({ dot, format });
  if (typeof image === "string") {
    process.stderr.write(`aiorch graph: ${image}\n`);
    return EXIT.failed;
  }
  if (opts.output !== undefined) writeOutput(opts.output, image);
  else process.stdout.write(image);
  return EXIT.ok;
}

function pickFormat(opts: GraphCliOptions): GraphFormat {
  const given = opts.format ?? /\.(dot|gv|mmd|mermaid|svg|png)$/i.exec(opts.output ?? "")?.[1];
  const f = (given ?? "dot").toLowerCase();
  const alias: Record<string, GraphFormat> = { gv: "dot", mmd: "mermaid" };
  const format = alias[f] ?? f;
  if (!(GRAPH_FORMATS as readonly string[]).includes(format))
    throw new AiorchError(
      "USAGE",
      `--format expects one of ${GRAPH_FORMATS.join(", ")}, got ${JSON.stringify(opts.format)}`,
      { option: "--format" },
    );
  return format as GraphFormat;
}

/**
 * Run Graphviz `dot -T<format>` on DOT text (argument array, no shell). Returns the image,
 * or a message naming the package to install when `dot` is missing, or dot's error.
 */
export function renderWithGraphviz({
  dot,
  format,
  command = "dot",
}: {
  dot: string;
  format: "svg" | "png";
  /** @default "dot" (found on PATH) */
  command?: string;
}): Buffer | string {
  const r = spawnSync(command, [`-T${format}`], { input: dot, maxBuffer: 256 * 1024 * 1024 });
  if (r.error) {
    if ((r.error as NodeJS.ErrnoException).code === "ENOENT")
      return `--format ${format} needs Graphviz's "dot" command, which was not found on PATH: install the package "graphviz" (apt-get install graphviz, dnf install graphviz, brew install graphviz), or use --format dot or --format mermaid`;
    return `cannot run ${command}: ${r.error.message}`;
  }
  if (r.status !== 0)
    return `${command} -T${format} failed (exit ${r.status ?? r.signal}): ${r.stderr.toString().trim()}`;
  return r.stdout;
}

function writeOutput(file: string, data: string | Buffer): void {
  try {
    writeFileSync(file, data);
  } catch (err) {
    throw new AiorchError("FILE", `cannot write ${file}: ${(err as Error).message}`, {
      file,
      cause: err,
    });
  }
}

function collectParam(value: string, prev: Record<string, string>): Record<string, string> {
  const eq = value.indexOf("=");
  if (eq <= 0)
    throw new AiorchError("USAGE", `--param expects key=value, got ${JSON.stringify(value)}`, {
      option: "--param",
    });
  return { ...prev, [value.slice(0, eq)]: value.slice(eq + 1) };
}
