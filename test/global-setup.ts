/**
 * The tests use the real kubectl (with its embedded kustomize) and terraform. A machine without
 * them fails the run with a message saying so: nothing is skipped silently.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export default function setup(): void {
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
}
