/**
 * Exit codes of the `aiorch` command.
 * - `ok` 0: the run was true / every host succeeded
 * - `failed` 1: the run was false (timeout, critical failure) / some command failed
 * - `usage` 2: invalid scenario (cycle, unknown label…) or bad command line
 * - `unreachable` 3: (ssh/push/pull) some host could not be reached or authenticated
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const;
