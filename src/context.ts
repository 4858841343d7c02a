/**
 * The context a job's function receives during a run (`ctx.signal`, `ctx.log`…), and how
 * command jobs emit their output lines as events. Run side: job.ts does not import it.
 */
import type { AbstractJob, JobContext } from "./job.ts";
import type { Resource } from "./model.ts";
import { hasSecrets, maskSecrets } from "./redact.ts";
import type { RunFrame } from "./scope.ts";

/** @internal per-job context: one small object, methods on the prototype */
export class JobCtx implements JobContext {
  readonly job: AbstractJob;
  readonly frame: RunFrame;
  constructor(job: AbstractJob, frame: RunFrame) {
    this.job = job;
    this.frame = frame;
  }
  get signal(): AbortSignal {
    return this.frame.signal;
  }
  get label(): string {
    return this.job.label;
  }
  get vars(): Record<string, string> {
    return this.frame.scope.vars;
  }
  /** @internal the run this job runs in: a nested scheduler given this context runs inside it */
  runFrame(): RunFrame {
    return this.frame;
  }
  // getters returning closures, so `({ log, use }) => …` destructuring works
  get log(): (line: string) => void {
    return (line: string) => this.output("log", line);
  }
  get use(): (resource: Resource) => void {
    return (resource: Resource) => {
      this.frame.scope.resources.add(resource);
    };
  }
  /** @internal a readiness pattern watches the job's lines (see ready.ts) */
  watchLine(_line: string): void {}
  /** @internal emit an output line (used by SSH/local command jobs) */
  output(stream: "stdout" | "stderr" | "log", line: string, host?: string, bytes?: Buffer): void {
    this.watchLine(line);
    const hub = this.frame.hub;
    if (!hub.active) return;
    hub.emit({
      type: "job-output",
      time: Date.now(),
      job: this.job,
      label: this.job.label,
      path: this.frame.path,
      stream,
      // masked at the source: every view, file and trace gets the masked line
      line: hasSecrets() ? maskSecrets(line) : line,
      ...(host === undefined ? {} : { host }),
      ...(bytes === undefined || hasSecrets() ? {} : { bytes }),
    });
  }
}

/** Emit an output line from inside a job (SSH and local command jobs use this). */
export function emitOutput(
  ctx: JobContext,
  stream: "stdout" | "stderr" | "log",
  line: string,
  host?: string,
  bytes?: Buffer,
): void {
  if (ctx instanceof JobCtx) ctx.output(stream, line, host, bytes);
  else if (stream === "log") ctx.log(line);
}
