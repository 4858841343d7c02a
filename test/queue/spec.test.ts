/**
 * Jobs as data: which jobs go to workers and why the others stay, queue data checked on the
 * worker side (JSON path in the error, any input), stable job ids, Redis URLs and versions.
 */
import { createServer } from "node:net";
import { readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildFromModel } from "../../codegen/build.ts";
import { AiorchError } from "../../src/errors.ts";
import { addSecrets, clearSecrets } from "../../src/redact.ts";
import { Job } from "../../src/job.ts";
import { createNodePool } from "../../src/queue/pool.ts";
import { connectRedis, isOlder, parseRedisUrl } from "../../src/queue/redis.ts";
import { decodeResult, encodeOutcomes } from "../../src/queue/wire.ts";
import {
  type CommandJobSpec,
  jobFromSpec,
  jobIdOf,
  localFilesOf,
  moduleSpecOf,
  nodeFromSpec,
  notJsonAt,
  parseJobSpec,
  readFiles,
  specOf,
  travellingVars,
} from "../../src/queue/spec.ts";
// from the modules spec.ts itself reads
import {
  type Command,
  commandLabel,
  pull,
  push,
  run,
  runScript,
  runString,
} from "../../src/ssh/commands.ts";
import { SshJob } from "../../src/ssh/job.ts";
import { LocalNode } from "../../src/ssh/local.ts";
import { SshNode } from "../../src/ssh/node.ts";
import { raw } from "../../src/ssh/words.ts";
import { type ModuleCall, moduleCallOf } from "../../src/trace/describe.ts";
import { moduleJob } from "../../src/trace/index.ts";
import { scenario } from "../../dsl/index.ts";
import { double } from "../codegen/fixtures/steps.ts";

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
        v: 3,
        kind: "commands",
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
    expect(reason(new SshJob(node, [runScript("./x.sh")]))).toBe(
      "runScript of ./x.sh: not a regular file at start",
    );
    expect(reason(new SshJob(node, [push("test/", "/b")]))).toBe(
      "push of test/: not a regular file at start",
    );
    expect(reason(new SshJob(node, [runString("x", [], { includes: ["nope"] })]))).toBe(
      "script include nope: not a regular file at start",
    );
    expect(reason(new SshJob(node, [pull("/a", "b")]))).toBe(
      "pull (writes to the controller's disk)",
    );
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

describe("module jobs", () => {
  const steps = fileURLToPath(new URL("../codegen/fixtures/steps.ts", import.meta.url));
  const repo = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
  const source = { module: "../codegen/fixtures/steps.ts", name: "double", args: [21] as [number] };
  const answer = async (job: Job) => {
    const call = moduleCallOf(job.fn);
    if (!call) return "not a module job";
    const a = await moduleSpecOf(job, call, "/nowhere");
    return "reason" in a ? a.reason : a.spec;
  };

  it("describes a moduleJob by its module's absolute path, found from the file calling moduleJob", async () => {
    expect(await answer(new Job(moduleJob(double, source), { label: "m" }))).toEqual({
      v: 3,
      kind: "module",
      label: "m",
      critical: true,
      atMostOnce: false,
      module: steps,
      // the nearest package.json folder above the module, when the controller gives none
      root: repo,
      name: "double",
      args: [21],
    });
    const call = moduleCallOf(moduleJob(double, source)) as ModuleCall;
    const given = await moduleSpecOf(new Job(moduleJob(double, source)), call, "/x", "/r");
    expect("spec" in given && given.spec).toMatchObject({ module: steps, root: "/r" });
    // a DSL job whose body is a moduleJob is one too, with its own atMostOnce
    const built = scenario("s")
      .job("twice", moduleJob(double, source))
      .job("once", moduleJob(double, source), { atMostOnce: true })
      .build();
    expect(await answer(built.jobs[0] as Job)).toMatchObject({
      module: steps,
      label: "twice",
      atMostOnce: false,
    });
    expect(await answer(built.jobs[1] as Job)).toMatchObject({ label: "once", atMostOnce: true });
  });

  it("describes a data scenario's function job by its module under the data file's folder", async () => {
    const built = await buildFromModel({
      model: {
        name: "d",
        nodes: [],
        jobs: [{ kind: "function", label: "f", after: [], module: "./steps.ts", name: "double" }],
        baseDir: dirname(steps),
      },
    });
    expect(await answer(built.jobs[0] as Job)).toMatchObject({ module: steps, args: [] });
  });

  it("keeps in the controller a module job it cannot point a worker to", async () => {
    const other = async (_ctx: unknown, n: number) => n;
    expect(await answer(new Job(async () => 1))).toBe("not a module job");
    // the export found at that path is not the job's function
    expect(await answer(new Job(moduleJob(other, source)))).toBe(
      'export "double" of ../codegen/fixtures/steps.ts not found',
    );
    expect(await answer(new Job(moduleJob(double, { ...source, module: "./nope.ts" })))).toBe(
      'export "double" of ./nope.ts not found',
    );
    expect(await answer(new Job(moduleJob(double, { ...source, module: "steps" })))).toBe(
      'module "steps" is not a path',
    );
    const notJson = moduleJob(other, { ...source, args: [Number.NaN] });
    expect(await answer(new Job(notJson))).toBe("argument not JSON at $[0]");
    expect(await answer(new Job(moduleJob(double, source), { forever: true }))).toBe("forever job");
  });

  it("checks module data on the worker side, its variables not part of the job id", async () => {
    const spec = await answer(new Job(moduleJob(double, source), { label: "m" }));
    const data = { ...(spec as object), vars: { a: "1" } };
    expect(parseJobSpec(data)).toEqual(data);
    const bad = (patch: Record<string, unknown>) => {
      try {
        parseJobSpec({ ...data, ...patch });
        return "accepted";
      } catch (err) {
        return (err as AiorchError).message;
      }
    };
    expect(bad({ module: "./steps.ts" })).toBe("queue job data: $.module must be an absolute path");
    expect(bad({ module: "/r/../../etc/x.mjs" })).toBe(
      "queue job data: $.module must be a normalised absolute path",
    );
    expect(bad({ root: undefined })).toBe("queue job data: $.root must be an absolute path");
    expect(bad({ root: "/a/./b" })).toBe(
      "queue job data: $.root must be a normalised absolute path",
    );
    expect(bad({ root: "/a\0b" })).toBe("queue job data: $.root must be an absolute path");
    expect(bad({ name: "a;b" })).toBe("queue job data: $.name must be an export name");
    expect(bad({ args: {} })).toBe("queue job data: $.args must be an array");
    expect(bad({ vars: { a: 1 } })).toBe('queue job data: $.vars["a"] must be a string');
    expect(bad({ node: {} })).toBe("queue job data: $.node is not allowed");
    const id = (vars: Record<string, string>) =>
      jobIdOf({ runId: "r", path: [], spec: parseJobSpec({ ...data, vars }) });
    expect(id({ a: "1" })).toBe(id({ b: "2" }));
    // the same module in a checkout at another path: the same job (resume from there)
    const at = (root: string, module: string) =>
      jobIdOf({ runId: "r", path: [], spec: parseJobSpec({ ...data, root, module }) });
    expect(at("/home/alice/exp", "/home/alice/exp/lib/s.ts")).toBe(
      at("/opt/exp", "/opt/exp/lib/s.ts"),
    );
    expect(at("/opt/exp", "/opt/exp/lib/s.ts")).not.toBe(at("/opt/exp", "/opt/exp/lib/t.ts"));
    // outside the root: the absolute path is the identity
    expect(at("/a", "/lib/s.ts")).toBe(at("/b", "/lib/s.ts"));
    expect(at("/a", "/lib/s.ts")).not.toBe(at("/a", "/lib2/s.ts"));
  });

  it("the variables a module job gets leave out secret-looking names and declared secrets", () => {
    const vars = { rev: "v1", API_TOKEN: "t0k3n-x", note: "uses s3cret-pw", out: "/tmp/o" };
    expect(travellingVars(vars)).toEqual({ rev: "v1", note: "uses s3cret-pw", out: "/tmp/o" });
    addSecrets(["s3cret-pw"]);
    try {
      expect(travellingVars(vars)).toEqual({ rev: "v1", out: "/tmp/o" });
    } finally {
      clearSecrets();
    }
  });

  it("notJsonAt: JSON values pass, anything else is named by its path", () => {
    fc.assert(fc.property(fc.jsonValue(), (x) => notJsonAt(x, "$") === undefined));
    expect(notJsonAt({ a: [1, { b: new Map() }] }, "$")).toBe("$.a[1].b");
    expect(notJsonAt({ "x y": undefined }, "$")).toBe('$["x y"]');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(notJsonAt(cyclic, "$")).toBe("$.self");
  });
});

describe("local files", () => {
  const script = "test/fixtures/scale-script.sh";
  const include = "test/fixtures/scale-steps.ts";

  it("scripts, includes and pushed files travel by absolute path, their contents read at start", async () => {
    const job = new SshJob(new LocalNode(), [
      runScript(script, ["a"], { includes: [include] }),
      push([include], "/tmp/x/"),
    ]);
    const spec = (specOf(job) as { spec: CommandJobSpec }).spec;
    const abs = [resolve(script), resolve(include)];
    expect(spec.commands).toEqual([
      {
        type: "runScript",
        path: abs[0],
        args: ["a"],
        options: { label: `${script} a`, includes: [abs[1]] },
      },
      {
        type: "push",
        locals: [abs[1]],
        remote: "/tmp/x/",
        options: { label: `push ${include} -> /tmp/x/` },
      },
    ]);
    expect(localFilesOf(spec)).toEqual(abs);
    const files = await readFiles(abs);
    expect(Buffer.from(files?.[abs[0] as string]?.data ?? "", "base64").toString()).toBe(
      readFileSync(script, "utf8"),
    );
    expect(files?.[abs[0] as string]?.mode).toBe(statSync(script).mode & 0o7777);
    // the worker needs every file, and rebuilds the commands on its copies
    expect(() => parseJobSpec(spec)).toThrow(
      `queue job data: $.files[${JSON.stringify(abs[0])}] is missing`,
    );
    const data = parseJobSpec(JSON.parse(JSON.stringify({ ...spec, files }))) as CommandJobSpec;
    const back = jobFromSpec(data, new LocalNode(), new Map([[abs[0] as string, "/w/s.sh"]]));
    expect(back.commands[0]).toMatchObject({ type: "runScript", path: "/w/s.sh" });
    // contents are input, not definition: the same id
    expect(jobIdOf({ runId: "r", path: [], spec: data })).toBe(
      jobIdOf({ runId: "r", path: [], spec }),
    );
    // a file gone by then, or too large: undefined (the job runs in the controller)
    expect(await readFiles([...abs, "/nonexistent"])).toBeUndefined();
  });
});

describe("outcomes on the wire", () => {
  it("a worker's outcomes come back as they were: bytes, errors with code and facts", () => {
    const error = new AiorchError("COMMAND_FAILED", "exit 3", { host: "h", exitCode: 3 });
    const outcomes = [
      { index: 0, label: "a", exitCode: 0, signal: null, durationMs: 5, ok: true, stdout: "x" },
      {
        ...{ index: 1, label: "b", exitCode: 3, signal: null, durationMs: 1, ok: false },
        stdoutBytes: Buffer.from([0, 255, 10]),
        files: 2,
        error,
      },
    ];
    const wire = JSON.parse(JSON.stringify(encodeOutcomes(outcomes)));
    expect(wire[1]).toMatchObject({ stdoutBytes: "AP8K", error: { code: "COMMAND_FAILED" } });
    const back = decodeResult({ node: "u@h", commands: wire, vars: {} });
    expect(back.node).toBe("u@h");
    expect(back.commands[0]).toEqual(outcomes[0]);
    const { error: e, ...rest } = back.commands[1] as (typeof back.commands)[1] & object;
    expect(rest).toEqual({
      ...outcomes[1],
      error: undefined,
      stdoutBytes: Buffer.from([0, 255, 10]),
    });
    expect([e?.code, e?.message, (e as unknown as { exitCode: number }).exitCode]).toEqual([
      "COMMAND_FAILED",
      "exit 3",
      3,
    ]);
  });
});

describe("worker side", () => {
  const good = () => {
    const a = specOf(new SshJob(new LocalNode(), [run("echo", 1)], { label: "l" }));
    return JSON.parse(JSON.stringify("spec" in a ? a.spec : null));
  };

  it("rebuilds the same job from the data", () => {
    const spec = parseJobSpec(good()) as CommandJobSpec;
    const job = jobFromSpec(spec, nodeFromSpec(spec.node));
    expect(job.label).toBe("l");
    expect(job.node).toBeInstanceOf(LocalNode);
    expect(job.commands.map((c) => c.type === "run" && c.argv)).toEqual([["echo", 1]]);
    // raw() words travel as { raw } and come back as raw words
    const r = specOf(new SshJob(new LocalNode(), [run("echo", "a b", raw(">"), "f")]));
    const back = jobFromSpec(
      parseJobSpec(JSON.parse(JSON.stringify((r as { spec: unknown }).spec))) as CommandJobSpec,
      new LocalNode(),
    );
    expect(commandLabel(back.commands[0] as Command)).toBe("echo 'a b' > f");
    // a byte capture travels with its encoding (the worker keeps every byte)
    const bytes = specOf(
      new SshJob(new LocalNode(), [run("cat img", { capture: "img", encoding: "buffer" })]),
    );
    const rebuilt = jobFromSpec(
      parseJobSpec(JSON.parse(JSON.stringify((bytes as { spec: unknown }).spec))) as CommandJobSpec,
      new LocalNode(),
    );
    expect(rebuilt.commands[0]?.options).toMatchObject({ capture: "img", encoding: "buffer" });
    const ssh = specOf(new SshJob(node, [run("true")]));
    const n = nodeFromSpec(
      "spec" in ssh ? (ssh.spec as CommandJobSpec).node : good().node,
    ) as SshNode;
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
    expect(bad((d) => (d.v = 1))).toMatch(/^queue job data: \$\.v must be 3/);
    expect(bad((d) => (d.kind = "x"))).toBe(
      'queue job data: $.kind must be "commands" or "module"',
    );
    expect(bad((d) => (d.commands = []))).toBe(
      "queue job data: $.commands must be a non-empty array",
    );
    expect(bad((d) => ((d.commands as unknown[])[0] = { type: "pull" }))).toBe(
      'queue job data: $.commands[0].type must be "run", "runString", "runScript" or "push"',
    );
    expect(
      bad((d) => ((d.commands as unknown[])[0] = { type: "push", locals: ["rel"], remote: "/r" })),
    ).toBe("queue job data: $.commands[0].locals[0] must be an absolute path");
    expect(
      bad((d) => ((d.commands as unknown[])[0] = { type: "runScript", path: "/s", args: [] })),
    ).toBe('queue job data: $.files["/s"] is missing');
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
    ) as CommandJobSpec;
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
