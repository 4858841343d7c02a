/**
 * Stopping a running command: a timeout or the run's cancel sends TERM, then KILL after a
 * grace, then closes the channel if it is still open; before the channel opens, it aborts
 * the wait instead.
 *
 * Hot path (one per command): methods on a prototype, no per-command closures — under tsx
 * every named arrow costs a `__name` (defineProperty) — and one AbortController shared by
 * the job's commands until one of them escalates.
 */

import { CONFIRM_MS, STOP_GRACE_MS } from "./groups.ts";

/** @internal where a job keeps its reusable controller */
export interface StopHolder {
  /** the run's (job's) signal */
  signal: AbortSignal;
  /** a controller no command escalated on yet, reused by the next command */
  stop?: AbortController | undefined;
}

/** @internal stop state of one command; listens to the job's signal until `done()` */
export class CommandStopper {
  readonly stop: AbortController;
  /** sends a signal to the running command, once the channel is open */
  kill: ((sig: string) => void) | undefined;
  timedOut = false;
  private ended = false;
  private readonly holder: StopHolder;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(holder: StopHolder, timeoutMs: number | undefined) {
    this.holder = holder;
    this.stop = holder.stop ?? new AbortController();
    holder.stop = this.stop;
    this.timer = timeoutMs
      ? setTimeout(() => {
          this.timedOut = true;
          this.escalate(new Error("timeout"));
        }, timeoutMs)
      : undefined;
    holder.signal.addEventListener("abort", this, { once: true });
  }

  /** the job's signal aborted */
  handleEvent(): void {
    this.escalate(this.holder.signal.reason);
  }

  /**
   * The command's channel opened: `kill` signals its process group from now on. A stop
   * decided while the channel was opening (the open cannot be withdrawn once asked) is
   * carried out now: TERM, then KILL after the grace, as for a running command.
   */
  started(kill: (sig: string) => void): void {
    this.kill = kill;
    if (this.stop.signal.aborted && !this.ended) this.signalRunning();
  }

  /** Before the channel opens, abort the wait; once running, TERM, then KILL and close. */
  escalate(reason: unknown): void {
    const stop = this.stop;
    if (this.holder.stop === stop) this.holder.stop = undefined; // never reused once used
    if (!this.kill) {
      stop.abort(reason);
      return;
    }
    this.signalRunning();
  }

  private signalRunning(): void {
    const stop = this.stop;
    this.kill!("TERM");
    setTimeout(() => {
      this.kill?.("KILL");
      // the channel ends by itself once its processes are gone; close it if something
      // outside the group still holds it (reported as a stop not confirmed)
      setTimeout(() => stop.abort(new Error("stopped")), CONFIRM_MS).unref();
    }, STOP_GRACE_MS).unref();
  }

  /** The command ended: no timeout, no listener left. */
  done(): void {
    this.ended = true;
    clearTimeout(this.timer);
    this.holder.signal.removeEventListener("abort", this);
  }
}
