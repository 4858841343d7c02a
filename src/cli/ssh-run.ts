/**
 * What `aiorch ssh`, `push` and `pull` do once their options are parsed (ssh.ts registers
 * them and imports this module only when one of them runs): build one node per target
 * (gateways shared per hop chain), run the commands, print the per-host summary.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pc from "picocolors";
import { AiorchError, CancelledError, describeError } from "../errors.ts";
import { Scheduler } from "../scheduler.ts";
import {
  type Command as SshCommand,
  pull,
  push,
  run,
  runScript,
  runString,
} from "../ssh/commands.ts";
import { isUnreachableError } from "../ssh/errors.ts";
import { fileFormatter, lineFormatter, type OutputFormatter, safeName } from "../ssh/formatters.ts";
import { killAllNow } from "../ssh/groups.ts";
import { SshJob, SshJobFailedError } from "../ssh/job.ts";
import { SshNode } from "../ssh/node.ts";
import {
  formatTarget,
  type HopSpec,
  parseTarget,
  resolveTargets,
  type TargetSpec,
} from "../ssh/targets.ts";
import { EXIT, exitSoon, signalExit } from "./exit.ts";
import type { SshCliOptions } from "./ssh-options.ts";
import { oneLine } from "../render/cells.ts";

/** `aiorch ssh`: the command line (or with -s a script) on every target; the exit code. */
export function sshMain(words: string[], opts: SshCliOptions): Promise<number> {
  return runOnTargets(opts, sshCommand(words, opts), words.join(" "));
}

/** `aiorch push LOCAL… @:REMOTE`; the exit code. */
export function pushMain(paths: string[], opts: SshCliOptions): Promise<number> {
  const remote = paths[paths.length - 1] ?? "";
  const locals = paths.slice(0, -1);
  if (!remote.startsWith("@:") || locals.length === 0 || locals.some((l) => l.startsWith("@:")))
    throw new AiorchError(
      "USAGE",
      "push: usage is aiorch push -t HOSTS LOCAL… @:REMOTE (remote starts with @:)",
    );
  const target = remote.slice(2) || ".";
  return runOnTargets(
    opts,
    (node) => [
      push(
        locals.map((l) => expand(l, node)),
        expand(target, node),
      ),
    ],
    `push ${paths.join(" ")}`,
  );
}

/** `aiorch pull @:REMOTE… LOCAL`; the exit code. */
export function pullMain(paths: string[], opts: SshCliOptions): Promise<number> {
  const local = paths[paths.length - 1] ?? "";
  const remotes = paths.slice(0, -1);
  if (remotes.length === 0 || remotes.some((r) => !r.startsWith("@:")) || local.startsWith("@:"))
    throw new AiorchError(
      "USAGE",
      "pull: usage is aiorch pull -t HOSTS @:REMOTE… LOCAL (remotes start with @:)",
    );
  return runOnTargets(
    opts,
    (node) => [
      pull(
        remotes.map((r) => expand(r.slice(2) || ".", node)),
        expand(local, node),
      ),
    ],
    `pull ${paths.join(" ")}`,
    (nodes) => checkDistinctDestinations(remotes, local, nodes),
  );
}

/** Several hosts pulled into one local path would interleave their bytes: refuse up front. */
function checkDistinctDestinations(
  remotes: readonly string[],
  local: string,
  nodes: readonly SshNode[],
): void {
  const seen = new Map<string, SshNode>();
  for (const node of nodes) {
    const dest = expand(local, node);
    // remote paths naming the host (`@:/log/{host}.txt`) land in distinct files
    const key = JSON.stringify([dest, ...remotes.map((r) => expand(r, node))]);
    const other = seen.get(key);
    if (other)
      throw new AiorchError(
        "USAGE",
        `pull: ${other.toString()} and ${node.toString()} would both write ${JSON.stringify(dest)}: put {host} in the local path (e.g. ${JSON.stringify(`${local.replace(/\/+$/, "")}/{host}/`)})`,
        { option: "LOCAL" },
      );
    seen.set(key, node);
  }
}

/** `{host}`, `{fqdn}`, `{user}`, `{port}` in paths, expanded in one pass (B23, B27). */
function expand(path: string, node: SshNode): string {
  return path.replace(/\{(host|fqdn|user|port)\}/g, (_, k: string) =>
    k === "user"
      ? node.user
      : k === "port"
        ? String(node.port)
        : k === "host"
          ? node.shortName
          : node.host,
  );
}

function sshCommand(words: string[], opts: SshCliOptions): (node: SshNode) => SshCommand[] {
  const timeout = opts.timeout !== undefined ? { timeout: opts.timeout } : {};
  if (!opts.script) return () => [run(words.join(" "), timeout)];
  const [file, ...args] = words;
  if (file === undefined)
    throw new AiorchError("USAGE", "ssh -s: give a script file (or a script text)");
  const cmd = existsSync(file)
    ? runScript(file, args, { includes: opts.include, ...timeout })
    : runString(file, args, { includes: opts.include, ...timeout });
  return () => [cmd];
}

/**
 * Build one node per target; gateways are shared per hop chain. What the target and the
 * options leave unset (user, port, gateway, keys, host key policy…) comes from ssh_config.
 */
function buildNodes(targets: TargetSpec[], opts: SshCliOptions): SshNode[] {
  const cache = new Map<string, SshNode>();
  const sshConfig =
    opts.config === undefined
      ? {}
      : { sshConfig: opts.config === "none" ? (false as const) : opts.config };
  const defaultGateways = opts.gateway
    ? (parseTarget(opts.gateway).gateways ?? []).concat(parseTarget(opts.gateway))
    : undefined;
  const make = (hop: HopSpec, gateway: SshNode | null | undefined): SshNode => {
    const user = hop.user ?? opts.login;
    const port = hop.port ?? opts.port;
    const key = `${gateway === null ? "None" : gateway ? gateway.toString() : ""}->${user ?? ""}@${hop.host}:${port ?? ""}`;
    let node = cache.get(key);
    if (!node) {
      node = new SshNode({
        host: hop.host,
        ...(port !== undefined ? { port } : {}),
        ...(user !== undefined ? { user } : {}),
        ...(opts.key.length ? { keys: opts.key } : {}),
        ...(opts.knownHosts ? { knownHosts: opts.knownHosts } : {}),
        ...(opts.hostKeys ? { hostKeys: opts.hostKeys } : {}),
        ...(opts.connectTimeout !== undefined ? { connectTimeout: opts.connectTimeout } : {}),
        ...(gateway !== undefined ? { gateway } : {}),
        ...sshConfig,
      });
      cache.set(key, node);
    }
    return node;
  };
  return targets.map((t) => {
    // None->host: direct; gw->host or -g: those hops; else whatever ssh_config says
    const hops = t.gateways === null ? [] : (t.gateways ?? defaultGateways);
    if (hops === undefined) return make(t, undefined);
    let gw: SshNode | undefined; // the first hop may have a ProxyJump of its own
    for (const h of hops) gw = make(h, gw);
    return make(t, gw ?? null);
  });
}

type Outcome = {
  node: SshNode;
  status: "ok" | "failed" | "unreachable" | "interrupted";
  detail: string;
  code?: number | string;
};

function outcomeOf(job: SshJob, node: SshNode, signal: string | undefined): Outcome {
  if (signal && (job.state === "cancelled" || job.state === "idle"))
    return {
      node,
      status: "interrupted",
      detail: job.state === "idle" ? `not started (${signal})` : `stopped (${signal})`,
    };
  const err = job.raisedException();
  if (err instanceof SshJobFailedError) {
    const f = err.result.failures[0];
    return {
      node,
      status: "failed",
      detail: err.shortMessage,
      code: f?.signal ?? f?.exitCode ?? undefined,
    };
  }
  if (err !== undefined) {
    if (isUnreachableError(err))
      return {
        node,
        status: "unreachable",
        detail: `${(err as AiorchError).shortMessage}${job.attempts > 1 ? ` (${job.attempts} attempts)` : ""}`,
      };
    return { node, status: "failed", detail: describeError(err) };
  }
  if (job.result()) return { node, status: "ok", detail: "" };
  return {
    node,
    status: "failed",
    detail: job.state === "cancelled" ? "cancelled (timeout)" : "not run (timeout)",
  };
}

/**
 * The first SIGINT/SIGTERM aborts `ac` (the run stops every remote process group, then
 * prints its summary); a second one quits at once. `off()` removes the handlers.
 */
function handleSignals(ac: AbortController): { signal(): NodeJS.Signals | undefined; off(): void } {
  let first: NodeJS.Signals | undefined;
  const on = (sig: NodeJS.Signals) => {
    if (first) {
      const n = killAllNow();
      process.stderr.write(
        `aiorch: ${sig} again, quitting now${n ? ` (KILL sent to ${n} remote process group(s))` : ""}\n`,
      );
      process.exit(signalExit(first));
    }
    first = sig;
    process.stderr.write(`aiorch: ${sig}, stopping the remote commands (again to quit now)\n`);
    ac.abort(new CancelledError("CANCELLED", `interrupted by ${sig}`));
  };
  process.on("SIGINT", on);
  process.on("SIGTERM", on);
  return {
    signal: () => first,
    off() {
      // once interrupted, a second signal still quits at once until the process exits
      if (first) return;
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
    },
  };
}

async function runOnTargets(
  opts: SshCliOptions,
  commands: (node: SshNode) => SshCommand[],
  what: string,
  checkNodes?: (nodes: readonly SshNode[]) => void,
): Promise<number> {
  if (opts.target.length === 0) throw new AiorchError("USAGE", "no target: give hosts with -t");
  const { targets, excluded } = resolveTargets({ targets: opts.target, excludes: opts.exclude });
  if (targets.length === 0) throw new AiorchError("USAGE", "no target left after exclusions");
  const nodes = buildNodes(targets, opts);
  checkNodes?.(nodes);
  if (opts.dryRun) {
    process.stdout.write(`${excluded.length} excluded: ${excluded.map(formatTarget).join(" ")}\n`);
    process.stdout.write(`${nodes.length} hosts selected:\n`);
    for (const n of nodes) process.stdout.write(`  ${n.toString()}\n`);
    process.stdout.write(`would run: ${what}\n`);
    return EXIT.ok;
  }
  // --retry: connect failures only; a command that ran and failed is never run twice
  const retry = opts.retry
    ? {
        attempts: opts.retry + 1,
        backoff: 500,
        when: (e: unknown) => e instanceof AiorchError && e.code === "SSH_CONNECT",
      }
    : undefined;
  const jobs = nodes.map(
    (n) =>
      new SshJob(n, commands(n), {
        label: n.toString(),
        critical: false,
        ...(retry ? { retry } : {}),
      }),
  );
  const scheduler = new Scheduler(jobs, {
    critical: false,
    ...(opts.window > 0 ? { window: opts.window } : {}),
    ...(opts.totalTimeout !== undefined ? { timeout: opts.totalTimeout } : {}),
  });
  // output lines go to files (-o) or stdout; the live view, when on, replaces stdout lines
  const live = opts.live ?? (opts.outDir !== undefined && process.stdout.isTTY === true);
  const formatter: OutputFormatter | undefined = opts.outDir
    ? fileFormatter({ dir: opts.outDir })
    : live
      ? undefined
      : lineFormatter({
          format: opts.raw ? "raw" : opts.time ? "time-host" : "host",
          bytes: opts.raw === true,
        });
  if (formatter) scheduler.on(formatter.listener);
  const view = live
    ? (await import("./view.ts")).attachView({
        scheduler,
        mode: "live",
        title: what.length > 40 ? `${what.slice(0, 39)}…` : what,
        debrief: "never",
      })
    : undefined;
  const closing = closeWhenDone(scheduler, jobs);
  const ac = new AbortController();
  const signals = handleSignals(ac);
  try {
    await scheduler.run({ signal: ac.signal });
    await Promise.all(closing);
  } finally {
    view?.stop();
    signals.off();
  }
  await formatter?.close();
  const signal = signals.signal();
  const outcomes = jobs.map((j, i) => outcomeOf(j, nodes[i] as SshNode, signal));
  if (opts.outDir && opts.mark) writeMarks(opts.outDir, outcomes);
  printSummary(outcomes, opts.outDir, scheduler);
  if (signal) {
    const code = signalExit(signal);
    exitSoon(code);
    return code;
  }
  if (outcomes.some((o) => o.status === "unreachable")) return EXIT.unreachable;
  if (outcomes.some((o) => o.status === "failed")) return EXIT.failed;
  return EXIT.ok;
}

/**
 * Close each target's connection as soon as the last job using it is done (as each ssh
 * process of pssh exits), so the closes overlap the other hosts' work instead of all
 * waiting for the end of the run, and a window (`-w`) never holds more connections than
 * hosts at work. Gateways are shared: the run closes them at its end, remotest first.
 */
function closeWhenDone(scheduler: Scheduler, jobs: readonly SshJob[]): Promise<void>[] {
  const left = new Map<SshNode, number>();
  const gateways = new Set<SshNode>();
  for (const job of jobs) {
    const node = job.node as SshNode;
    left.set(node, (left.get(node) ?? 0) + 1);
    for (let g = node.gateway; g; g = g.gateway) gateways.add(g);
  }
  const closing: Promise<void>[] = [];
  scheduler.on((e) => {
    if (e.type !== "job-state" || e.state !== "done" || !(e.job instanceof SshJob)) return;
    const node = e.job.node as SshNode;
    const n = (left.get(node) ?? 0) - 1;
    left.set(node, n);
    if (n === 0 && !gateways.has(node)) closing.push(node.close());
  });
  return closing;
}

function writeMarks(dir: string, outcomes: Outcome[]): void {
  for (const o of outcomes) {
    const sub = join(dir, o.status === "ok" ? "0ok" : "1failed");
    mkdirSync(sub, { recursive: true });
    writeFileSync(
      join(sub, safeName(o.node.shortName)),
      `${o.status === "ok" ? 0 : (o.code ?? o.status)}\n`,
    );
  }
}

/**
 * A host as the summary names it: its display name (the alias of ssh_config, `name`, or
 * `host[:port]`), as its output lines do, and the gateways it is reached through.
 */
function summaryName(node: SshNode): string {
  const via: string[] = [];
  for (let g = node.gateway; g; g = g.gateway) via.push(g.displayName);
  return via.length ? `${node.displayName} (via ${via.join(", ")})` : node.displayName;
}

function printSummary(outcomes: Outcome[], outDir: string | undefined, scheduler: Scheduler): void {
  const color = process.stderr.isTTY === true;
  const paint = (f: (s: string) => string, s: string) => (color ? f(s) : s);
  const n = (s: Outcome["status"]) => outcomes.filter((o) => o.status === s).length;
  const interrupted = n("interrupted") ? `, ${n("interrupted")} interrupted` : "";
  const lines = [
    `${outcomes.length} hosts: ${n("ok")} ok, ${n("failed")} failed, ${n("unreachable")} unreachable${interrupted}${outDir ? ` (output in ${outDir})` : ""}`,
  ];
  const names = outcomes.map((o) => oneLine(summaryName(o.node)));
  const width = Math.max(...names.map((s) => s.length));
  for (const [i, o] of outcomes.entries()) {
    const tag =
      o.status === "ok"
        ? paint(pc.green, "ok")
        : o.status === "failed"
          ? paint(pc.red, `failed${o.code !== undefined ? ` (${o.code})` : ""}`)
          : paint(pc.yellow, o.status);
    // what a server or a remote command said is untrusted: control characters shown
    lines.push(`  ${names[i]!.padEnd(width)}  ${tag}${o.detail ? `  ${oneLine(o.detail)}` : ""}`);
  }
  // the stop of a remote process group that could not be confirmed names its host
  for (const p of scheduler.shutdownProblems())
    lines.push(paint(pc.red, `  ! ${oneLine(describeError(p.error))}`));
  process.stderr.write(`${lines.join("\n")}\n`);
}
