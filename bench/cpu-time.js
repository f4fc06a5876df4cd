/**
 * CPU time for the benchmarks. Wall clock on a machine other developers share is noise: a run
 * waits for a CPU as long as the others keep it. CPU time is what the run itself needed.
 */
import * as fs from "node:fs";

/** USER_HZ, the unit of /proc's times: 100 on every Linux architecture node runs on. */
const TICK_MS = 10;

/**
 * CPU time (user + system, ms) of every child this process has waited for, and of theirs
 * (kubectl under fleet): cutime + cstime of /proc/self/stat. The difference around a spawnSync
 * is that command's. undefined where there is no /proc.
 */
export function childrenCpuMs() {
  try {
    const self = fs.readFileSync("/proc/self/stat", "utf8");
    const f = self.slice(self.lastIndexOf(")") + 2).split(" ").map(Number);
    // cutime, cstime: fields 16 and 17, at 13 and 14 after the command name.
    return (f[13] + f[14]) * TICK_MS;
  } catch {
    return undefined;
  }
}
