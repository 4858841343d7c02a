/**
 * The remote (or local) process groups a node started and that still run. A connection
 * closes only after each of them has been stopped: TERM (unless already sent: the run sends
 * it when it ends, then gives its jobs `cancelGrace`), KILL (at once, or once the command's
 * own grace has passed), then a bounded wait for the end. Groups whose end never came are
 * reported (the stop could not be confirmed), never waited on forever.
 */
import { AiorchError } from "../errors.ts";

/** ms between TERM and KILL for a command still running (per-command timeout, cancel) */
export const STOP_GRACE_MS = 1000;
/** ms between TERM and KILL for a command that gets its first TERM at the close */
const LATE_GRACE_MS = 300;
/** ms to wait for the end of a group after its KILL (the close of a connection is bounded by the scheduler's shutdownTimeout) */
export const CONFIRM_MS = 400;

/** @internal one running process group */
export interface LiveGroup {
  /** sends a signal (`TERM`, `KILL`) to the whole group */
  signal(sig: string): void;
  /** ms from TERM to KILL; undefined: KILL at the close (the run gave it its cancelGrace) */
  grace: number | undefined;
  /** when TERM (or any stop signal) was first sent */
  termAt: number | undefined;
  /** resolves when the group's channel or process has ended */
  readonly ended: Promise<void>;
  /** true when it ended because we closed its channel, not by itself */
  forced(): boolean;
}

/** every live group of the process, for {@link killAllNow} */
const everywhere = new Set<LiveGroup>();

/**
 * @internal KILL every process group still running, now, without waiting (a second
 * Ctrl-C): the signal requests are written to the sockets before the process exits.
 */
export function killAllNow(): number {
  const n = everywhere.size;
  for (const g of everywhere) g.signal("KILL");
  return n;
}

/** @internal the live groups of one connection or local node */
export class ProcessGroups {
  private readonly live = new Set<LiveGroup>();
  /** groups whose channel had to be closed after their KILL, since the last stopAll */
  private forcedEnds = 0;

  get size(): number {
    return this.live.size;
  }

  /**
   * Track a started group until `ended` settles. `send` signals the group; the returned
   * function is what the command uses (it records when the stop began).
   */
  add(
    send: (sig: string) => void,
    ended: Promise<unknown>,
    grace?: number,
    forced: () => boolean = () => false,
  ): (sig: string) => void {
    const group: LiveGroup = {
      forced,
      signal(sig) {
        group.termAt ??= Date.now();
        send(sig);
      },
      grace,
      termAt: undefined,
      ended: ended.then(
        () => undefined,
        () => undefined,
      ),
    };
    this.live.add(group);
    everywhere.add(group);
    void group.ended.then(() => {
      this.live.delete(group);
      everywhere.delete(group);
      // something outside the group (setsid, a daemon) still held its output open
      if (group.termAt !== undefined && group.forced()) this.forcedEnds++;
    });
    return group.signal;
  }

  /**
   * Stop every live group: TERM those not signalled yet, KILL each once its grace has
   * passed since its TERM, then wait (at most `confirmMs`) for their ends.
   * Resolves with the number of groups whose end was not seen, counting those whose
   * channel had to be closed after their KILL since the last call.
   */
  async stopAll(opts: { confirmMs?: number } = {}): Promise<number> {
    const groups = [...this.live];
    const confirmMs = opts.confirmMs ?? CONFIRM_MS;
    if (groups.length > 0) await Promise.all(groups.map((g) => stopGroup(g, confirmMs)));
    const unconfirmed = groups.filter((g) => this.live.has(g)).length + this.forcedEnds;
    this.forcedEnds = 0;
    return unconfirmed;
  }
}

async function stopGroup(g: LiveGroup, confirmMs: number): Promise<void> {
  let grace = g.grace ?? 0;
  if (g.termAt === undefined) {
    g.signal("TERM");
    grace = g.grace ?? LATE_GRACE_MS;
  }
  const killIn = Math.max(0, (g.termAt ?? Date.now()) + grace - Date.now());
  if (!(await endsWithin(g.ended, killIn))) {
    g.signal("KILL");
    await endsWithin(g.ended, confirmMs);
  }
}

/** True when `p` settles within `ms`. */
function endsWithin(p: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.then(() => true),
    new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** @internal the stop of `n` process groups on `name` was not seen to end */
export function stopNotConfirmed(name: string, host: string, n: number): AiorchError {
  return new AiorchError(
    "SHUTDOWN",
    `stop not confirmed on ${name}: ${n} process group(s) did not end after TERM and KILL`,
    { host },
  );
}
