import * as os from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Most tests wait on kubectl or a spawned fleet: a worker per core keeps both cores busy
    // (on 2 cores: 218 s against 262 s with vitest's default of one worker fewer than cores).
    maxWorkers: Math.max(1, os.availableParallelism()),
    minWorkers: 1,
    // Test files share their worker's modules instead of importing fleet (yaml, plop, inquirer,
    // mermaid with jsdom) afresh each: 229-238 s against 285 s on 2 cores, every test passing.
    // Fleet's module state is keyed by repository root, and every test has a root of its own.
    isolate: false,
  },
});
