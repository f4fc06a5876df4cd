/**
 * One fleet process per repo at a time. The lock is a file created exclusively in the repo
 * root; a second process waits for it, then fails naming the holder. A lock left by a process
 * that no longer runs on this host is taken over.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { LockError } from "../core/errors.js";
import { onInterrupt } from "./signals.js";

export const LOCK_FILE = ".fleet.lock";

interface Holder {
  pid: number;
  host: string;
  command: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readHolder(file: string): Holder | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as Holder;
  } catch {
    return undefined;
  }
}

export async function acquireLock(
  root: string,
  command: string,
  waitMs = Number(process.env.FLEET_LOCK_WAIT_MS ?? 10_000),
): Promise<() => void> {
  const file = path.join(root, LOCK_FILE);
  const me: Holder = { pid: process.pid, host: os.hostname(), command };
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: "wx" });
      const release = () => fs.rmSync(file, { force: true });
      process.once("exit", release);
      const unregister = onInterrupt(release);
      return () => {
        process.off("exit", release);
        unregister();
        release();
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const holder = readHolder(file);
    if (holder && holder.host === me.host && !alive(holder.pid)) {
      fs.rmSync(file, { force: true });
      continue;
    }
    if (Date.now() >= deadline) {
      const who = holder ? `fleet ${holder.command} (pid ${holder.pid} on ${holder.host})` : "another fleet process";
      throw new LockError(
        `${who} is changing this repository (${file}).\n  fix: wait for it to finish and run again; if no fleet process is running, delete ${LOCK_FILE}`,
      );
    }
    await sleep(100);
  }
}
