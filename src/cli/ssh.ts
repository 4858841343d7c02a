/**
 * `aiorch ssh`, `aiorch push`, `aiorch pull`: run a command (or script), upload or download
 * files on many hosts in parallel, then print a per-host summary. Exit codes (docs/ssh.md):
 * 0 every host ok · 1 some command failed · 3 some host unreachable (wins over 1) · 2 usage.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import pc from "picocolors";
import { AiorchError, describeError } from "../errors.ts";
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
import { SshJob } from "../ssh/job.ts";
import { SshNode } from "../ssh/node.ts";
import {
  formatTarget,
  type HopSpec,
  parseTarget,
  resolveTargets,
  type TargetSpec,
} from "../ssh/targets.ts";
import { EXIT } from "./exit.ts";

/** Options shared by the three subcommands. */
export interface SshCliOptions {
  target: string[];
  exclude: string[];
  login?: string;
  gateway?: string;
  window: number;
  key: string[];
  connectTimeout: number;
  timeout?: number;
  totalTimeout?: number;
  knownHosts?: string;
  hostKeys: "verify" | "accept-new" | "off";
  raw?: boolean;
  time?: boolean;
  outDir?: string;
  mark?: boolean;
  dryRun?: boolean;
  script?: boolean;
  include: string[];
}

const collect = (v: string, prev: string[]) => [...prev, v];

function count(option: string): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v.trim()))
      throw new AiorchError("USAGE", `${option} expects a whole number, got ${JSON.stringify(v)}`, {
        option,
      });
    return Number(v);
  };
}

function hostKeysMode(v: string): SshCliOptions["hostKeys"] {
  if (v === "verify" || v === "accept-new" || v === "off") return v;
  throw new AiorchError(
    "USAGE",
    `--host-keys expects verify, accept-new or off, got ${JSON.stringify(v)}`,
    {
      option: "--host-keys",
    },
  );
}

function addTargetOptions(cmd: Command): Command {
  return cmd
    .option(
      "-t, --target <targets>",
      "hosts: [user@]host[:port], gw->host, a file, a dir, a comma list (repeatable)",
      collect,
      [],
    )
    .option("-x, --exclude <targets>", "hosts to leave out, same syntax (repeatable)", collect, [])
    .option("-l, --login <user>", "default user (default: the local user)")
    .option("-g, --gateway <hop>", "gateway for targets that name none: [user@]host[:port][->…]")
    .option("-w, --window <n>", "most hosts at once (0: no limit)", count("--window"), 0)
    .option(
      "-k, --key <file>",
      "private key file (repeatable; default: agent, ~/.ssh/id_*)",
      collect,
      [],
    )
    .option(
      "-c, --connect-timeout <ms>",
      "connect + handshake timeout per host",
      count("--connect-timeout"),
      30_000,
    )
    .option("--timeout <ms>", "timeout of the command on each host", count("--timeout"))
    .option("--total-timeout <ms>", "timeout of the whole run", count("--total-timeout"))
    .option("--known-hosts <file>", "known_hosts file (default ~/.ssh/known_hosts)")
    .option("--host-keys <mode>", "verify | accept-new | off", hostKeysMode, "verify")
    .option("-r, --raw", "print output lines as they are")
    .option("--time", "prefix output lines with time and host")
    .option("-o, --out-dir <dir>", "write each host's output to DIR/<host>.out and .err")
    .option("--mark", "with -o: record each host in DIR/0ok/ or DIR/1failed/")
    .option("-n, --dry-run", "list the targets and what would run, then exit");
}

/** Add `ssh`, `push` and `pull` to the program. */
export function registerSshCommands(program: Command, setCode: (code: number) => void): void {
  program.enablePositionalOptions();
  addTargetOptions(
    program
      .command("ssh")
      .description("run a command (or a script with -s) on many hosts")
      .argument("<command...>", "command line (or with -s: script file and its arguments)")
      .passThroughOptions(),
  )
    .option("-s, --script", "the first word is a local script to upload and run (else its text)")
    .option(
      "-i, --include <file>",
      "with -s: file uploaded next to the script (repeatable)",
      collect,
      [],
    )
    .action(async (words: string[], opts: SshCliOptions) => {
      setCode(await runOnTargets(opts, sshCommand(words, opts), words.join(" ")));
    });
  addTargetOptions(
    program
      .command("push")
      .description("upload files to many hosts: aiorch push -t HOSTS LOCAL… @:REMOTE")
      .argument("<paths...>", "local files then @:REMOTE ({host}, {user} expanded)"),
  ).action(async (paths: string[], opts: SshCliOptions) => {
    const remote = paths[paths.length - 1] ?? "";
    const locals = paths.slice(0, -1);
    if (!remote.startsWith("@:") || locals.length === 0 || locals.some((l) => l.startsWith("@:")))
      throw new AiorchError(
        "USAGE",
        "push: usage is aiorch push -t HOSTS LOCAL… @:REMOTE (remote starts with @:)",
      );
    const target = remote.slice(2) || ".";
    setCode(
      await runOnTargets(
        opts,
        (node) => [
          push(
            locals.map((l) => expand(l, node)),
            expand(target, node),
          ),
        ],
        `push ${paths.join(" ")}`,
      ),
    );
  });
  addTargetOptions(
    program
      .command("pull")
      .description("download files from many hosts: aiorch pull -t HOSTS @:REMOTE… LOCAL")
      .argument("<paths...>", "@:REMOTE… then a local path ({host}, {user} expanded)"),
  ).action(async (paths: string[], opts: SshCliOptions) => {
    const local = paths[paths.length - 1] ?? "";
    const remotes = paths.slice(0, -1);
    if (remotes.length === 0 || remotes.some((r) => !r.startsWith("@:")) || local.startsWith("@:"))
      throw new AiorchError(
        "USAGE",
        "pull: usage is aiorch pull -t HOSTS @:REMOTE… LOCAL (remotes start with @:)",
      );
    setCode(
      await runOnTargets(
        opts,
        (node) => [
          pull(
            remotes.map((r) => expand(r.slice(2) || ".", node)),
            expand(local, node),
          ),
        ],
        `pull ${paths.join(" ")}`,
      ),
    );
  });
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

/** Build one node per target; gateways are shared per hop chain. */
function buildNodes(targets: TargetSpec[], opts: SshCliOptions): SshNode[] {
  const cache = new Map<string, SshNode>();
  const defaultUser = opts.login ?? userInfo().username;
  const defaultGateways = opts.gateway
    ? (parseTarget(opts.gateway).gateways ?? []).concat(parseTarget(opts.gateway))
    : [];
  const make = (hop: HopSpec, gateway: SshNode | undefined): SshNode => {
    const key = `${gateway ? `${gateway.toString()}->` : ""}${hop.user ?? defaultUser}@${hop.host}:${hop.port ?? 22}`;
    let node = cache.get(key);
    if (!node) {
      node = new SshNode({
        host: hop.host,
        port: hop.port ?? 22,
        user: hop.user ?? defaultUser,
        ...(opts.key.length ? { keys: opts.key } : {}),
        ...(opts.knownHosts ? { knownHosts: opts.knownHosts } : {}),
        hostKeys: opts.hostKeys,
        connectTimeout: opts.connectTimeout,
        ...(gateway ? { gateway } : {}),
      });
      cache.set(key, node);
    }
    return node;
  };
  return targets.map((t) => {
    const hops =
      t.gateways === null
        ? []
        : (t.gateways ?? defaultGateways.map((g) => ({ ...g, gateways: undefined })));
    let gw: SshNode | undefined;
    for (const h of hops) gw = make(h, gw);
    return make(t, gw);
  });
}

type Outcome = {
  node: SshNode;
  status: "ok" | "failed" | "unreachable";
  detail: string;
  code?: number | string;
};

function outcomeOf(job: SshJob, node: SshNode): Outcome {
  const err = job.raisedException();
  if (err !== undefined) {
    if (isUnreachableError(err))
      return { node, status: "unreachable", detail: (err as AiorchError).shortMessage };
    return { node, status: "failed", detail: describeError(err) };
  }
  const result = job.result();
  if (!result)
    return {
      node,
      status: "failed",
      detail: job.state === "cancelled" ? "cancelled (timeout)" : "no result",
    };
  if (result.ok) return { node, status: "ok", detail: "" };
  const f = result.failures[0];
  return {
    node,
    status: "failed",
    detail: f?.error?.shortMessage ?? "failed",
    code: f?.signal ?? f?.exitCode ?? undefined,
  };
}

async function runOnTargets(
  opts: SshCliOptions,
  commands: (node: SshNode) => SshCommand[],
  what: string,
): Promise<number> {
  if (opts.target.length === 0) throw new AiorchError("USAGE", "no target: give hosts with -t");
  const { targets, excluded } = resolveTargets({ targets: opts.target, excludes: opts.exclude });
  if (targets.length === 0) throw new AiorchError("USAGE", "no target left after exclusions");
  const nodes = buildNodes(targets, opts);
  if (opts.dryRun) {
    process.stdout.write(`${excluded.length} excluded: ${excluded.map(formatTarget).join(" ")}\n`);
    process.stdout.write(`${nodes.length} hosts selected:\n`);
    for (const n of nodes) process.stdout.write(`  ${n.toString()}\n`);
    process.stdout.write(`would run: ${what}\n`);
    return EXIT.ok;
  }
  const jobs = nodes.map(
    (n) => new SshJob(n, commands(n), { label: n.toString(), critical: false }),
  );
  const scheduler = new Scheduler(jobs, {
    critical: false,
    ...(opts.window > 0 ? { window: opts.window } : {}),
    ...(opts.totalTimeout !== undefined ? { timeout: opts.totalTimeout } : {}),
  });
  const formatter: OutputFormatter = opts.outDir
    ? fileFormatter({ dir: opts.outDir })
    : lineFormatter({ format: opts.raw ? "raw" : opts.time ? "time-host" : "host" });
  scheduler.on(formatter.listener);
  await scheduler.run();
  await formatter.close();
  const outcomes = jobs.map((j, i) => outcomeOf(j, nodes[i] as SshNode));
  if (opts.outDir && opts.mark) writeMarks(opts.outDir, outcomes);
  printSummary(outcomes, opts.outDir);
  if (outcomes.some((o) => o.status === "unreachable")) return EXIT.unreachable;
  if (outcomes.some((o) => o.status === "failed")) return EXIT.failed;
  return EXIT.ok;
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

function printSummary(outcomes: Outcome[], outDir: string | undefined): void {
  const color = process.stderr.isTTY === true;
  const paint = (f: (s: string) => string, s: string) => (color ? f(s) : s);
  const n = (s: Outcome["status"]) => outcomes.filter((o) => o.status === s).length;
  const lines = [
    `${outcomes.length} hosts: ${n("ok")} ok, ${n("failed")} failed, ${n("unreachable")} unreachable${outDir ? ` (output in ${outDir})` : ""}`,
  ];
  const width = Math.max(...outcomes.map((o) => o.node.toString().length));
  for (const o of outcomes) {
    const tag =
      o.status === "ok"
        ? paint(pc.green, "ok")
        : o.status === "failed"
          ? paint(pc.red, `failed${o.code !== undefined ? ` (${o.code})` : ""}`)
          : paint(pc.yellow, "unreachable");
    lines.push(`  ${o.node.toString().padEnd(width)}  ${tag}${o.detail ? `  ${o.detail}` : ""}`);
  }
  process.stderr.write(`${lines.join("\n")}\n`);
}
