import type { Scheduler } from "../scheduler.ts";
import { plainLine } from "../render/plain.ts";

/** How the CLI shows a run: live view on a TTY, plain lines otherwise, nothing when quiet. */
export type ViewMode = "live" | "plain" | "quiet";

/** A view attached to a scheduler's events; `stop()` flushes it. */
export interface AttachedView {
  stop(): void;
}

/** Attach the view for `mode` to `scheduler`. */
export function attachView({
  scheduler,
  mode,
  out = process.stdout,
}: {
  scheduler: Scheduler;
  mode: ViewMode;
  out?: NodeJS.WritableStream;
}): AttachedView {
  if (mode === "quiet") return { stop() {} };
  const off = scheduler.on((e) => {
    const line = plainLine(e);
    if (line !== undefined) out.write(`${line}\n`);
  });
  return { stop: off };
}
