/**
 * SSH benchmark (`npm run bench -- ssh`), against real sshd on loopback addresses only:
 * 1. `uname -a` on 100 hosts: aiorch (library and CLI) vs bare ssh2 (all at once) vs
 *    parallel-ssh with default settings and with `-O KexAlgorithms=curve25519-sha256`;
 * 2. 10 sequential commands on each of 100 hosts: aiorch vs 10 successive parallel-ssh runs;
 * 3. 200 sequential `true` on one shared connection: aiorch vs raw ssh2 exec vs OpenSSH
 *    ControlMaster (`ssh -S`), plus raw ssh2 without TCP_NODELAY to show why it matters.
 * Needs root, /usr/sbin/sshd, /usr/bin/ssh, /usr/bin/parallel-ssh (pssh).
 */
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { Socket } from "node:net";
import { join } from "node:path";
import ssh2 from "ssh2";
import { Scheduler } from "../src/scheduler.ts";
import { run, SshJob, type SshNode } from "../src/ssh/index.ts";
import { median, printTable, startFleet, timeIt } from "./util.ts";

const HOSTS = 100;
const REPEAT = 3;
const PSSH = "/usr/bin/parallel-ssh";

type Row = { scenario: string; tool: string; kex: string; ms: number; target?: string };

function execP(
  cmd: string,
  args: string[],
): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ stdout, stderr, code: err ? Number((err as { code?: number }).code ?? 1) : 0 }),
    );
  });
}

/** Run the functions in alternation `n` times; median ms of each (a returned number replaces the elapsed time). */
async function interleave(
  fns: Record<string, () => Promise<unknown>>,
  n: number,
): Promise<Record<string, number>> {
  const times: Record<string, number[]> = {};
  for (let i = 0; i < n; i++)
    for (const [name, fn] of Object.entries(fns)) {
      const t0 = performance.now();
      const r = await fn();
      const list = times[name] ?? [];
      list.push(typeof r === "number" ? r : performance.now() - t0);
      times[name] = list;
    }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

/** Bare ssh2: connect with TCP_NODELAY, exec, end. */
function bareConnect(o: {
  host: string;
  port: number;
  user: string;
  key: Buffer;
  hostKey: Buffer;
  noDelay?: boolean;
}): Promise<ssh2.Client> {
  return new Promise((resolve, reject) => {
    const sock = new Socket();
    sock.setNoDelay(o.noDelay !== false);
    const c = new ssh2.Client();
    c.once("ready", () => resolve(c)).once("error", reject);
    sock.connect(o.port, o.host, () =>
      c.connect({
        sock,
        username: o.user,
        privateKey: o.key,
        hostVerifier: (k: Buffer) => k.equals(o.hostKey),
      }),
    );
  });
}

function bareExec(c: ssh2.Client, cmd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    c.exec(cmd, (err, ch) => {
      if (err) return reject(err);
      ch.on("data", () => {});
      ch.stderr.on("data", () => {});
      ch.on("close", (code: number) => resolve(code));
    });
  });
}

function bareEnd(c: ssh2.Client): Promise<void> {
  return new Promise((r) => {
    c.once("close", () => r());
    c.end();
  });
}

function opensshKex(args: string[]): Promise<string> {
  return execP("ssh", ["-v", ...args, "true"]).then(
    (r) => /kex: algorithm: (\S+)/.exec(r.stderr)?.[1] ?? "?",
  );
}

export async function benchSsh(): Promise<void> {
  for (const bin of ["/usr/sbin/sshd", "/usr/bin/ssh", PSSH])
    if (!(await execP("test", ["-x", bin])).code) continue;
    else throw new Error(`bench ssh needs ${bin}`);
  const fleet = await startFleet({ hosts: HOSTS, net: "127.0.0", name: "bench" });
  const { addresses, port, user, keys, knownHosts } = fleet;
  try {
    const [, b64] = keys.hostKey.pub.split(" ");
    const hostsFile = join(keys.dir, "hosts-bench");
    writeFileSync(hostsFile, `${addresses.map((a) => `${a}:${port}`).join("\n")}\n`);
    const key = readFileSync(keys.clientKey.path);
    const hostKey = Buffer.from(b64 as string, "base64");
    const sshOpts = [
      "-F",
      "/dev/null",
      "-i",
      keys.clientKey.path,
      "-o",
      `UserKnownHostsFile=${knownHosts}`,
      "-o",
      "StrictHostKeyChecking=yes",
      "-o",
      "BatchMode=yes",
    ];
    const psshBase = ["-h", hostsFile, "-l", user, "-x", sshOpts.join(" ")];
    const kexDefault = await opensshKex([...sshOpts, "-p", String(port), `${user}@127.0.0.2`]);
    const kexCurve = "curve25519-sha256";
    /** A node on the bench sshd, host-key verified. */
    const nodeAt = (host: string) => fleet.node(host, { connectTimeout: 60_000 });
    const nodes = () => addresses.map(nodeAt);
    const probe = nodes()[0] as SshNode;
    const aiorchKex = (await probe.connect()).algorithms?.kex ?? "?";
    await probe.close();
    const rows: Row[] = [];
    const check = (ok: boolean, what: string) => {
      if (!ok) throw new Error(`bench ssh: ${what} failed`);
    };

    // 1. one command on 100 hosts
    const s1 = `uname -a on ${HOSTS} hosts`;
    // library and bare ssh2 alternate, so machine load drifts hit both alike
    const t1 = await interleave(
      {
        lib: async () => {
          const jobs = nodes().map((n) => new SshJob(n, [run("uname -a")], { critical: false }));
          check(await new Scheduler(jobs).run(), "aiorch run");
          check(
            jobs.every((j) => j.result()?.ok),
            "aiorch uname",
          );
        },
        bare: async () => {
          await Promise.all(
            addresses.map(async (host) => {
              const c = await bareConnect({ host, port, user, key, hostKey });
              await bareExec(c, "uname -a");
              await bareEnd(c);
            }),
          );
        },
      },
      REPEAT + 2,
    );
    rows.push({ scenario: s1, tool: "aiorch (library)", kex: aiorchKex, ms: t1.lib as number });
    rows.push({
      scenario: s1,
      tool: "bare ssh2 (all at once)",
      kex: aiorchKex,
      ms: t1.bare as number,
    });
    // the CLI process and parallel-ssh alternate too: the CLI target compares these two
    const cli = async () => {
      const r = await execP("node", [
        "bin/aiorch.mjs",
        "ssh",
        "-t",
        hostsFile,
        "-l",
        user,
        "-k",
        keys.clientKey.path,
        "--known-hosts",
        knownHosts,
        "uname -a",
      ]);
      check(r.code === 0, `aiorch ssh CLI: ${r.stderr.slice(-300)}`);
    };
    const pssh = (extra: readonly string[]) => async () => {
      const r = await execP(PSSH, [...psshBase, ...extra, "uname -a"]);
      check(r.code === 0, `pssh: ${r.stdout.slice(-300)}`);
    };
    const psshRuns = [
      ["parallel-ssh (defaults, -p 32)", [], kexDefault],
      [
        "parallel-ssh -O KexAlgorithms=curve25519-sha256",
        ["-O", `KexAlgorithms=${kexCurve}`],
        kexCurve,
      ],
      [
        "parallel-ssh -p 100 -O KexAlgorithms=curve25519-sha256",
        ["-p", "100", "-O", `KexAlgorithms=${kexCurve}`],
        kexCurve,
      ],
    ] as const;
    const t1p = await interleave(
      Object.fromEntries([
        ["cli", cli],
        ...psshRuns.map(([tool, extra]) => [tool, pssh(extra)] as const),
      ]),
      REPEAT,
    );
    rows.push({
      scenario: s1,
      tool: "aiorch ssh (CLI process)",
      kex: aiorchKex,
      ms: t1p.cli as number,
    });
    for (const [tool, , kex] of psshRuns)
      rows.push({ scenario: s1, tool, kex, ms: t1p[tool] as number });

    // 2. ten sequential commands on each host
    const s2 = `10 sequential commands x ${HOSTS} hosts`;
    rows.push({
      scenario: s2,
      tool: "aiorch (library)",
      kex: aiorchKex,
      ms: await timeIt(async () => {
        const jobs = nodes().map(
          (n) =>
            new SshJob(
              n,
              Array.from({ length: 10 }, (_, i) => run(`echo step${i}`)),
              { critical: false },
            ),
        );
        check(await new Scheduler(jobs).run(), "aiorch 10 commands");
        check(
          jobs.every((j) => j.result()?.ok),
          "aiorch 10 commands results",
        );
      }, 2),
    });
    rows.push({
      scenario: s2,
      tool: "10 x parallel-ssh (defaults)",
      kex: kexDefault,
      ms: await timeIt(async () => {
        for (let i = 0; i < 10; i++)
          check((await execP(PSSH, [...psshBase, `echo step${i}`])).code === 0, "pssh step");
      }, 1),
    });

    // 3. 200 sequential commands on one connection
    const s3 = "200 sequential `true`, one connection";
    const host = "127.0.0.2";
    const one = nodeAt(host);
    const raw = async (noDelay: boolean, n: number) => {
      const c = await bareConnect({ host, port, user, key, hostKey, noDelay });
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await bareExec(c, "true");
      const ms = performance.now() - t0;
      await bareEnd(c);
      return ms;
    };
    const t3 = await interleave(
      {
        lib: async () => {
          await one.connect(); // connected before: time the commands only, as for raw ssh2
          const job = new SshJob(
            one,
            Array.from({ length: 200 }, () => run("true")),
            { critical: true },
          );
          const scheduler = new Scheduler([job]);
          let first = 0;
          let last = 0;
          scheduler.on((e) => {
            if (e.type === "job-state" && e.state === "running") first = performance.now();
            if (e.type === "job-state" && e.state === "done") last = performance.now();
          });
          check(await scheduler.run(), "aiorch 200");
          return last - first;
        },
        raw: () => raw(true, 200),
      },
      REPEAT + 2,
    );
    rows.push({
      scenario: s3,
      tool: "aiorch (SshJob, shared connection)",
      kex: aiorchKex,
      ms: t3.lib as number,
    });
    rows.push({
      scenario: s3,
      tool: "raw ssh2 exec (TCP_NODELAY)",
      kex: aiorchKex,
      ms: t3.raw as number,
    });
    rows.push({
      scenario: s3,
      tool: "raw ssh2 exec WITHOUT TCP_NODELAY (20 cmds x10)",
      kex: aiorchKex,
      ms: (await raw(false, 20)) * 10,
    });
    const sock = join(keys.dir, "cm.sock");
    const target = ["-p", String(port), `${user}@${host}`];
    // -f: ssh returns once the master is authenticated and in the background
    const cm = ["-o", `ControlPath=${sock}`];
    const started = await execP("ssh", [
      ...sshOpts,
      ...cm,
      "-o",
      "ControlMaster=yes",
      "-o",
      "ControlPersist=yes",
      "-f",
      "-N",
      ...target,
    ]);
    check(started.code === 0, `ControlMaster: ${started.stderr}`);
    try {
      rows.push({
        scenario: s3,
        tool: "OpenSSH ControlMaster (ssh -S)",
        kex: kexDefault,
        ms: await timeIt(async () => {
          for (let i = 0; i < 200; i++)
            check(
              (await execP("ssh", [...sshOpts, "-S", sock, ...target, "true"])).code === 0,
              "ssh -S",
            );
        }, 1),
      });
    } finally {
      await execP("ssh", [...sshOpts, ...cm, "-O", "exit", ...target]);
    }

    report(rows);
  } finally {
    await fleet.stop();
  }
}

function report(rows: Row[]): void {
  const get = (scenario: string, tool: string) =>
    rows.find((r) => r.scenario === scenario && r.tool.startsWith(tool))?.ms ?? Number.NaN;
  const out: (string | number)[][] = [];
  for (const r of rows) {
    const aiorch = get(r.scenario, "aiorch (");
    out.push([r.scenario, r.tool, r.kex, r.ms.toFixed(0), (r.ms / aiorch).toFixed(2)]);
  }
  printTable(
    "SSH (ms, median; ratio = tool / aiorch library, >1 means aiorch is faster)",
    ["scenario", "tool", "kex", "ms", "ratio"],
    out,
  );
  const s1 = `uname -a on ${HOSTS} hosts`;
  const s2 = `10 sequential commands x ${HOSTS} hosts`;
  const s3 = "200 sequential `true`, one connection";
  const targets: [string, boolean][] = [
    [
      "aiorch within 1.2x of bare ssh2 (100 hosts)",
      get(s1, "aiorch (") <= 1.2 * get(s1, "bare ssh2"),
    ],
    [
      "aiorch no slower than parallel-ssh on the same kex",
      get(s1, "aiorch (") <= get(s1, "parallel-ssh -O"),
    ],
    [
      "aiorch ssh CLI no slower than parallel-ssh on the same kex",
      get(s1, "aiorch ssh (CLI") <= get(s1, "parallel-ssh -O"),
    ],
    ["aiorch >= 5x faster than 10 x pssh", get(s2, "10 x parallel-ssh") >= 5 * get(s2, "aiorch (")],
    [
      "200 sequential within 10% of raw ssh2",
      get(s3, "aiorch (") <= 1.1 * get(s3, "raw ssh2 exec (TCP"),
    ],
    [
      "200 sequential >= 3x faster than ControlMaster",
      get(s3, "OpenSSH ControlMaster") >= 3 * get(s3, "aiorch ("),
    ],
  ];
  printTable(
    "SSH targets",
    ["target", "met"],
    targets.map(([t, ok]) => [t, ok ? "yes" : "NO"]),
  );
}
