import type { NodeModel } from "../model.ts";
import type { Checker, DataPath } from "./checker.ts";

/** `nodes:` of a data scenario: id -> SSH node (`host`…) or `{ local: true }`. */
const SSH_NODE = [
  "host",
  "port",
  "user",
  "keys",
  "gateway",
  "knownHosts",
  "hostKeys",
  "connectTimeout",
  "maxSessions",
  "agent",
  "passphraseEnv",
];

/** Read and check the `nodes:` mapping, in declaration order (a gateway must come first). */
export function readNodes(c: Checker, v: unknown): NodeModel[] {
  if (v === undefined) return [];
  const map = c.object(v, ["nodes"], Object.keys(v ?? {}));
  const out: NodeModel[] = [];
  for (const [id, raw] of Object.entries(map)) {
    const path = ["nodes", id];
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(id))
      c.fail(path, `node id "${id}" must be an identifier (letters, digits, _)`, "key");
    const o = raw as Record<string, unknown> | null;
    if (o && typeof o === "object" && "local" in o) {
      const l = c.object(raw, path, ["local", "shell"]);
      if (l.local !== true) c.fail([...path, "local"], "expected true");
      out.push({
        id,
        type: "local",
        ...(l.shell === undefined ? {} : { shell: c.string(l.shell, [...path, "shell"]) }),
      });
      continue;
    }
    const n = c.object(raw, path, [...SSH_NODE, "local"], ["host"]);
    const opt = <T>(k: string, f: (x: unknown, p: DataPath) => T) =>
      n[k] === undefined ? {} : { [k]: f(n[k], [...path, k]) };
    if (n.gateway !== undefined) {
      const g = c.string(n.gateway, [...path, "gateway"]);
      if (!out.some((x) => x.id === g && x.type === "ssh"))
        c.fail([...path, "gateway"], `gateway "${g}" is not an SSH node declared above`);
    }
    if (n.agent !== undefined && n.agent !== false)
      c.fail([...path, "agent"], "only `agent: false` (no agent) can be set");
    out.push({
      id,
      type: "ssh",
      host: c.string(n.host, [...path, "host"]),
      ...opt("port", (x, p) => c.number(x, p, { min: 1, integer: true })),
      ...opt("user", (x, p) => c.string(x, p)),
      ...opt("keys", (x, p) => c.strings(x, p)),
      ...opt("gateway", (x, p) => c.string(x, p)),
      ...opt("knownHosts", (x, p) => c.string(x, p)),
      ...opt("hostKeys", (x, p) => c.oneOf(x, p, ["verify", "accept-new", "off"] as const)),
      ...opt("connectTimeout", (x, p) => c.number(x, p)),
      ...opt("maxSessions", (x, p) => c.number(x, p, { min: 1, integer: true })),
      ...(n.agent === false ? { agent: false as const } : {}),
      ...opt("passphraseEnv", (x, p) => c.string(x, p)),
    } as NodeModel);
  }
  return out;
}
