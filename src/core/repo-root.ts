/**
 * Where a fleet repo is: the nearest directory holding fleet.yaml. Kept free of the YAML
 * library so start-up paths (`fleet --help` listing team generators) can use it.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const CONFIG_FILE = "fleet.yaml";

/** The nearest directory at or above `start` holding fleet.yaml. */
export function findRepoRoot(start: string): string | undefined {
  for (let dir = path.resolve(start); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, CONFIG_FILE))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}
