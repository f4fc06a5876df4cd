/**
 * The tests use the real kubectl (with its embedded kustomize) and terraform. A machine without
 * them fails the run with a message saying so: nothing is skipped silently.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export default function setup(): () => void {
  // validate caches builds in the user's cache directory: the suite keeps its own, and leaves none.
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-test-cache-"));
  process.env.XDG_CACHE_HOME = cache;
  // Every test's temporary directory goes under one of the run's own (helpers' tmpDir), removed
  // at the end: a worker that vitest stops runs no exit handler, and left hundreds a run behind.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-test-run-"));
  process.env.FLEET_TEST_TMP = tmp;
  const missing: string[] = [];
  for (const [tool, args] of [
    ["kubectl", ["version", "--client"]],
    ["terraform", ["version"]],
  ] as const) {
    try {
      execFileSync(tool, args, { stdio: "ignore" });
    } catch {
      missing.push(tool);
    }
  }
  if (missing.length > 0)
    throw new Error(`the tests need ${missing.join(" and ")} on PATH (real builds, no stand-ins); install ${missing.join(", ")} and run again`);
  // Tests that spawn the CLI run dist/: `npx vitest run test/x.test.ts` after an edit must not
  // test the build from before it.
  if (builtBefore(newestSource())) {
    process.stderr.write("fleet tests: dist/ is older than the sources; building (tsc) ...\n");
    execFileSync(process.execPath, [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(ROOT, "tsconfig.json")], { stdio: "inherit" });
  }
  return () => {
    for (const d of [cache, tmp]) fs.rmSync(d, { recursive: true, force: true });
  };
}

const ROOT = path.join(import.meta.dirname, "..");

/** The newest modification time of a compiled source (src/, generators/, tsconfig.json). */
function newestSource(): number {
  let newest = fs.statSync(path.join(ROOT, "tsconfig.json")).mtimeMs;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts")) newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  for (const d of ["src", "generators"]) walk(path.join(ROOT, d));
  return newest;
}

/** Whether dist/ is missing or was built before `time` (its entry point is written on every build). */
function builtBefore(time: number): boolean {
  try {
    return fs.statSync(path.join(ROOT, "dist", "src", "cli", "main.js")).mtimeMs < time;
  } catch {
    return true;
  }
}
