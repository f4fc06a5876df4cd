/**
 * One fleet process per repo at a time. The lock is `.fleet.lock` in the repo root and holds its
 * holder's record (pid, host, command, a token). It appears whole in one step: the record is
 * written to a temp file and hard-linked into place, which fails when a lock is there, so neither
 * a kill nor a full disk leaves an empty lock. The holder refreshes its mtime every 10 s.
 *
 * A lock is stale when its holder is a process on this host that no longer runs, or when nobody
 * has refreshed it for STALE_MS: a holder on another host that died, an empty or unreadable lock
 * (a power loss, an older fleet). A stale lock is taken over by renaming a new record onto it,
 * and only by the one process that first claims that very lock file, so any number of processes
 * finding the same stale lock make one holder.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fromSystemError, LockError } from "../core/errors.js";
import { printable } from "../core/text.js";
import { tempName } from "./journal.js";
import { onInterrupt } from "./signals.js";

export const LOCK_FILE = ".fleet.lock";
/**
 * A lock nobody refreshed for this long is stale. Six missed refreshes: longer than any stretch
 * of a run that keeps the event loop busy (staging a thousand tenants takes seconds).
 */
export const STALE_MS = 60_000;
const REFRESH_MS = 10_000;
const CLAIM = `${LOCK_FILE}.takeover-`;

interface Holder {
  pid: number;
  host: string;
  command: string;
  token?: string;
  since?: string;
}

/** The repo lock this process holds. */
export interface Lock {
  /** Whether the lock is still this process's: false once another took it over as stale. */
  held(): boolean;
  release(): void;
}

/** What a waiting process last saw at the lock. */
interface Seen {
  holder: Holder | undefined;
  st: fs.BigIntStats;
}

/** Whether a process of this host is running (one of another user's counts). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readHolder(file: string): Holder | undefined {
  try {
    const h = JSON.parse(fs.readFileSync(file, "utf8")) as Holder;
    return typeof h?.pid === "number" && typeof h.host === "string" ? h : undefined;
  } catch {
    return undefined;
  }
}

function statOf(file: string): fs.BigIntStats | undefined {
  try {
    return fs.statSync(file, { bigint: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/** Which lock file this is: a refresh, a release or a replacement gives another. */
function identity(st: fs.BigIntStats): string {
  return `${st.dev}-${st.ino}-${st.size}-${st.mtimeNs}-${st.ctimeNs}`;
}

const ageOf = (st: fs.BigIntStats) => Date.now() - Number(st.mtimeMs);

function isStale({ holder, st }: Seen): boolean {
  return ageOf(st) > STALE_MS || (holder !== undefined && holder.host === os.hostname() && !alive(holder.pid));
}

/** Put `tmp` at `file` unless something is there already; false when something is. */
function linkExclusive(tmp: string, file: string): boolean {
  try {
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS") throw e;
  }
  // A filesystem without hard links: an exclusive copy (which removes what it wrote if it fails).
  try {
    fs.copyFileSync(tmp, file, fs.constants.COPYFILE_EXCL);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}

/**
 * Replace the stale lock `seen` with our record, unless another process does it first. Claims
 * are named after the lock file they replace and created exclusively, so of all who found this
 * very file stale one replaces it; the lock is checked to still be that file once claimed, so a
 * late claim (after the lock was replaced or refreshed) replaces nothing. A claimant that died
 * before the rename leaves a claim stale by the same rule, and the next claim level passes it.
 */
function takeOver(file: string, tmp: string, seen: Seen): boolean {
  const id = identity(seen.st);
  for (let level = 0; ; level++) {
    const claim = `${file}.takeover-${id}-${level}`;
    if (!linkExclusive(tmp, claim)) {
      const st = statOf(claim);
      if (st && isStale({ holder: readHolder(claim), st })) continue;
      return false;
    }
    const now = statOf(file);
    if (now && identity(now) === id) {
      fs.renameSync(tmp, file);
      return true;
    }
    fs.rmSync(claim, { force: true });
    return false;
  }
}

/** One try: the lock taken (true), or what holds it (undefined: it went away meanwhile). */
function attempt(file: string, tmp: string, record: string): true | Seen | undefined {
  try {
    fs.writeFileSync(tmp, record);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw fromSystemError(e, path.dirname(file), "no lock was taken and nothing was written") ?? e;
  }
  try {
    if (linkExclusive(tmp, file)) return true;
    const st = statOf(file);
    if (!st) return undefined;
    const seen = { holder: readHolder(file), st };
    return isStale(seen) && takeOver(file, tmp, seen) ? true : seen;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Remove what takeovers and killed runs left: claims (the lock they were about is gone once we
 * hold it, and a claim checks the lock again before it acts) and lock temps no run has touched
 * for STALE_MS (a live waiter's temp is seconds old at most).
 */
function sweep(root: string): void {
  const lockTemp = path.basename(tempName(LOCK_FILE, ""));
  for (const name of fs.readdirSync(root)) {
    const p = path.join(root, name);
    const isTemp = name.startsWith(lockTemp.replace(/\.tmp$/, "")) && name.endsWith(".tmp");
    if (!name.startsWith(CLAIM) && !isTemp) continue;
    const st = statOf(p);
    if (st && (name.startsWith(CLAIM) || ageOf(st) > STALE_MS)) fs.rmSync(p, { force: true });
  }
}

function busy(file: string, seen: Seen): LockError {
  const { holder, st } = seen;
  // The record is a file in the repo: what it says is printed escaped.
  const who = holder
    ? printable(`fleet ${holder.command} (pid ${holder.pid} on ${holder.host}${holder.since ? `, since ${holder.since}` : ""})`)
    : `a lock fleet cannot read (${st.size === 0n ? "empty" : "not a fleet lock record"}, last written ${Math.round(ageOf(st) / 1000)} s ago)`;
  const here = holder !== undefined && holder.host === os.hostname();
  const left = Math.max(1, Math.ceil((STALE_MS - ageOf(st)) / 1000));
  return new LockError(
    `${who} is changing this repository (${file}).\n  fix: wait for it to finish and run again` +
      (here ? "" : `; if no fleet process holds it, it is taken over once nobody has refreshed it for ${STALE_MS / 1000} s (in ${left} s)`),
  );
}

export async function acquireLock(
  root: string,
  command: string,
  // Long enough for the holder's proof before write (kubectl builds of the touched overlays).
  waitMs = Number(process.env.FLEET_LOCK_WAIT_MS ?? 60_000),
): Promise<Lock> {
  const file = path.join(root, LOCK_FILE);
  const me: Holder = { pid: process.pid, host: os.hostname(), command, token: randomBytes(8).toString("hex"), since: new Date().toISOString() };
  const tmp = tempName(file, `${process.pid}-${me.token}`);
  const held = () => readHolder(file)?.token === me.token;
  let refresh: NodeJS.Timeout | undefined;
  const release = () => {
    clearInterval(refresh);
    fs.rmSync(tmp, { force: true });
    if (held()) fs.rmSync(file, { force: true });
  };
  // Registered before the lock exists, so an interrupt at any point lets go of what was taken.
  process.once("exit", release);
  const unregister = onInterrupt(release);
  const done = () => {
    process.off("exit", release);
    unregister();
    release();
  };
  const deadline = Date.now() + waitMs;
  try {
    for (;;) {
      const outcome = attempt(file, tmp, JSON.stringify(me));
      if (outcome === true) break;
      if (outcome && Date.now() >= deadline) throw busy(file, outcome);
      if (outcome) await sleep(100);
    }
    sweep(root);
  } catch (e) {
    done();
    throw e;
  }
  refresh = setInterval(() => {
    const now = new Date();
    if (held()) fs.utimes(file, now, now, () => {});
  }, REFRESH_MS);
  refresh.unref();
  return { held, release: done };
}
