/** Shared helpers for the benchmarks: timing, heap, tables, a fleet of loopback sshd. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SshNode, type SshNodeOptions } from "../src/ssh/node.ts";
import {
  createKeys,
  freePort,
  removeKeys,
  type Sshd,
  type SshKeys,
  startSshd,
} from "../test/ssh/sshd.ts";

/** Force a full GC when node runs with --expose-gc (npm run bench does). */
export function collect(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

/** Median of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median ms of `fn` over `n` rounds. */
export async function timeIt(fn: () => Promise<unknown>, n = 3): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** `hosts` loopback addresses served by sshd (16 per daemon) on one port, with shared keys. */
export interface Fleet {
  addresses: string[];
  port: number;
  /** the login user */
  user: string;
  keys: SshKeys;
  /** a known_hosts file matching every address of the fleet */
  knownHosts: string;
  /** a host-key verified node on one of the addresses */
  node(host: string, extra?: Partial<SshNodeOptions>): SshNode;
  /** stop the daemons, remove the keys */
  stop(): Promise<void>;
}

/** Start a {@link Fleet} on `${net}.2`, `${net}.3`…, e.g. net `127.0.2`. */
export async function startFleet(o: { hosts: number; net: string; name: string }): Promise<Fleet> {
  const keys = createKeys();
  const daemons: Sshd[] = [];
  const stop = async () => {
    for (const d of daemons) await d.stop();
    removeKeys(keys);
  };
  try {
    const port = await freePort();
    const addresses = Array.from({ length: o.hosts }, (_, i) => `${o.net}.${i + 2}`);
    for (let i = 0; i < addresses.length; i += 16)
      daemons.push(await startSshd({ addresses: addresses.slice(i, i + 16), port, keys }));
    const user = daemons[0]?.user as string;
    const [type, b64] = keys.hostKey.pub.split(" ");
    const knownHosts = join(keys.dir, `known_hosts-${o.name}`);
    writeFileSync(knownHosts, `[${o.net}.*]:${port} ${type} ${b64}\n`);
    const node = (host: string, extra: Partial<SshNodeOptions> = {}) =>
      new SshNode({
        host,
        port,
        user,
        keys: [keys.clientKey.path],
        knownHosts,
        agent: false,
        ...extra,
      });
    return { addresses, port, user, keys, knownHosts, node, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Print a table with aligned columns. */
export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  console.log(`\n## ${title}\n`);
  cells.forEach((r, k) => {
    console.log(`| ${r.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`);
    if (k === 0) console.log(`| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`);
  });
}

/** Small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
