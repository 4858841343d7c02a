import { availableParallelism } from "node:os";
import { defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// "aiorch-source": the repository's own tests import aiorch (and its subpaths) from the
// sources, not from dist/ (package.json `exports`, tsconfig `customConditions`)
const conditions = ["aiorch-source", ...defaultServerConditions];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["aiorch-source"] } },
  test: {
    include: ["test/**/*.test.ts"],
    // generous: tests that run tsc take 5 s of CPU, over 30 s on the shared 2-core machine
    testTimeout: 90_000,
    hookTimeout: 180_000,
    typecheck: { enabled: true, include: ["test/**/*.test-d.ts"], tsconfig: "./tsconfig.json" },
    pool: "forks",
    // two test files at a time even on 2 cores (the default is one less than the cores: one):
    // most of a file's time is waiting on sshd, redis, tmux or a child process; each file's
    // leftover checks only look at processes of its own sshd (test/ssh/sshd.ts)
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // `aiorch run` spawned by the tests skips the type check (each scenario would load the
    // compiler); the check has its own tests (test/package/), which turn it back on
    env: { AIORCH_CHECK: "0" },
  },
});
