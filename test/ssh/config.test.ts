/**
 * ssh_config as SshNode sees it: explicit options win, what was resolved is exposed,
 * ProxyJump becomes a shared gateway chain, unsupported things are errors naming file:line,
 * the default files are read from $HOME (a temp dir here, never the machine's own).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, test } from "vitest";
import { AiorchError } from "../../src/errors.ts";
import { expandIdentityFile, resolveSshConfig } from "../../src/ssh/config/resolve.ts";
import { SshNode } from "../../src/ssh/node.ts";

const dir = mkdtempSync(join(tmpdir(), "aiorch-sshcfg-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function cfg(text: string): string {
  const file = join(dir, `c${++n}.cfg`);
  writeFileSync(file, text);
  return file;
}
function thrown(f: () => unknown): AiorchError {
  try {
    f();
  } catch (e) {
    if (e instanceof AiorchError) return e;
    throw e;
  }
  throw new Error("did not throw");
}

const TESTBED = `Host fit*
  HostName 127.0.0.%n
  User root
  Port 2201
  IdentityFile ~/.ssh/fit_%r_%h
  IdentitiesOnly yes
  ProxyJump gw
  StrictHostKeyChecking accept-new
  UserKnownHostsFile ~/kh_%h
  ConnectTimeout 4
  ServerAliveInterval 5
  ServerAliveCountMax 2
Host gw
  HostName 127.0.0.9
  User jump
Host fit* gw
  Port 2299
`;

describe("SshNode through ssh_config", () => {
  test("resolves and exposes host, port, user, keys, gateway chain, policies", () => {
    const file = cfg(TESTBED.replace("%n", "7"));
    const node = new SshNode({ host: "fit01", sshConfig: file });
    expect(node.alias).toBe("fit01");
    expect(node.host).toBe("127.0.0.7");
    expect(node.port).toBe(2201);
    expect(node.user).toBe("root");
    expect(node.keys).toEqual([join(process.env.HOME ?? "", ".ssh/fit_root_127.0.0.7")]);
    expect(node.hostKeys).toBe("accept-new");
    expect(node.knownHosts).toBe(join(process.env.HOME ?? "", "kh_127.0.0.7"));
    expect(node.connectTimeout).toBe(4000);
    expect(node.keepaliveInterval).toBe(5000);
    expect(node.keepaliveCountMax).toBe(2);
    expect(node.displayName).toBe("fit01");
    expect(node.shortName).toBe("fit01");
    expect(node.gateway?.alias).toBe("gw");
    expect(node.gateway?.host).toBe("127.0.0.9");
    expect(node.gateway?.user).toBe("jump");
    expect(node.gateway?.port).toBe(2299);
    expect(node.gateway?.gateway).toBeUndefined();
    expect(node.sshConfig?.sources.port).toBe(`${file}:4`);
    expect(node.describe()).toMatchObject({ alias: "fit01", name: "fit01", host: "127.0.0.7" });
  });

  test("explicit options win over the file; gateway null means direct", () => {
    const file = cfg(TESTBED.replace("%n", "7"));
    const node = new SshNode({
      host: "fit02",
      sshConfig: file,
      port: 3000,
      user: "me",
      keys: ["/k"],
      hostKeys: "verify",
      knownHosts: "/kh",
      connectTimeout: 1000,
      gateway: null,
      name: "F2",
    });
    expect([node.host, node.port, node.user, node.keys, node.hostKeys, node.knownHosts]).toEqual([
      "127.0.0.7",
      3000,
      "me",
      ["/k"],
      "verify",
      "/kh",
    ]);
    expect(node.connectTimeout).toBe(1000);
    expect(node.gateway).toBeUndefined();
    expect(node.displayName).toBe("F2");
  });

  test("nodes naming the same jump host share one gateway node", () => {
    const file = cfg(TESTBED.replace("%n", "8"));
    const a = new SshNode({ host: "fit01", sshConfig: file });
    const b = new SshNode({ host: "fit02", sshConfig: file });
    expect(a.gateway).toBeDefined();
    expect(a.gateway).toBe(b.gateway);
  });

  test("ProxyJump chains: first hop first, user@host:port, its own ProxyJump kept", () => {
    const file = cfg(`Host target
  ProxyJump u1@hop1:2001,hop2
Host hop1
  ProxyJump entry
Host entry hop1 hop2
  HostName 127.0.0.%h
`);
    const node = new SshNode({ host: "target", sshConfig: file, user: "t" });
    const chain: string[] = [];
    for (let g = node.gateway; g; g = g.gateway) chain.push(`${g.user}@${g.alias}:${g.port}`);
    expect(chain).toEqual([
      `${userInfo().username}@hop2:22`,
      "u1@hop1:2001",
      `${userInfo().username}@entry:22`,
    ]);
    expect(node.toString()).toContain("->");
  });

  test("a ProxyJump loop is an error, not a recursion", () => {
    const file = cfg("Host *\n  ProxyJump gw\n");
    const e = thrown(() => new SshNode({ host: "x", sshConfig: file }));
    expect(e.code).toBe("SSH_CONFIG");
    expect(e.message).toMatch(/ProxyJump loop: gw -> gw/);
  });

  test("ProxyCommand is reported (unless a gateway is given)", () => {
    const file = cfg("Host pc\n  ProxyCommand ssh -W %h:%p gw\n");
    const e = thrown(() => new SshNode({ host: "pc", sshConfig: file }));
    expect(e.code).toBe("SSH_CONFIG");
    expect(e.message).toContain(`${file}:2: ProxyCommand is not supported`);
    expect(new SshNode({ host: "pc", sshConfig: file, gateway: null }).gateway).toBeUndefined();
  });

  test("display names: the alias when HostName applies, else host, the port only when not 22", () => {
    const file = cfg("Host alias\n  HostName 10.1.2.3\nHost 10.9.*\n  User u\n");
    expect(new SshNode({ host: "alias", sshConfig: file }).displayName).toBe("alias");
    expect(new SshNode({ host: "10.9.0.1", sshConfig: file }).displayName).toBe("10.9.0.1");
    expect(new SshNode({ host: "10.9.0.1", port: 2222, sshConfig: file }).displayName).toBe(
      "10.9.0.1:2222",
    );
    expect(new SshNode({ host: "h", port: 2222, sshConfig: false, name: "n1" }).displayName).toBe(
      "n1",
    );
    expect(() => new SshNode({ host: "h", name: " " })).toThrow(/name must be a non-empty string/);
  });

  test("sshConfig: false reads nothing", () => {
    const node = new SshNode({ host: "fit01", sshConfig: false });
    expect([node.host, node.port, node.sshConfig, node.gateway]).toEqual([
      "fit01",
      22,
      undefined,
      undefined,
    ]);
  });
});

describe("errors name the file and line", () => {
  test("unsupported Match criteria are reported when they decide, not ignored", () => {
    const file = cfg('Host a\n  User x\nMatch exec "true"\n  User y\n');
    const e = thrown(() => resolveSshConfig({ host: "a", source: file }));
    expect(e.code).toBe("SSH_CONFIG");
    expect(e.message).toBe(
      `${file}:3: Match exec is not supported by aiorch (it supports all, host, originalhost, user, localuser)`,
    );
    expect([e.file, e.line]).toEqual([file, 3]);
    // a failed criterion before it decides already: OpenSSH does not evaluate the rest
    const f2 = cfg('Match host other exec "true"\n  User y\n');
    expect(resolveSshConfig({ host: "a", source: f2 }).user).toBeUndefined();
  });

  test("bad values and unknown tokens", () => {
    const bad = cfg("Host *\n\n  Port ssh\n");
    expect(thrown(() => resolveSshConfig({ host: "a", source: bad })).message).toBe(
      `${bad}:3: port expects a number 1-65535, got "ssh"`,
    );
    const tok = cfg("Host *\n  HostName %z.lab\n");
    expect(thrown(() => resolveSshConfig({ host: "a", source: tok })).message).toMatch(
      new RegExp(`^${tok}:2: token %z is not supported`),
    );
    const strict = cfg("StrictHostKeyChecking maybe\n");
    expect(thrown(() => resolveSshConfig({ host: "a", source: strict })).message).toMatch(
      /:1: StrictHostKeyChecking expects/,
    );
  });

  test("IdentityFile tokens and ~ expand for the resolved host", () => {
    const file = cfg(
      "Host k\n  HostName K.example\n  User deploy\n  Port 2022\n  IdentityFile ~/%%/%h/%n/%p/%r/%u/%d/%i\n",
    );
    const r = resolveSshConfig({ host: "k", source: file });
    const home = process.env.HOME ?? "";
    expect(expandIdentityFile(r.identityFiles[0] as string, r)).toBe(
      `${home}/%/k.example/k/2022/deploy/${userInfo().username}/${home}/${userInfo().uid}`,
    );
  });
});

describe("default files", () => {
  const saved = process.env.HOME;
  afterEach(() => {
    process.env.HOME = saved;
  });
  test("~/.ssh/config is read by default, relative Include from ~/.ssh", () => {
    const home = join(dir, "home");
    mkdirSync(join(home, ".ssh", "conf.d"), { recursive: true });
    writeFileSync(join(home, ".ssh", "config"), "Include conf.d/*\nHost *\n  User dflt\n");
    writeFileSync(
      join(home, ".ssh", "conf.d", "lab"),
      "Host lab1\n  HostName 127.0.0.44\n  Port 2444\n",
    );
    process.env.HOME = home;
    const node = new SshNode({ host: "lab1" });
    expect([node.host, node.port, node.user, node.displayName]).toEqual([
      "127.0.0.44",
      2444,
      "dflt",
      "lab1",
    ]);
    expect(node.sshConfig?.sources.hostname).toBe(`${join(home, ".ssh", "conf.d", "lab")}:2`);
  });
});
