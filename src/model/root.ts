/**
 * Where the repo is: the one definition of its root, for every command. A fleet repo is the
 * nearest directory holding fleet.yaml, or the one --repo names. Kept free of the YAML library
 * so start-up paths (`fleet --help` listing team generators) can use it.
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

/** The fleet repo `--repo` names or the nearest one above `cwd`, or undefined when there is none. */
export function findFleetRepo(repoFlag: string | undefined, cwd: string): string | undefined {
  if (repoFlag !== undefined) {
    const root = path.resolve(cwd, repoFlag);
    return fs.existsSync(path.join(root, CONFIG_FILE)) ? root : undefined;
  }
  return findRepoRoot(cwd);
}

/**
 * The repo validate reads: --repo, else the nearest fleet repo, else the directory it runs in
 * (validate needs no fleet.yaml: any Flux repo will do).
 */
export function validateRoot(repoFlag: string | undefined, cwd: string): string {
  return repoFlag !== undefined ? path.resolve(cwd, repoFlag) : (findRepoRoot(cwd) ?? cwd);
}
