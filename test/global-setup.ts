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
  if (!fs.existsSync(path.join(import.meta.dirname, "..", "dist", "src", "cli", "main.js")))
    throw new Error("dist/ is missing: run the tests with `npm test`, which builds first");
  return () => fs.rmSync(cache, { recursive: true, force: true });
}
