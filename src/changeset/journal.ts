/**
 * The journal of an apply: for every path, what it held before the change and what it holds
 * after, and the directories the apply creates. It is written (temp, fsync, rename) before the
 * first file is touched and removed once the last one is in place, so a run killed at any point
 * in between leaves a record from which the next run brings every path to one side of the change:
 * all of it or none of it. Temp files are named after the journal, so that run can remove them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { FleetError } from "../core/errors.js";
import { repoKey, RepoPaths, within } from "../core/inside-repo.js";

/** Next to the lock in the repo root; the generated .gitignore ignores both. */
export const JOURNAL_FILE = ".fleet.journal";

export interface JournalEntry {
  /** Repo-relative, with forward slashes. */
  path: string;
  /** The content before the change; null: there was no file. */
  before: string | null;
  /** The content after the change; null: the change deletes the file. */
  after: string | null;
  /** The file's permission bits, kept by the change (a new file gets the default). */
  mode?: number;
}

export interface Journal {
  fleetJournal: 1;
  /** apply: under way (finish it if any part landed); undo: an error decided to put it back. */
  phase: "apply" | "undo";
  command: string;
  /** The process that wrote the change; its temp files carry this id. */
  pid: number;
  host: string;
  started: string;
  /** Directories the change creates, parents first. */
  dirs: string[];
  files: JournalEntry[];
}

export type Side = "before" | "after";

/**
 * The one name of a temp file fleet writes next to `file`: `.<name>.fleet-<id>.tmp`. The
 * generated .gitignore ignores it (`.*.fleet-*.tmp`).
 */
export function tempName(file: string, id: string | number): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.fleet-${id}.tmp`);
}


const isMissing = (e: unknown) => ["ENOENT", "ENOTDIR"].includes((e as NodeJS.ErrnoException).code ?? "");

/** What a path holds now: a file's content, or null when there is no file there. */
export function contentAt(abs: string): string | null {
  try {
    return fs.statSync(abs).isFile() ? fs.readFileSync(abs, "utf8") : null;
  } catch (e) {
    if (isMissing(e)) return null;
    throw e;
  }
}

/** The directory entry survives a power loss only once the directory itself is synced. */
function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // Some platforms cannot sync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Replace `file` in one step: whoever reads it sees the old content or all of the new. */
export function putFile(file: string, content: string, mode: number | undefined, id: string | number, durable = false): void {
  const tmp = tempName(file, id);
  try {
    fs.rmSync(tmp, { force: true });
    const fd = fs.openSync(tmp, "w", mode);
    try {
      fs.writeFileSync(fd, content);
      if (durable) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  if (durable) syncDir(path.dirname(file));
}

export function writeJournal(root: string, journal: Journal): void {
  putFile(path.join(root, JOURNAL_FILE), JSON.stringify(journal), undefined, process.pid, true);
}

export function hasJournal(root: string): boolean {
  return fs.existsSync(path.join(root, JOURNAL_FILE));
}

/**
 * Every path a repo-relative one in its one spelling, every content a string or null, and what
 * fleet prints of it (command, host, time) text: nothing else is acted on or shown.
 */
function wellFormed(j: Journal): boolean {
  const inside = (rel: unknown) => typeof rel === "string" && repoKey(rel) === rel;
  const content = (c: unknown) => c === null || typeof c === "string";
  return (
    j.dirs.every(inside) &&
    j.files.every((e) => inside(e.path) && content(e.before) && content(e.after)) &&
    Number.isInteger(j.pid) &&
    [j.command, j.host, j.started].every((t) => typeof t === "string")
  );
}

/** The journal, or undefined when there is none; an unreadable one is an error naming the fix. */
export function readJournal(root: string): Journal | undefined {
  const file = path.join(root, JOURNAL_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
  try {
    const j = JSON.parse(text) as Journal;
    if (j.fleetJournal === 1 && Array.isArray(j.files) && Array.isArray(j.dirs) && wellFormed(j)) return j;
  } catch {
    // reported below
  }
  throw new FleetError(
    `${file} is not a journal fleet can read, so fleet cannot tell what an interrupted run left half done.\n  fix: check the tree with git status and git diff, put it right (git checkout/git clean), then delete ${JOURNAL_FILE}`,
  );
}

export function removeJournal(root: string): void {
  fs.rmSync(path.join(root, JOURNAL_FILE), { force: true });
  syncDir(root);
}

/** Remove `dir` and its parents below `root` for as long as they are empty. */
export function pruneEmptyDirs(root: string, dir: string): void {
  try {
    while (dir !== root && within(root, dir) && fs.existsSync(dir) && fs.readdirSync(dir).length === 0) {
      fs.rmdirSync(dir);
      dir = path.dirname(dir);
    }
  } catch {
    // A directory that cannot be removed is left; it holds nothing fleet wrote.
  }
}

/**
 * Bring every path of the journal to one side of the change, then remove the change's temp files
 * and, going back, the directories it created (going forward, those its deletions emptied). Each
 * file is replaced in one step and one already on that side is left alone, so settling again
 * after a kill part way through is safe. Returns what could not be done.
 */
export function settle(root: string, journal: Journal, side: Side): string[] {
  const errors: string[] = [];
  const attempt = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      errors.push(`${what}: ${(e as Error).message}`);
    }
  };
  // Recovery writes and deletes through the same check as the apply: no link leads it outside.
  const paths = new RepoPaths(root);
  for (const e of journal.files) {
    const want = e[side];
    let abs: string;
    try {
      abs = paths.resolve(e.path, want !== null);
    } catch (err) {
      errors.push(`${e.path}: ${(err as Error).message}`);
      continue;
    }
    attempt(`${want === null ? "remove" : "write"} ${e.path}`, () => {
      if (contentAt(abs) === want) return;
      if (want === null) fs.unlinkSync(abs);
      else {
        fs.mkdirSync(path.dirname(abs), { recursive: true });
        putFile(abs, want, e.mode, journal.pid);
      }
    });
    attempt(`remove ${path.basename(tempName(abs, journal.pid))}`, () => fs.rmSync(tempName(abs, journal.pid), { force: true }));
  }
  if (side === "before")
    for (const d of [...journal.dirs].reverse())
      attempt(`remove ${d}/`, () => {
        const abs = paths.resolve(d);
        if (fs.existsSync(abs) && fs.readdirSync(abs).length === 0) fs.rmdirSync(abs);
      });
  else
    for (const e of journal.files)
      if (e.after === null) attempt(`tidy ${path.posix.dirname(e.path)}/`, () => pruneEmptyDirs(root, path.dirname(paths.resolve(e.path, false))));
  return errors;
}
