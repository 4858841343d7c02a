/**
 * Jobs as data: which jobs go to workers and why the others stay, queue data checked on the
 * worker side (JSON path in the error, any input), stable job ids, Redis URLs and versions.
 */
import { createServer } from "node:net";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { AiorchError } from "../../src/errors.ts";
import { Job } from "../../src/job.ts";
import { createNodePool } from "../../src/queue/pool.ts";
import { connectRedis, isOlder, parseRedisUrl } from "../../src/queue/redis.ts";
import { jobFromSpec, jobIdOf, nodeFromSpec, parseJobSpec, specOf } from "../../src/queue/spec.ts";
import {
  type Command,
  commandLabel,
  LocalNode,
  push,
  raw,
  run,
  runScript,
  runString,
  SshJob,
  SshNode,
} from "../../src/ssh/index.ts";

const node = new SshNode({
  host: "127.0.0.9",
  port: 2222,
  user: "u",
  keys: ["/k/id"],
  agent: "/run/agent.sock",
  site: "lab-a",
});

describe("specOf", () => {
  it("describes a command job with the node's options as given, no agent path, its site", () => {
    const job = new SshJob(
      node,
      [run("echo", "hi", { capture: "x", timeout: 5 }), runString("echo $1", ["a"])],
      {
        label: "j",
        atMostOnce: true,
      },
    );
    const a = specOf(job);
    expect(a).toEqual({
      site: "lab-a",
      spec: {
        v: 1,
        label: "j",
        critical: true,
        atMostOnce: true,
        node: {
          type: "ssh",
          options: { host: "127.0.0.9", port: 2222, user: "u", keys: ["/k/id"], site: "lab-a" },
        },
        commands: [
          { type: "run", argv: ["echo", "hi"], options: { capture: "x", timeout: 5 } },
          { type: "runString", body: "echo $1", args: ["a"] },
        ],
      },
    });
  });

  it("keeps in the controller what reads its variables, secrets or files", () => {
    const reason = (j: Parameters<typeof specOf>[0]) =>
      "reason" in specOf(j) ? (specOf(j) as { reason: string }).reason : "";
    expect(reason(new Job(async () => 1))).toBe("not a command job");
    expect(reason(new SshJob(node, [run("echo", (v) => v.x)]))).toBe(
      "command with a function argument",
    );
    expect(reason(new SshJob(node, [run("echo", { env: { TOKEN: "s3cret" } })]))).toBe(
      "command with env",
    );
    expect(reason(new SshJob(node, [runScript("./x.sh")]))).toBe("runScript (local files)");
    expect(reason(new SshJob(node, [push("a", "/b")]))).toBe("push (local files)");
    const locked = new SshNode({ host: "h", passphrase: "pw" });
    expect(reason(new SshJob(locked, [run("true")]))).toBe("node with a passphrase");
    expect(reason(new SshJob(new SshNode({ host: "h", gateway: locked }), [run("true")]))).toBe(
      "node with a passphrase",
    );
    expect(reason(new SshJob(node, [run("true")], { forever: true }))).toBe("forever job");
    class Mine extends SshJob {}
    expect(reason(new Mine(node, [run("true")]))).toBe("SshJob subclass");
  });

  it("never puts a secret in the queue data", () => {
    const gw = new SshNode({ host: "gw", agent: false });
    const j = new SshJob(new SshNode({ host: "h", gateway: gw, agent: "/tmp/agent" }), [
      run("true"),
    ]);
    const data = JSON.stringify(specOf(j));
    expect(data).not.toContain("/tmp/agent");
    expect(data).toContain('"agent":false');
  });
});

describe("worker side", () => {
  const good = () => {
    const a = specOf(new SshJob(new LocalNode(), [run("echo", 1)], { label: "l" }));
    return JSON.parse(JSON.stringify("spec" in a ? a.spec : null));
  };

  it("rebuilds the same job from the data", () => {
    const spec = parseJobSpec(good());
    const job = jobFromSpec(spec, nodeFromSpec(spec.node));
    expect(job.label).toBe("l");
    expect(job.node).toBeInstanceOf(LocalNode);
    expect(job.commands.map((c) => c.type === "run" && c.argv)).toEqual([["echo", 1]]);
    // raw() words travel as { raw } and come back as raw words
    const r = specOf(new SshJob(new LocalNode(), [run("echo", "a b", raw(">"), "f")]));
    const back = jobFromSpec(
      parseJobSpec(JSON.parse(JSON.stringify((r as { spec: unknown }).spec))),
      new LocalNode(),
    );
    expect(commandLabel(back.commands[0] as Command)).toBe("echo 'a b' > f");
    // a byte capture travels with its encoding (the worker keeps every byte)
    const bytes = specOf(
      new SshJob(new LocalNode(), [run("cat img", { capture: "img", encoding: "buffer" })]),
    );
    const rebuilt = jobFromSpec(
      parseJobSpec(JSON.parse(JSON.stringify((bytes as { spec: unknown }).spec))),
      new LocalNode(),
    );
    expect(rebuilt.commands[0]?.options).toMatchObject({ capture: "img", encoding: "buffer" });
    const ssh = specOf(new SshJob(node, [run("true")]));
    const n = nodeFromSpec("spec" in ssh ? ssh.spec.node : good().node) as SshNode;
    expect([n.host, n.port, n.user, n.site, n.keys]).toEqual([
      "127.0.0.9",
      2222,
      "u",
      "lab-a",
      ["/k/id"],
    ]);
  });

  it("names the JSON path of bad data", () => {
    const bad = (patch: (d: Record<string, unknown>) => void) => {
      const d = good();
      patch(d);
      try {
        parseJobSpec(d);
      } catch (err) {
        return (err as AiorchError).message;
      }
      return "accepted";
    };
    expect(bad((d) => (d.v = 2))).toMatch(/^queue job data: \$\.v must be 1/);
    expect(bad((d) => (d.commands = []))).toBe(
      "queue job data: $.commands must be a non-empty array",
    );
    expect(bad((d) => ((d.commands as unknown[])[0] = { type: "push" }))).toBe(
      'queue job data: $.commands[0].type must be "run" or "runString"',
    );
    expect(bad((d) => ((d.commands as Array<{ argv: unknown[] }>)[0]!.argv = ["a", {}]))).toBe(
      "queue job data: $.commands[0].argv[1] must be a string, a number or { raw: string }",
    );
    expect(
      bad(
        (d) => ((d.commands as Array<Record<string, unknown>>)[0]!.options = { env: { A: "1" } }),
      ),
    ).toBe("queue job data: $.commands[0].options.env is not allowed");
    expect(bad((d) => (d.node = { type: "ssh", options: { host: "h", passphrase: "x" } }))).toBe(
      "queue job data: $.node.options.passphrase is not allowed",
    );
    expect(bad((d) => (d.node = { type: "ssh", options: { host: "h", agent: "/sock" } }))).toBe(
      "queue job data: $.node.options.agent may only be false",
    );
    expect(bad((d) => (d.node = { type: "ssh", options: { host: "h", port: 0 } }))).toMatch(
      /port must be 1-65535/,
    );
  });

  it("any JSON: a spec or an INVALID_ARGUMENT error, nothing else", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (x) => {
        try {
          parseJobSpec(x);
        } catch (err) {
          expect(err).toBeInstanceOf(AiorchError);
          expect((err as AiorchError).code).toBe("INVALID_ARGUMENT");
        }
      }),
    );
  });
});

describe("job ids and Redis", () => {
  it("a job id is stable for the same definition and changes with it", () => {
    const spec = parseJobSpec(
      JSON.parse(
        JSON.stringify(
          (specOf(new SshJob(node, [run("a")], { label: "x" })) as { spec: unknown }).spec,
        ),
      ),
    );
    const id = jobIdOf({ runId: "r1", path: [], spec });
    expect(id).toMatch(/^r1\.[0-9a-f]{24}$/);
    expect(jobIdOf({ runId: "r1", path: [], spec })).toBe(id);
    expect(jobIdOf({ runId: "r1", path: ["nested"], spec })).not.toBe(id);
    expect(
      jobIdOf({
        runId: "r1",
        path: [],
        spec: { ...spec, commands: [{ type: "run", argv: ["b"] }] },
      }),
    ).not.toBe(id);
  });

  it("parses redis URLs and never shows their password", () => {
    const t = parseRedisUrl("redis://:s3cret@10.0.0.1:6380/2");
    expect(t).toMatchObject({
      host: "10.0.0.1",
      port: 6380,
      db: 2,
      password: "s3cret",
      display: "redis://10.0.0.1:6380/2",
    });
    expect(parseRedisUrl("redis://h").port).toBe(6379);
    expect(() => parseRedisUrl("http://u:s3cret@h")).toThrow(
      "--redis expects redis://HOST:PORT, got redis://h",
    );
    expect(() => parseRedisUrl("nope")).toThrow(/--redis expects redis:\/\/HOST:PORT, got "nope"/);
    expect([
      isOlder("4.0.9", "5.0.0"),
      isOlder("5.0.0", "5.0.0"),
      isOlder("7.0.15", "5.0.0"),
    ]).toEqual([true, false, false]);
  });

  it("a Redis too old for BullMQ: REDIS_VERSION naming both versions", async () => {
    // a server answering every command like a Redis 4.0.9 would answer INFO
    const info = "# Server\r\nredis_version:4.0.9\r\nloading:0\r\n";
    const server = createServer((sock) => {
      sock.on("data", (b: Buffer) => {
        for (const _ of b.toString().matchAll(/^\*\d+\r$/gm))
          sock.write(`$${Buffer.byteLength(info)}\r\n${info}\r\n`);
      });
      sock.on("error", () => {});
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    try {
      const err = await connectRedis({ target: parseRedisUrl(`redis://127.0.0.1:${port}`) }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AiorchError);
      expect((err as AiorchError).code).toBe("REDIS_VERSION");
      expect((err as AiorchError).message).toBe(
        `Redis at redis://127.0.0.1:${port} is version 4.0.9; BullMQ needs 5.0.0 or newer`,
      );
    } finally {
      server.close();
    }
  });
});

describe("a worker's node pool", () => {
  it("one node per spec, gateways shared, idle nodes dropped", async () => {
    const pool = createNodePool({ idleMs: 40 });
    const gw = { type: "ssh" as const, options: { host: "gw", sshConfig: false as const } };
    const a = {
      type: "ssh" as const,
      options: { host: "a", sshConfig: false as const },
      gateway: gw,
    };
    const b = {
      type: "ssh" as const,
      options: { host: "b", sshConfig: false as const },
      gateway: gw,
    };
    const na = pool.take(a) as SshNode;
    expect(pool.take(a)).toBe(na);
    const nb = pool.take(b) as SshNode;
    expect(nb.gateway).toBe(na.gateway);
    pool.release(na);
    await new Promise((r) => setTimeout(r, 150));
    // still in use once: kept
    expect(pool.take(a)).toBe(na);
    pool.release(na);
    pool.release(na);
    pool.release(nb);
    await new Promise((r) => setTimeout(r, 150));
    expect(pool.take(a)).not.toBe(na);
    await pool.close();
  });
});
