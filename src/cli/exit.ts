/**
 * Exit codes of the `aiorch` command.
 * - `ok` 0: the run was true / every host succeeded
 * - `failed` 1: the run was false (timeout, critical failure) / some command failed
 * - `usage` 2: invalid scenario (cycle, unknown label…) or bad command line
 * - `unreachable` 3: (ssh/push/pull) some host could not be reached or authenticated
 * - `interrupted` 130 / `terminated` 143: cancelled by SIGINT / SIGTERM (after the summary
 *   or debrief, with every remote process group stopped); a second signal quits at once
 *   with the same code
 * `aiorch run --strict` exits 1 also when the run was true but some job failed.
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  unreachable: 3,
  interrupted: 130,
  terminated: 143,
} as const;

/** After the debrief and the trace, what jobs still hold (timers, sockets) may delay the exit this long. */
const EXIT_BOUND_MS = 200;

/** 130 for SIGINT, 143 for SIGTERM (128 + the signal number, as shells report). */
export function signalExit(sig: NodeJS.Signals): number {
  return sig === "SIGINT" ? EXIT.interrupted : EXIT.terminated;
}

/**
 * The run is over, its debrief printed and its trace written: exit with `code` even when
 * abandoned jobs still hold timers or sockets (the timer itself holds nothing).
 */
export function exitSoon(code: number): void {
  setTimeout(() => process.exit(code), EXIT_BOUND_MS).unref();
}
