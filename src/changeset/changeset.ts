/**
 * The change set: every write fleet makes is staged here first, against an in-memory view of
 * the repo (design section 3). One mechanism gives dry-run (show the staged changes), idempotency
 * (identical bytes are no change), conflict detection and an all-or-nothing apply.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { createTwoFilesPatch } from "diff";
import { ConflictError, FleetError } from "../core/errors.js";
import { RepoPaths } from "../core/inside-repo.js";
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
  rmdir(dir: string): Promise<void>;
}

export const realFs: ApplyFs = {
  writeFile: (file, data, mode) => fsp.writeFile(file, data, mode === undefined ? {} : { mode }),
  rename: (from, to) => fsp.rename(from, to),
  unlink: (file) => fsp.unlink(file),
  mkdir: async (dir) => {
    await fsp.mkdir(dir);
  },
  rmdir: (dir) => fsp.rmdir(dir),
};

interface Original {
  content: string | undefined;
  mode?: number;
}

export class ChangeSet {
  /** Staged content by repo-relative path; null stages a deletion. */
  private readonly staged = new Map<string, string | null>();
  /** What was on disk when first read, so apply and rollback know what they replace. */
  private readonly originals = new Map<string, Original>();
  private readonly paths: RepoPaths;

  constructor(
    readonly root: string,
    private readonly options: { force?: boolean } = {},
  ) {
    this.paths = new RepoPaths(root);
  }

  /** Normalise a repo-relative path and refuse anything that leaves the repo. */
  private key(rel: string): string {
    const norm = path.posix.normalize(rel.split(path.sep).join("/")).replace(/^\.\//, "");
    if (norm === "" || norm === "." || norm.startsWith("../") || norm === ".." || path.posix.isAbsolute(norm))
      throw new FleetError(`refusing to touch ${rel}: it is outside the repository`);
    return norm;
  }

  /** Where `key` is on disk, proven inside the repository (no link leads out of it). */
  private abs(key: string, followLast = true): string {
    return this.paths.resolve(key, followLast);
  }

  private original(key: string): Original {
    let o = this.originals.get(key);
    if (!o) {
      try {
        const abs = this.abs(key);
        const st = fs.statSync(abs);
        o = st.isFile() ? { content: fs.readFileSync(abs, "utf8"), mode: st.mode & 0o777 } : { content: undefined };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "ENOENT" && code !== "ENOTDIR") throw e;
        o = { content: undefined };
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

  /** Whether the file is there, staged or on disk; a stat, not a read, for files not yet read. */
  exists(rel: string): boolean {
    const key = this.key(rel);
    const staged = this.staged.get(key);
    if (staged !== undefined) return staged !== null;
    const known = this.originals.get(key);
    if (known) return known.content !== undefined;
    try {
      return fs.statSync(this.abs(key)).isFile();
    } catch {
      return false;
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

  /** Files and directories directly below `dir`, as the staged tree has them. */
  list(rel: string): { files: string[]; dirs: string[] } {
    const dirKey = rel === "" || rel === "." ? "" : this.key(rel);
    const files = new Set<string>();
    const dirs = new Set<string>();
    try {
      for (const ent of fs.readdirSync(dirKey ? this.abs(dirKey) : this.root, { withFileTypes: true })) {
        let kind: fs.Dirent | fs.Stats = ent;
        // A link counts as what it points to, once it is proven to stay inside the repository.
        if (ent.isSymbolicLink()) {
          const abs = this.abs(dirKey ? `${dirKey}/${ent.name}` : ent.name);
          try {
            kind = fs.statSync(abs);
          } catch {
            continue;
          }
        }
        if (kind.isDirectory()) dirs.add(ent.name);
        else if (kind.isFile()) files.add(ent.name);
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw e;
    }
    const prefix = dirKey ? `${dirKey}/` : "";
    for (const [key, content] of this.staged) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const slash = rest.indexOf("/");
      if (slash === -1) {
        if (content === null) files.delete(rest);
        else files.add(rest);
      } else if (content !== null) dirs.add(rest.slice(0, slash));
    }
    // A directory whose every file is staged for deletion is gone once applied.
    for (const d of [...dirs]) {
      const sub = `${prefix}${d}/`;
      const touched = [...this.staged].some(([k, v]) => v === null && k.startsWith(sub));
      if (touched && this.isEmptied(`${prefix}${d}`)) dirs.delete(d);
    }
    return { files: [...files].sort(), dirs: [...dirs].sort() };
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
   * Apply every change or none. New content goes to temp siblings first; only when all of
   * them are written are they renamed into place. Any failure restores what was there.
   * SIGINT/SIGTERM during the apply are held until it has finished or rolled back.
   */
  async apply(fsOps: ApplyFs = realFs): Promise<Change[]> {
    return deferInterrupts(() => this.applyNow(fsOps));
  }

  private async applyNow(fsOps: ApplyFs): Promise<Change[]> {
    const changes = this.changes().filter((c) => c.kind !== "unchanged");
    const createdDirs: string[] = [];
    const temps = new Map<string, string>();
    const done: Change[] = [];
    try {
      for (const c of changes) {
        if (c.after === undefined) continue;
        const abs = this.abs(c.path);
        await this.mkdirs(path.dirname(abs), fsOps, createdDirs);
        const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.fleet-${process.pid}.tmp`);
        temps.set(c.path, tmp);
        await fsOps.writeFile(tmp, c.after, this.original(c.path).mode);
      }
      for (const c of changes) {
        const abs = this.abs(c.path, c.after !== undefined);
        if (c.after === undefined) await fsOps.unlink(abs);
        else await fsOps.rename(temps.get(c.path)!, abs);
        temps.delete(c.path);
        done.push(c);
      }
      for (const c of changes) if (c.kind === "deleted") this.pruneEmptyDirs(path.dirname(this.abs(c.path)));
      return changes;
    } catch (err) {
      await this.rollback(done, temps, createdDirs);
      throw err;
    }
  }

  private async mkdirs(dir: string, fsOps: ApplyFs, created: string[]): Promise<void> {
    if (fs.existsSync(dir)) return;
    await this.mkdirs(path.dirname(dir), fsOps, created);
    await fsOps.mkdir(dir);
    created.push(dir);
  }

  /** Remove directories a deletion left empty. Cosmetic: the change is already complete. */
  private pruneEmptyDirs(dir: string): void {
    try {
      while (dir.startsWith(this.root + path.sep) && fs.existsSync(dir) && fs.readdirSync(dir).length === 0) {
        fs.rmdirSync(dir);
        dir = path.dirname(dir);
      }
    } catch {
      // A directory that cannot be removed is left; it holds nothing fleet wrote.
    }
  }

  /**
   * Put back every file already replaced, then remove temps and directories fleet made. Always
   * through node's own fs: the operations that failed are not trusted to undo themselves.
   */
  private async rollback(done: Change[], temps: Map<string, string>, createdDirs: string[]) {
    const errors: string[] = [];
    const attempt = async (what: string, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (e) {
        errors.push(`${what}: ${(e as Error).message}`);
      }
    };
    for (const c of [...done].reverse()) {
      const abs = this.abs(c.path);
      if (c.before === undefined) await attempt(`remove ${c.path}`, () => fsp.unlink(abs));
      else
        await attempt(`restore ${c.path}`, async () => {
          await fsp.mkdir(path.dirname(abs), { recursive: true });
          await fsp.writeFile(abs, c.before!, { mode: this.original(c.path).mode });
        });
    }
    for (const tmp of temps.values()) await attempt(`remove ${tmp}`, () => fsp.rm(tmp, { force: true }));
    for (const dir of [...createdDirs].reverse()) await attempt(`remove ${dir}`, () => fsp.rmdir(dir));
    if (errors.length > 0)
      process.stderr.write(`fleet: rollback could not undo everything:\n  ${errors.join("\n  ")}\n`);
  }
}
