/**
 * fleet's directories in the system's temp directory (a proof's shadow tree, validate's build
 * inputs) hold copies of repo files. Each process removes its own on exit and on Ctrl-C; one
 * killed outright (kill -9, out of memory) cannot, so each is named for the process that made it,
 * and the next run removes every one of this user's whose process is gone.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { alive } from "./lock.js";

export const TEMP_PREFIXES = { proof: "fleet-proof-", validate: "fleet-validate-" } as const;

const OWNED = new RegExp(`^(?:${Object.values(TEMP_PREFIXES).join("|")})(\\d+)-`);

/** A new directory `<prefix><pid>-XXXXXX` in the temp directory, once those of processes that are gone are removed. */
export function processTempDir(prefix: (typeof TEMP_PREFIXES)[keyof typeof TEMP_PREFIXES]): string {
  sweepDead();
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}${process.pid}-`));
}

function sweepDead(): void {
  const tmp = os.tmpdir();
  let names: string[];
  try {
    names = fs.readdirSync(tmp);
  } catch {
    return;
  }
  for (const name of names) {
    const m = OWNED.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    const dir = path.join(tmp, name);
    try {
      const st = fs.lstatSync(dir);
      if (st.isDirectory() && st.uid === process.getuid?.()) fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Another run removed it first, or it is not ours to remove.
    }
  }
}
