/**
 * The nodes a worker holds: one per node spec (one connection per host, shared by the jobs
 * of every run), gateways shared by their nodes, and a sweep closing the connections of
 * nodes idle for a while, so a worker serving 10,000 hosts does not keep 10,000 open.
 */
import type { Resource } from "../job.ts";
import type { SshNode } from "../ssh/node.ts";
import type { CommandNode } from "../ssh/types.ts";
import { type NodeSpec, nodeFromSpec } from "./spec.ts";

interface Held {
  node: CommandNode;
  active: number;
  lastUsed: number;
}

/** A worker's nodes. */
export interface NodePool {
  /** the node for a spec, counted as in use until `release` */
  take(spec: NodeSpec): CommandNode;
  release(node: CommandNode): void;
  /** resources jobs register (connections): closed by `close` */
  readonly resources: Set<Resource>;
  /** close every connection */
  close(): Promise<void>;
}

/** Make a pool whose idle nodes close after `idleMs`. */
export function createNodePool(opts: { idleMs: number }): NodePool {
  const held = new Map<string, Held>();
  const byNode = new Map<CommandNode, Held>();
  const gateways = new Map<string, SshNode>();
  const resources = new Set<Resource>();
  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const [key, h] of held)
        if (h.active === 0 && now - h.lastUsed > opts.idleMs) {
          held.delete(key);
          byNode.delete(h.node);
          const r = (h.node as { resource?: Resource }).resource;
          if (r) resources.delete(r);
          void h.node.close().catch(() => {});
        }
    },
    Math.min(opts.idleMs, 5000),
  );
  sweep.unref();
  return {
    resources,
    take(spec) {
      const key = JSON.stringify(spec);
      let h = held.get(key);
      if (!h) {
        h = { node: nodeFromSpec(spec, gateways), active: 0, lastUsed: Date.now() };
        held.set(key, h);
        byNode.set(h.node, h);
      }
      h.active++;
      return h.node;
    },
    release(node) {
      const h = byNode.get(node);
      if (!h) return;
      h.active--;
      h.lastUsed = Date.now();
    },
    async close() {
      clearInterval(sweep);
      // remotest hop first, as at the end of a local run
      const order = [...resources].sort((a, b) => (b.closeOrder ?? 0) - (a.closeOrder ?? 0));
      for (const r of order) await r.close().catch(() => {});
    },
  };
}
