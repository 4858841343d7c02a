#!/usr/bin/env node
// A small CPU workload for scenarios/deploy-measure.scenario.ts: hashes a buffer `--rounds`
// times and prints the elapsed milliseconds per round, one number per line.
// `--check` only prints "ready" (used right after deployment).
import { createHash } from "node:crypto";

const args = process.argv.slice(2);
if (args.includes("--check")) {
  console.log("ready");
  process.exit(0);
}
const rounds = Number(args[args.indexOf("--rounds") + 1] ?? 3);
const data = Buffer.alloc(1 << 20, 7);
for (let r = 0; r < rounds; r++) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < 20; i++) createHash("sha256").update(data).digest();
  console.log((Number(process.hrtime.bigint() - start) / 1e6).toFixed(2));
}
