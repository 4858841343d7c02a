import type { EventHub } from "./events.ts";
import type { AbstractJob } from "./job.ts";
import type { Resource } from "./model.ts";

/** @internal state shared by every scheduler of one outermost run */
export interface RunScope {
  /** captured variables, read by `ctx.vars` */
  vars: Record<string, string>;
  /** shared resources to close at the end of the outermost run */
  resources: Set<Resource>;
  /** jobs whose result a resumed run restores instead of running them */
  restore?: ReadonlyMap<AbstractJob, unknown>;
}

/** @internal what a scheduler's run hands to each of its jobs */
export interface RunFrame {
  scope: RunScope;
  signal: AbortSignal;
  /** labels of the enclosing nested schedulers, outermost first */
  path: readonly string[];
  hub: EventHub;
  /** set for a forever nested scheduler: call once all its jobs are ready or done */
  onReady?: () => void;
  /** epoch ms when the nearest enclosing timeout fires (retries never wait past it) */
  deadline?: number;
}
