/**
 * The change set: every write fleet makes is staged here first, against an in-memory view of
 * the repo (design section 3). One mechanism gives dry-run (show the staged changes), idempotency
 * (identical bytes are no change), conflict detection and an all-or-nothing apply.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { createTwoFilesPatch } from "diff";
import { ConflictError, FleetError, fromSystemError, LinkError, refusalOf, RepoContentError } from "../core/errors.js";
import { repoKey, RepoPaths } from "../core/inside-repo.js";
import { printable } from "../core/text.js";
import { hasJournal, JOURNAL_FILE, pruneEmptyDirs, removeJournal, settle, tempName, writeJournal, type Journal } from "./journal.js";
import { deferInterrupts } from "./signals.js";

export type ChangeKind = "created" | "updated" | "deleted" | "unchanged";

export interface Change {
  path: string;
  kind: ChangeKind;
  before?: string;
  after?: string;
}

/** The file operations apply needs; the real ones by default, a failing one in tests. */
export interface ApplyFs {
  writeFile(file: string, data: string, mode?: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(file: string): Promise<void>;
  mkdir(dir: string): Promise<void>;
}

export const realFs: ApplyFs = {
  writeFile: (file, data, mode) => fsp.writeFile(file, data, mode === undefined ? {} : { mode }),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (file) => fsp.unlink(file),
  mkdir: async (dir) => {
    await fsp.mkdir(dir);
  },
};

interface Original {
  content: string | undefined;
  mode?: number;
}

/**
 * A file-system refusal met while applying, typed by the one mapping of such errors (errors.ts),
 * with what became of the change. Anything else is passed on as it is.
 */
const refused = (err: unknown, root: string, outcome: string): unknown =>
  err instanceof FleetError ? err : (fromSystemError(err, root, outcome) ?? err);

/** An open regular file's text, `size` long by its fstat: read as readFileSync reads it, without its second fstat. */
function readOpen(fd: number, size: number): string {
  // A size of 0 says nothing (a file the kernel makes as it is read): read to its end.
  if (size === 0) return fs.readFileSync(fd, "utf8");
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  while (at < size) {
    const n = fs.readSync(fd, buf, at, size - at, null);
    if (n === 0) break;
    at += n;
  }
  return buf.toString("utf8", 0, at);
}

/** The one buffer byte scans read into: a scan of thousands of files allocates for none of them. */
let scanBuffer = Buffer.allocUnsafe(64 * 1024);

/**
 * The bytes of the file at `abs`, in the scan buffer (good until the next scan). Read to its end
 * without a stat (no short read is taken for the end: a file system may return one mid-file), and
 * opened non-blocking, as `original` opens, so a FIFO is looked at, never waited on.
 */
function scanBytes(abs: string): Buffer {
  const fd = fs.openSync(abs, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
  try {
    for (let at = 0; ; ) {
      if (at === scanBuffer.length) {
        const grown = Buffer.allocUnsafe(scanBuffer.length * 2);
        scanBuffer.copy(grown);
        scanBuffer = grown;
      }
      const n = fs.readSync(fd, scanBuffer, at, scanBuffer.length - at, null);
      if (n === 0) return scanBuffer.subarray(0, at);
      at += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** What the repo model reads a repo through: the change set, or the repo as it was before the run. */
export type RepoView = Pick<ChangeSet, "root" | "read" | "exists" | "list" | "walk">;

export class ChangeSet {
  /** Staged content by repo-relative path; null stages a deletion. */
  private readonly staged = new Map<string, string | null>();
  /** What was on disk when first read, so apply and rollback know what they replace. */
  private readonly originals = new Map<string, Original>();
  /**
   * Each directory's entries on disk when first listed, like `originals`: the repo model lists a
   * thousand unit directories more than once a run. Staged changes are laid over it on every
   * list, so after apply it still says what the disk holds.
   */
  private readonly listings = new Map<string, Array<{ name: string; kind: "file" | "dir" }>>();
  /** Each listing of `listings` (or one not kept), split and sorted once (see sortedOf). */
  private readonly sortedListings = new WeakMap<object, { files: string[]; dirs: string[] }>();
  /** Every repo path read, asked for or listed on disk (see lookedAt). */
  private readonly looked = new Set<string>();
  private readonly paths: RepoPaths;

  constructor(
    readonly root: string,
    private readonly options: { force?: boolean } = {},
  ) {
    this.paths = new RepoPaths(root);
  }

  /** Normalise a repo-relative path and refuse anything that leaves the repo. */
  private key(rel: string): string {
    const key = repoKey(rel);
    if (key === undefined) throw new FleetError(`refusing to touch ${printable(rel)}: it is outside the repository`);
    return key;
  }

  /** Where `key` is on disk, proven inside the repository (no link leads out of it). */
  private abs(key: string, followLast = true): string {
    return this.paths.resolve(key, followLast);
  }

  private original(key: string): Original {
    let o = this.originals.get(key);
    if (!o) {
      this.looked.add(key);
      const abs = this.abs(key);
      // A directory where fleet reads or writes a file is refused now, not half way through
      // the apply (and --dry-run says so too). node's own EISDIR names no path: this one does.
      const isDir = () => refusalOf({ code: "EISDIR", syscall: "read", path: abs }, this.root);
      let fd: number | undefined;
      try {
        // Opened, then asked what it is: one path lookup for the thousands of files a model reads.
        // Non-blocking, so a FIFO is looked at, never waited on.
        fd = fs.openSync(abs, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
        const st = fs.fstatSync(fd);
        if (st.isDirectory()) throw isDir();
        o = st.isFile() ? { content: readOpen(fd, st.size), mode: st.mode & 0o777 } : { content: undefined };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "EISDIR") throw isDir();
        // ENXIO: a socket, which is no file to read.
        if (code !== "ENOENT" && code !== "ENOTDIR" && code !== "ENXIO") throw e;
        o = { content: undefined };
      } finally {
        if (fd !== undefined) fs.closeSync(fd);
      }
      this.originals.set(key, o);
    }
    return o;
  }

  /** The file as the change set sees it: staged content, else what is on disk. */
  read(rel: string): string | undefined {
    const key = this.key(rel);
    const staged = this.staged.get(key);
    if (staged !== undefined) return staged ?? undefined;
    return this.original(key).content;
  }

  /**
   * The file as it was before this run, whatever is staged or applied since: what was on disk
   * when it was first read (every file a change touches is read before it is staged).
   */
  readOriginal(rel: string): string | undefined {
    return this.original(this.key(rel)).content;
  }

  /**
   * Whether the file's text includes any of `needles` (false when there is no file). A file not
   * read yet is searched as bytes and not kept: a scan of a thousand tenants' files for a name
   * decodes and keeps none of those that do not hold it.
   */
  includes(rel: string, needles: string | readonly string[]): boolean {
    const key = this.key(rel);
    const any = typeof needles === "string" ? [needles] : needles;
    const inText = () => {
      const text = this.read(rel);
      return text !== undefined && any.some((n) => text.includes(n));
    };
    if (this.staged.has(key) || this.originals.has(key)) return inText();
    this.looked.add(key);
    let bytes: Buffer;
    try {
      bytes = scanBytes(this.abs(key));
    } catch {
      // Not a readable file (gone, a directory, a link out): read() says what it is.
      return inText();
    }
    return any.some((n) => bytes.includes(n)) && inText();
  }

  /** Whether the file is there, staged or on disk; a stat, not a read, for files not yet read. */
  exists(rel: string): boolean {
    const key = this.key(rel);
    const staged = this.staged.get(key);
    if (staged !== undefined) return staged !== null;
    const known = this.originals.get(key);
    if (known) return known.content !== undefined;
    // A link that leads out of the repository is refused here too, not taken for a missing file.
    this.looked.add(key);
    const abs = this.abs(key);
    try {
      return fs.statSync(abs).isFile();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return false;
      throw e;
    }
  }

  /**
   * Stage a new file. An existing file with other content is a conflict unless `overwrite`
   * (an edit fleet computed from that very file) or `--force`.
   */
  write(rel: string, content: string, opts: { overwrite?: boolean } = {}): void {
    const key = this.key(rel);
    const current = this.read(key);
    if (current !== undefined && current !== content && !opts.overwrite && !this.options.force)
      throw new ConflictError(
        `${key} already exists with other content; fleet will not overwrite it silently.\n  fix: move it aside, or run again with --force to replace it`,
      );
    this.staged.set(key, content);
  }

  delete(rel: string): void {
    const key = this.key(rel);
    if (this.read(key) !== undefined) this.staged.set(key, null);
  }

  /**
   * Files and directories directly below `dir`, as the staged tree has them. A link out of the
   * repository is refused, unless `skipLinksOut` (a search by name, which reads none of them).
   */
  list(rel: string, opts: { skipLinksOut?: boolean } = {}): { files: string[]; dirs: string[] } {
    const dirKey = rel === "" || rel === "." ? "" : this.key(rel);
    const prefix = dirKey ? `${dirKey}/` : "";
    const disk = this.onDisk(dirKey, opts);
    if (!this.stagesBelow(prefix)) return this.sortedOf(disk);
    const files = new Set<string>();
    const dirs = new Set<string>();
    for (const ent of disk) (ent.kind === "dir" ? dirs : files).add(ent.name);
    /** The directories below with a deletion staged somewhere in them. */
    const deletedIn = new Set<string>();
    for (const [key, content] of this.staged) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const slash = rest.indexOf("/");
      if (slash === -1) {
        if (content === null) files.delete(rest);
        else files.add(rest);
      } else if (content !== null) dirs.add(rest.slice(0, slash));
      else deletedIn.add(rest.slice(0, slash));
    }
    // A directory whose every file is staged for deletion is gone once applied.
    for (const d of deletedIn) if (dirs.has(d) && this.isEmptied(`${prefix}${d}`)) dirs.delete(d);
    return { files: [...files].sort(), dirs: [...dirs].sort() };
  }

  /**
   * Files and directories directly below `dir` as they were before this run, whatever is
   * staged or applied since (like readOriginal: every file a change touches is read before it
   * is staged).
   */
  listOriginal(rel: string, opts: { skipLinksOut?: boolean } = {}): { files: string[]; dirs: string[] } {
    const dirKey = rel === "" || rel === "." ? "" : this.key(rel);
    const prefix = dirKey ? `${dirKey}/` : "";
    const disk = this.onDisk(dirKey, opts);
    if (!this.stagesBelow(prefix)) return this.sortedOf(disk);
    const files = new Set<string>();
    const dirs = new Set<string>();
    for (const ent of disk) (ent.kind === "dir" ? dirs : files).add(ent.name);
    /** Directories the run touches, and whether any file it touches there was there before. */
    const touched = new Map<string, boolean>();
    for (const key of this.staged.keys()) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const slash = rest.indexOf("/");
      const was = this.original(key).content !== undefined;
      if (slash === -1) {
        if (was) files.add(rest);
        else files.delete(rest);
      } else touched.set(rest.slice(0, slash), (touched.get(rest.slice(0, slash)) ?? false) || was);
    }
    for (const [d, was] of touched) {
      if (was) dirs.add(d);
      // On disk, but perhaps only through what this run created there.
      else if (dirs.has(d) && this.walkOriginal(`${prefix}${d}`).length === 0) dirs.delete(d);
    }
    return { files: [...files].sort(), dirs: [...dirs].sort() };
  }

  /** Every file below `dir` as it was before this run, repo-relative. */
  walkOriginal(rel: string): string[] {
    const dirKey = this.key(rel);
    const { files, dirs } = this.listOriginal(dirKey);
    return [...files.map((f) => `${dirKey}/${f}`), ...dirs.flatMap((d) => this.walkOriginal(`${dirKey}/${d}`))];
  }

  /**
   * The repo as it was before this run, read through the calls the repo model makes: what a
   * generator's context reads lazily, however late it is asked.
   */
  asBefore(): RepoView {
    return {
      root: this.root,
      read: (p) => this.readOriginal(p),
      exists: (p) => this.readOriginal(p) !== undefined,
      list: (d, opts) => this.listOriginal(d, opts),
      walk: (d) => this.walkOriginal(d),
    };
  }

  /** Whether anything is staged below `prefix` ("" the whole repo, else a directory with its slash). */
  private stagesBelow(prefix: string): boolean {
    if (prefix === "") return this.staged.size > 0;
    for (const key of this.staged.keys()) if (key.startsWith(prefix)) return true;
    return false;
  }

  /**
   * A listing on disk as list() returns it, sorted once: the repo model and the namespace scan
   * list the same thousand directories, nearly all with nothing staged in them. Copies, so a
   * caller may sort or extend what it is given.
   */
  private sortedOf(disk: ReadonlyArray<{ name: string; kind: "file" | "dir" }>): { files: string[]; dirs: string[] } {
    let s = this.sortedListings.get(disk);
    if (!s) {
      s = { files: disk.filter((e) => e.kind === "file").map((e) => e.name).sort(), dirs: disk.filter((e) => e.kind === "dir").map((e) => e.name).sort() };
      this.sortedListings.set(disk, s);
    }
    return { files: s.files.slice(), dirs: s.dirs.slice() };
  }

  /** A directory's files and directories on disk, links counted as what they point to inside the repository. */
  private onDisk(dirKey: string, opts: { skipLinksOut?: boolean }): Array<{ name: string; kind: "file" | "dir" }> {
    const known = this.listings.get(dirKey);
    if (known) return known;
    this.looked.add(dirKey);
    const out: Array<{ name: string; kind: "file" | "dir" }> = [];
    // A link out of the repository skipped here is not remembered: a list that refuses it must see it.
    let skipped = false;
    try {
      for (const ent of fs.readdirSync(dirKey ? this.abs(dirKey) : this.root, { withFileTypes: true })) {
        let kind: fs.Dirent | fs.Stats = ent;
        // A link counts as what it points to, once it is proven to stay inside the repository.
        if (ent.isSymbolicLink()) {
          // Looked at even where it leads nowhere: what it lists depends on its target.
          this.looked.add(dirKey ? `${dirKey}/${ent.name}` : ent.name);
          let abs: string;
          try {
            abs = this.abs(dirKey ? `${dirKey}/${ent.name}` : ent.name);
          } catch (e) {
            if (opts.skipLinksOut && e instanceof LinkError) {
              skipped = true;
              continue;
            }
            throw e;
          }
          try {
            kind = fs.statSync(abs);
          } catch {
            continue;
          }
        }
        else this.paths.listedAsNoLink(dirKey ? `${dirKey}/${ent.name}` : ent.name);
        if (kind.isDirectory()) out.push({ name: ent.name, kind: "dir" });
        else if (kind.isFile()) out.push({ name: ent.name, kind: "file" });
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw e;
    }
    if (!skipped) this.listings.set(dirKey, out);
    return out;
  }

  /**
   * The repo-relative paths this change set has read, asked for or listed on disk ("" the root):
   * with the directories above them, everything on disk that what was read from it depends on
   * (a link among them leads elsewhere, which a caller must check).
   */
  lookedAt(): string[] {
    return [...this.looked];
  }

  /** Every file below `dir`, recursively, repo-relative. */
  walk(rel: string): string[] {
    const dirKey = this.key(rel);
    const out: string[] = [];
    const { files, dirs } = this.list(dirKey);
    for (const f of files) out.push(`${dirKey}/${f}`);
    for (const d of dirs) out.push(...this.walk(`${dirKey}/${d}`));
    return out;
  }

  /**
   * Stage the deletion of every file below `rel`. A linked directory inside it stops the run:
   * walking into it would delete the files it points to, which belong to another directory.
   * (A file that is a link is deleted as a link.)
   */
  deleteTree(rel: string): void {
    const dirKey = this.key(rel);
    const { files, dirs } = this.list(dirKey);
    for (const f of files) this.delete(`${dirKey}/${f}`);
    for (const d of dirs) {
      const sub = `${dirKey}/${d}`;
      let linked = false;
      try {
        linked = fs.lstatSync(this.abs(sub, false)).isSymbolicLink();
      } catch {
        // Only staged, not on disk: nothing to follow.
      }
      if (linked)
        throw new RepoContentError(
          `${printable(sub)} is a symbolic link to a directory inside ${printable(rel)}, which fleet is deleting; fleet deletes no files through a link\n` +
            `  fix: remove the link (rm ${printable(sub)}) or replace it with the files themselves, then run again`,
        );
      this.deleteTree(sub);
    }
  }

  private isEmptied(dirKey: string): boolean {
    const { files, dirs } = this.list(dirKey);
    return files.length === 0 && dirs.length === 0;
  }

  /** Every staged path with what applying it would do, sorted by path. */
  changes(): Change[] {
    const out: Change[] = [];
    for (const [key, content] of [...this.staged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const before = this.original(key).content;
      const after = content ?? undefined;
      const kind: ChangeKind =
        before === after ? "unchanged" : before === undefined ? "created" : after === undefined ? "deleted" : "updated";
      out.push({ path: key, kind, before, after });
    }
    return out;
  }

  hasChanges(): boolean {
    return this.changes().some((c) => c.kind !== "unchanged");
  }

  /** A unified diff of every change, as `git diff` would show it. */
  diff(): string {
    return this.changes()
      .filter((c) => c.kind !== "unchanged")
      .map((c) =>
        createTwoFilesPatch(
          c.kind === "created" ? "/dev/null" : `a/${c.path}`,
          c.kind === "deleted" ? "/dev/null" : `b/${c.path}`,
          c.before ?? "",
          c.after ?? "",
          undefined,
          undefined,
          { context: 3 },
        )
          .split("\n")
          .filter((line) => !line.startsWith("====="))
          .join("\n"),
      )
      .join("");
  }

  /**
   * Apply every change or none. The journal (what every path held before and will hold after)
   * is written first; then new content goes to temp siblings, and only when all of them are
   * written are they renamed into place. A failure undoes it from the journal; a kill leaves
   * the journal, and the next fleet run finishes or undoes the change (recover.ts).
   * SIGINT/SIGTERM during the apply are held until it has finished or been undone.
   */
  async apply(opts: { command?: string; fs?: ApplyFs } = {}): Promise<Change[]> {
    return deferInterrupts(() => this.applyNow(opts.fs ?? realFs, opts.command ?? "apply"));
  }

  private journal(changes: Change[], command: string): Journal {
    const dirs = new Set<string>();
    for (const c of changes) {
      if (c.after === undefined) continue;
      for (let d = path.posix.dirname(c.path); d !== "." && !fs.existsSync(this.abs(d)); d = path.posix.dirname(d)) dirs.add(d);
    }
    return {
      fleetJournal: 1,
      phase: "apply",
      command,
      pid: process.pid,
      host: os.hostname(),
      started: new Date().toISOString(),
      // Parents first: a parent's path is a prefix of its children's, so it sorts before them.
      dirs: [...dirs].sort(),
      files: changes.map((c) => ({
        path: c.path,
        before: c.before ?? null,
        after: c.after ?? null,
        mode: this.original(c.path).mode,
      })),
    };
  }

  private async applyNow(fsOps: ApplyFs, command: string): Promise<Change[]> {
    const changes = this.changes().filter((c) => c.kind !== "unchanged");
    if (changes.length === 0) return changes;
    if (hasJournal(this.root))
      throw new FleetError(`${JOURNAL_FILE} records a change an earlier run did not finish; run any fleet command to finish or undo it first`);
    const journal = this.journal(changes, command);
    try {
      writeJournal(this.root, journal);
    } catch (err) {
      throw refused(err, this.root, "nothing was written");
    }
    try {
      for (const d of journal.dirs) await fsOps.mkdir(this.abs(d));
      for (const c of changes)
        if (c.after !== undefined) await fsOps.writeFile(tempName(this.abs(c.path), journal.pid), c.after, this.original(c.path).mode);
      for (const c of changes) {
        // A deletion removes a link itself, never what it points to.
        const abs = this.abs(c.path, c.after !== undefined);
        if (c.after === undefined) await fsOps.unlink(abs);
        else await fsOps.rename(tempName(abs, journal.pid), abs);
      }
    } catch (err) {
      const undone = this.undo(journal);
      throw refused(err, this.root, undone ? "every file is as it was" : `the next fleet run finishes undoing it (${JOURNAL_FILE})`);
    }
    for (const c of changes) if (c.kind === "deleted") pruneEmptyDirs(this.root, path.dirname(this.abs(c.path, false)));
    removeJournal(this.root);
    return changes;
  }

  /**
   * Put every path back as the journal has it before the change. Always through node's own fs:
   * the operations that failed are not trusted to undo themselves. The journal says "undo"
   * first, so a run that finds it after a kill here finishes the undo; if anything could not be
   * undone the journal stays, and the next run tries again.
   */
  private undo(journal: Journal): boolean {
    try {
      writeJournal(this.root, { ...journal, phase: "undo" });
    } catch {
      // Left at "apply", a kill from here on makes the next run finish the change instead: still
      // all or nothing.
    }
    const errors = settle(this.root, journal, "before");
    if (errors.length === 0) removeJournal(this.root);
    else process.stderr.write(`fleet: could not undo everything:\n  ${errors.join("\n  ")}\n`);
    return errors.length === 0;
  }
}
