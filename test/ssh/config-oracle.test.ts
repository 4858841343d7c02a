/**
 * Conformance with OpenSSH: for every configuration and host of the corpus, `ssh -G -F cfg
 * HOST` (it prints the resolved configuration without connecting) is the oracle, and
 * aiorch's resolution must give the same value for every keyword aiorch supports.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, test } from "vitest";
import { type ResolvedSshConfig, resolveSshConfig } from "../../src/ssh/config/resolve.ts";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "aiorch-sshcfg-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEYWORDS = [
  "hostname",
  "user",
  "port",
  "identityfile",
  "identitiesonly",
  "proxyjump",
  "userknownhostsfile",
  "stricthostkeychecking",
  "connecttimeout",
  "serveraliveinterval",
  "serveralivecountmax",
] as const;

interface Case {
  name: string;
  /** the config text; `@DIR@` is the corpus directory */
  config: string;
  /** other files of the case (for Include), relative to the corpus directory */
  files?: Record<string, string>;
  hosts: string[];
  /** `-l` / `-p` on the command line */
  user?: string;
  port?: number;
}

const CORPUS: Case[] = [
  {
    name: "testbed with a gateway",
    config: `Host fit*
  HostName %h.lab.example
  User root
  ProxyJump faraday
Host faraday
  HostName faraday.example
  User inria
Host *
  ServerAliveInterval 30
`,
    hosts: ["fit01", "fit37", "faraday", "other"],
  },
  {
    name: "first value wins, general settings last",
    config: `Host web
  Port 2201
  User alice
Host web
  Port 2202
  User bob
  HostName 10.0.0.5
Host *
  Port 2222
  User carol
  ConnectTimeout 5
`,
    hosts: ["web", "db"],
  },
  {
    name: "negation and several patterns per line",
    config: `Host node? !node9 box-*
  User pat
  StrictHostKeyChecking accept-new
Host !excluded *
  IdentitiesOnly yes
`,
    hosts: ["node1", "node9", "node10", "box-a", "excluded", "nodeX"],
  },
  {
    name: "question mark is exactly one character",
    config: `Host a?c
  Port 1001
Host a*c
  Port 1002
`,
    hosts: ["abc", "ac", "abbc"],
  },
  {
    name: "identity files accumulate with tokens",
    config: `Host k1
  IdentityFile ~/.ssh/id_%h_%r
  IdentityFile %d/keys/%u-%p
  User deploy
Host *
  IdentityFile ~/.ssh/common
  IdentityFile ~/.ssh/id_%h_%r
`,
    hosts: ["k1", "k2"],
  },
  {
    name: "known hosts files with tokens",
    config: `Host kh
  UserKnownHostsFile ~/.ssh/kh_%h %d/second
  StrictHostKeyChecking yes
Host *
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
`,
    hosts: ["kh", "free"],
  },
  {
    name: "ProxyJump chains, user@host:port, none",
    config: `Host inner
  ProxyJump me@gw1:2200,gw2
Host direct
  ProxyJump none
Host *
  ProxyJump bastion
`,
    hosts: ["inner", "direct", "elsewhere"],
  },
  {
    name: "Match host sees HostName, originalhost the alias",
    config: `Host short
  HostName real.example
Match host real.example
  User matched
Match originalhost short
  Port 2300
Match host short
  IdentitiesOnly yes
`,
    hosts: ["short", "real.example"],
  },
  {
    name: "Match user and negated criteria",
    config: `Host a
  User u1
Match user u1
  Port 2401
Match !user u1
  Port 2402
Match all
  ConnectTimeout 9
`,
    hosts: ["a", "b"],
  },
  {
    name: "Match user sees the command line user",
    config: `Match user ops
  Port 2501
Host *
  User nobody-else
`,
    hosts: ["x"],
    user: "ops",
  },
  {
    name: "command line port wins",
    config: `Host p
  Port 2601
  HostName 127.0.0.5
`,
    hosts: ["p"],
    port: 2999,
  },
  {
    name: "Include with globs and conditional include",
    config: `Include @DIR@/inc/*.conf
Host guarded
  Include @DIR@/guarded.conf
Host *
  User fallback
`,
    files: {
      "inc/10-a.conf": "Host ia\n  Port 2701\n  User from-a\n",
      "inc/20-b.conf": "Host ia ib\n  Port 2702\n  HostName %h.inc\n",
      "guarded.conf": "Port 2703\nHost ib\n  User only-ib\n",
    },
    hosts: ["ia", "ib", "guarded", "zz"],
  },
  {
    name: "keywords in any case, = separators, quoted values",
    config: `HOST q
  hostNAME=q.example
  user "quoted user"
  PORT = 2801
  serveraliveinterval 15
  ServerAliveCountMax 7
`,
    hosts: ["q"],
  },
  {
    name: "HostName with %% and upper case",
    config: `Host pct
  HostName Host%%%h.EXAMPLE
Host up
  HostName UP.Example.ORG
`,
    hosts: ["pct", "up", "MiXed"],
  },
  {
    name: "top-level settings apply to every host",
    config: `User top
Port 2901
Host t1
  User not-used
`,
    hosts: ["t1", "t2"],
  },
  {
    name: "nothing set: OpenSSH defaults",
    config: "",
    hosts: ["plain.example.org"],
  },
];

/** What `ssh -G` prints, per keyword (multi-valued ones as lists). */
async function oracle(file: string, host: string, c: Case): Promise<Record<string, string[]>> {
  const args = [
    "-G",
    "-F",
    file,
    ...(c.user ? ["-l", c.user] : []),
    ...(c.port ? ["-p", String(c.port)] : []),
    host,
  ];
  const { stdout } = await run("ssh", args, { env: { ...process.env, HOME: homedir() } });
  const out: Record<string, string[]> = {};
  for (const line of stdout.split("\n")) {
    const sp = line.indexOf(" ");
    const k = line.slice(0, sp);
    if (!(KEYWORDS as readonly string[]).includes(k)) continue;
    out[k] = [...(out[k] ?? []), line.slice(sp + 1)];
  }
  return out;
}

const OPENSSH_DEFAULT_KEYS = [
  "id_rsa",
  "id_ecdsa",
  "id_ecdsa_sk",
  "id_ed25519",
  "id_ed25519_sk",
  "id_xmss",
  "id_dsa",
].map((f) => `~/.ssh/${f}`);

/** aiorch's resolution in `ssh -G`'s terms (its defaults where nothing is set). */
function asOpenSsh(r: ResolvedSshConfig): Record<string, string[]> {
  const strict = r.strictHostKeyChecking;
  return {
    hostname: [r.hostname],
    user: [r.user ?? userInfo().username],
    port: [String(r.port ?? 22)],
    identityfile: r.identityFiles.length ? r.identityFiles : OPENSSH_DEFAULT_KEYS,
    identitiesonly: [r.identitiesOnly ? "yes" : "no"],
    ...(r.proxyJump && r.proxyJump !== "none" ? { proxyjump: [r.proxyJump] } : {}),
    userknownhostsfile: [
      (
        r.userKnownHostsFiles ?? [
          join(homedir(), ".ssh/known_hosts"),
          join(homedir(), ".ssh/known_hosts2"),
        ]
      ).join(" "),
    ],
    stricthostkeychecking: [
      strict === "yes" ? "true" : strict === "no" ? "false" : (strict ?? "ask"),
    ],
    connecttimeout: [r.connectTimeout === undefined ? "none" : String(r.connectTimeout)],
    serveraliveinterval: [String(r.serverAliveInterval ?? 0)],
    serveralivecountmax: [String(r.serverAliveCountMax ?? 3)],
  };
}

describe("ssh_config resolution agrees with ssh -G", () => {
  const cases = CORPUS.flatMap((c, i) => c.hosts.map((host) => ({ c, i, host })));
  test("the corpus has at least 20 configurations/hosts", () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });
  test.each(cases.map((x) => [`${x.c.name}: ${x.host}`, x] as const))(
    "%s",
    async (_, { c, i, host }) => {
      const file = join(dir, `case${i}.cfg`);
      for (const [name, text] of Object.entries(c.files ?? {})) {
        mkdirSync(join(dir, name, ".."), { recursive: true });
        writeFileSync(join(dir, name), text);
      }
      writeFileSync(file, c.config.replaceAll("@DIR@", dir));
      const expected = await oracle(file, host, c);
      const ours = asOpenSsh(resolveSshConfig({ host, source: file, user: c.user, port: c.port }));
      expect(ours).toEqual(expected);
    },
  );
});
