/**
 * Run `aiorch` inside a real terminal (tmux) and read the screen with `capture-pane`.
 * Each test file gets its own private tmux server (socket); call `killAll` after each test
 * and `killServer` after all.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const ROOT = join(import.meta.dirname, "../..");
const SOCKET = `aiorch-test-${process.pid}`;
export const haveTmux = existsSync("/usr/bin/tmux") || existsSync("/usr/local/bin/tmux");
let sessions: string[] = [];
let counter = 0;

function tmux(...args: string[]): string {
  return execFileSync("tmux", ["-L", SOCKET, ...args], { encoding: "utf8" });
}

let keeper = false;

/**
 * The server exits with its last session: `killAll` after one test, then `new-session` of the
 * next one could reach a server on its way out ("server exited unexpectedly"). A session of
 * its own keeps this file's server up until `killServer`.
 */
function ensureServer(): void {
  if (keeper) return;
  tmux("new-session", "-d", "-s", `keep${process.pid}`, "sleep 3600");
  keeper = true;
}

/** Start `aiorch ARGS` in a detached session of the given size; the pane stays after exit. */
export function startAiorch(
  args: string[],
  opts: { cols?: number; rows?: number; env?: string } = {},
): string {
  ensureServer();
  const name = `v${process.pid}-${++counter}`;
  const cmd = `cd ${JSON.stringify(ROOT)} && env -u NO_COLOR -u FORCE_COLOR LANG=C.UTF-8 ${opts.env ?? ""} ${JSON.stringify(process.execPath)} bin/aiorch.mjs ${args.join(" ")}; echo "EXIT=$?"; sleep 120`;
  tmux(
    "new-session",
    "-d",
    "-s",
    name,
    "-x",
    String(opts.cols ?? 120),
    "-y",
    String(opts.rows ?? 40),
    cmd,
  );
  sessions.push(name);
  return name;
}

/** The visible screen; `escapes` keeps colour codes. */
export function screen(name: string, escapes = false): string {
  return tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", name);
}

/** Poll the screen until `ok(screen)` or the deadline; returns the matching screen. */
export async function waitForScreen(
  name: string,
  ok: (s: string) => boolean,
  what: string,
  ms = 25_000,
): Promise<string> {
  const deadline = Date.now() + ms;
  let last = "";
  while (Date.now() < deadline) {
    last = screen(name);
    if (ok(last)) return last;
    await sleep(50);
  }
  throw new Error(`screen never showed ${what}; last screen:\n${last}`);
}

/** Kill the sessions started since the last call. */
export function killAll(): void {
  for (const s of sessions) {
    try {
      tmux("kill-session", "-t", s);
    } catch {
      // already gone
    }
  }
  sessions = [];
}

/** Kill this file's tmux server. */
export function killServer(): void {
  keeper = false;
  try {
    tmux("kill-server");
  } catch {
    // no server left
  }
}
