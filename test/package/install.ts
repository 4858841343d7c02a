/**
 * The package as an install lays it out, for the consumer tests and the start-up bench:
 * `npm pack` (prepack builds dist/), a fresh `npm init -y` project, the tarball installed
 * into it from the npm cache (filled by the repository's own `npm ci`).
 */
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The repository's root. */
export const ROOT = join(import.meta.dirname, "../..");

/** A project with the packed aiorch installed. */
export interface Installed {
  /** the temporary directory holding the tarball, the project and the check cache */
  tmp: string;
  /** the project directory (`node_modules/aiorch` inside) */
  project: string;
  /** environment for the children: their own check cache, no colours, no AIORCH_CHECK */
  env: NodeJS.ProcessEnv;
  /** run a command in `cwd` with {@link env} */
  sh(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string>;
  /** remove the temporary directory */
  dispose(): void;
}

/** The stdout of a command that must exit 0. */
export function ok(r: SpawnSyncReturns<string>): string {
  if (r.status !== 0) throw new Error(`exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** Pack and install; `type: "module"` makes the project an ES module one (else CommonJS). */
export function installPacked(o: { prefix: string; type?: "module" }): Installed {
  const tmp = mkdtempSync(join(tmpdir(), o.prefix));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AIORCH_CACHE_DIR: join(tmp, "cache"),
    NO_COLOR: "1",
  };
  delete env.AIORCH_CHECK;
  const sh = (cmd: string, args: string[], cwd: string) =>
    spawnSync(cmd, args, { cwd, env, encoding: "utf8", timeout: 180_000 });
  const dispose = () => rmSync(tmp, { recursive: true, force: true });
  try {
    ok(sh("npm", ["pack", "--pack-destination", tmp, "--silent"], ROOT));
    const tarball = readdirSync(tmp).find((f) => f.endsWith(".tgz")) as string;
    const project = join(tmp, "project");
    mkdirSync(project);
    ok(sh("npm", ["init", "-y"], project));
    const flags = ["--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"];
    ok(sh("npm", ["install", ...flags, join(tmp, tarball)], project));
    if (o.type) {
      const file = join(project, "package.json");
      const pkg = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
      writeFileSync(file, `${JSON.stringify({ ...pkg, type: o.type }, null, 2)}\n`);
    }
    return { tmp, project, env, sh, dispose };
  } catch (err) {
    dispose();
    throw err;
  }
}
