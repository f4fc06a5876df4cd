/**
 * validate's build cache, kept between runs in the user's cache directory
 * ($XDG_CACHE_HOME/fleet/validate, else ~/.cache/fleet/validate; never inside a repository).
 *
 * A build's entry is keyed by everything that decides its output: the content (and repo-relative
 * name) of every file the build reads, as inputs.ts lists them, what Flux adds to the build
 * (targetNamespace, patches, components), and `kubectl version --client`. So an entry can only be
 * stale if kustomize reads a file inputs.ts does not list, and inputs.ts refuses such builds.
 * The value is the built objects with the file each came from: what the repository holds,
 * nothing else (builds read only the repository, and validate never sees a secret's value).
 *
 * Entries are written to a temp sibling and renamed, so a reader sees a whole entry or none. An
 * entry that does not read back (truncated, edited, another version's format) is a miss. The
 * directory is bounded: past its size, the least recently used entries go.
 *
 * Reading every input of every build to hash it was most of a cached run over a thousand tenants,
 * so a file's digest is also kept with what stat says of it (size, mtime, ctime, inode, device),
 * as git's index keeps them: a file whose stat is unchanged is not read again. ctime cannot be
 * set back, so an edit that restores size and mtime is still seen. A file whose mtime was within
 * RACY_MS of the moment it was hashed is never trusted this way (git's "racily clean" case: a
 * write within the file system's clock tick could leave the mtime as it was).
 *
 * Finding a build's inputs (inputs.ts: listing directories, parsing kustomizations) was the other
 * half of a cached run. So each build also keeps the paths its preparation looked at and the
 * key it came to: while none of them, nor a directory above them, has changed by stat, the key
 * holds, since those listings and files are all the preparation read. Each kept reading has the
 * stats of its own paths (a digest of them): one reading's stats never vouch for another's. A
 * reading is kept only when each of its paths was last changed (mtime and ctime, which cannot be
 * set back) RACY_MS before the run began, so nothing the run read changed under it; one that
 * followed a symlink keeps nothing (its target is not among the paths). Other
 * readings of the repository are kept the same way (the repo model's tenants, which take every
 * tenant's files to read: Builder.remembered), each with the paths its change set looked at.
 * What is kept this way holds for one kubectl and one fleet release: another starts afresh.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execa } from "execa";
import { fleetVersion } from "../core/paths.js";
// Only where listed names are the names lstat finds do the paths a reading looked at say all it read.
import { BY_NAME } from "./inputs.js";
import type { Built } from "./build.js";

/** Bumped whenever what an entry holds, or how a key is made, changes. */
const FORMAT = "fleet-validate-cache/1";
/** The format of a repository's file digests, and how far in the past an mtime must be to be trusted. */
const FILES_FORMAT = "fleet-validate-files/1";
const RACY_MS = 3000;
/** A file as stat saw it when hashed: size, mtime, ctime, inode, device, and the digest. */
type Known = [number, number, number, number, number, string];
/**
 * What a reading of the repository came to (a build's key, the tenants' files), a repo-relative
 * path whose disappearance makes it useless, the repo-relative paths the reading looked at, and
 * the digest of their stats and their directories' (pathsState).
 */
type KnownValue = [unknown, string, string[], string];
const sameFile = (k: Known, st: fs.Stats) => k[0] === st.size && k[1] === st.mtimeMs && k[2] === st.ctimeMs && k[3] === st.ino && k[4] === st.dev;
/** Enough for several fleets of thousands of tenants (an entry is a few kilobytes a tenant). */
export const DEFAULT_CACHE_BYTES = 512 * 1024 * 1024;

/** Where the cache lives, from the environment as the XDG base directory spec says. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), ".cache");
  return path.join(base, "fleet", "validate");
}

const versions = new Map<string, Promise<string | undefined>>();
/**
 * `kubectl version --client`, once a process for each PATH: the kustomize inside it decides every
 * build. Bounded like a build; a kubectl that does not answer means no cache, and its builds say why.
 */
function toolVersion(timeoutMs: number): Promise<string | undefined> {
  const PATH = process.env.PATH ?? "";
  let v = versions.get(PATH);
  if (!v) {
    v = execa("kubectl", ["version", "--client"], { reject: false, stdin: "ignore", env: { PATH }, extendEnv: false, timeout: timeoutMs, killSignal: "SIGKILL" }).then((r) =>
      r.exitCode === 0 ? String(r.stdout).trim() : undefined,
    );
    versions.set(PATH, v);
  }
  return v;
}

/** Whether each value would come back from JSON as it went in (no NaN, Infinity, undefined, ...). */
function jsonSafe(v: unknown): boolean {
  if (v === null || typeof v === "string" || typeof v === "boolean") return true;
  if (typeof v === "number") return Number.isFinite(v);
  if (Array.isArray(v)) return v.every(jsonSafe);
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) return Object.values(v as object).every(jsonSafe);
  return false;
}

function isBuilt(v: unknown): v is Built[] {
  return Array.isArray(v) && v.every((b) => b && typeof b === "object" && typeof b.file === "string" && b.obj && typeof b.obj === "object" && !Array.isArray(b.obj));
}

/** A repo-relative path and every directory above it, the repository's root ("") last. */
function withParents(rel: string): string[] {
  const out = [rel];
  for (let p = rel; p !== ""; ) {
    const slash = p.lastIndexOf(path.sep);
    p = slash < 0 ? "" : p.slice(0, slash);
    out.push(p);
  }
  return out;
}

export class BuildCache {
  /** File -> digest of its content, for one run: the repository does not change under validate. */
  private readonly digests = new Map<string, string>();
  /** Bytes in the directory as last counted, plus what this run wrote since. */
  private bytes: number | undefined;
  /** The repository's files (repo-relative) as last hashed (see the top of this file), read when first needed. */
  private known: Map<string, Known> | undefined;
  private readonly values = new Map<string, KnownValue>();
  private knownChanged = false;
  /** lstat of repo-relative paths, once a run (null: not there). */
  private readonly stats = new Map<string, fs.Stats | null>();
  private readonly started = Date.now();

  private constructor(
    readonly dir: string,
    private readonly tool: string,
    private readonly maxBytes: number,
    private readonly realRoot: string,
  ) {}

  /** The cache, or undefined when it cannot be used (kubectl's version is unknown, or the directory is inside `root`). */
  static async open(root: string, opts: { dir?: string; maxBytes?: number; timeoutMs: number }): Promise<BuildCache | undefined> {
    const dir = path.resolve(opts.dir ?? cacheDir());
    const real = (p: string) => {
      let at = p;
      // The cache directory may not exist yet: its nearest existing ancestor says where it is.
      while (!fs.existsSync(at) && path.dirname(at) !== at) at = path.dirname(at);
      try {
        return path.join(fs.realpathSync(at), path.relative(at, p));
      } catch {
        return p;
      }
    };
    const inside = path.relative(real(root), real(dir));
    if (!inside.startsWith("..") && !path.isAbsolute(inside)) return undefined;
    const tool = await toolVersion(opts.timeoutMs);
    return tool === undefined ? undefined : new BuildCache(dir, tool, opts.maxBytes ?? DEFAULT_CACHE_BYTES, real(root));
  }

  /** Where the repository's file digests are kept: one file per repository, named by its real path. */
  private knownFile(): string {
    return path.join(this.dir, "files", `${createHash("sha256").update(this.realRoot).digest("hex").slice(0, 32)}.json`);
  }

  private knownFiles(): Map<string, Known> {
    if (this.known) return this.known;
    this.known = new Map();
    try {
      const saved = JSON.parse(fs.readFileSync(this.knownFile(), "utf8")) as { format?: unknown; root?: unknown; tool?: unknown; fleet?: unknown; files?: unknown; values?: unknown };
      if (saved.format === FILES_FORMAT && saved.root === this.realRoot && saved.tool === this.tool && saved.fleet === fleetVersion() && saved.files && typeof saved.files === "object") {
        for (const [f, k] of Object.entries(saved.files))
          if (Array.isArray(k) && k.length === 6 && k.slice(0, 5).every((n) => typeof n === "number") && typeof k[5] === "string") this.known.set(f, k as Known);
        for (const [id, v] of Object.entries(saved.values ?? {}))
          if (Array.isArray(v) && v.length === 4 && typeof v[1] === "string" && Array.isArray(v[2]) && v[2].every((p) => typeof p === "string") && typeof v[3] === "string")
            this.values.set(id, v as KnownValue);
      }
    } catch {
      // None yet, or not readable: every file is hashed, as without it.
    }
    return this.known;
  }

  private digest(file: string): string {
    let d = this.digests.get(file);
    if (d !== undefined) return d;
    // The files of a build are real paths, never links: lstat is their stat, shared with the readings' (statOf).
    const rel = path.relative(this.realRoot, file);
    const st = this.statOf(rel);
    if (!st?.isFile()) throw new Error(`${file} is no longer a file`);
    const known = this.knownFiles().get(rel);
    if (known && sameFile(known, st)) d = known[5];
    else {
      // Stat first, then read: a write after the stat gives the file an mtime this entry does not have.
      d = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
      if (st.mtimeMs < Date.now() - RACY_MS) this.known!.set(rel, [st.size, st.mtimeMs, st.ctimeMs, st.ino, st.dev, d]);
      else this.known!.delete(rel);
      this.knownChanged = true;
    }
    this.digests.set(file, d);
    return d;
  }

  /** lstat of a repo-relative path, once a run; null when it is not there. */
  private statOf(rel: string): fs.Stats | null {
    let st = this.stats.get(rel);
    if (st === undefined) {
      try {
        st = fs.lstatSync(path.join(this.realRoot, rel));
      } catch {
        st = null;
      }
      this.stats.set(rel, st);
    }
    return st;
  }

  /** A path's stat as text, once a run (thousands of readings share their directories). */
  private readonly states = new Map<string, string>();
  private stateOf(rel: string, st: fs.Stats): string {
    let t = this.states.get(rel);
    if (t === undefined) this.states.set(rel, (t = `${rel}\0${st.isFile() ? "f" : "d"}${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}:${st.dev}\0`));
    return t;
  }

  /**
   * The state of the paths a reading looked at, and of every directory above them, as one digest
   * of their stats; undefined when one is a link or neither file nor directory, or (`trusted`)
   * was changed too late to be sure that the reading saw what the stat describes.
   */
  private pathsState(leaves: string[], trusted: boolean): string | undefined {
    const h = createHash("sha256");
    const seen = new Set<string>();
    for (const leaf of leaves)
      for (const p of withParents(leaf)) {
        if (seen.has(p)) continue;
        seen.add(p);
        const st = this.statOf(p);
        if (!st) {
          // A path looked for and not there is covered by its directory's listing.
          if (p === leaf) continue;
          return undefined;
        }
        if (!st.isFile() && !st.isDirectory()) return undefined;
        if (trusted && Math.max(st.mtimeMs, st.ctimeMs) >= this.started - RACY_MS) return undefined;
        h.update(this.stateOf(p, st));
      }
    return h.digest("hex");
  }

  /**
   * What a reading identified by `id` came to, when every path it looked at, and every directory
   * above them, is as it was then (see the top of this file); undefined otherwise.
   */
  recall(id: string): unknown {
    const v = this.knownFiles() && this.values.get(id);
    if (!v) return undefined;
    return this.pathsState(v[2], false) === v[3] ? v[0] : undefined;
  }

  /**
   * Keep what a reading came to (JSON-able) with the repo-relative paths it looked at (see the
   * top of this file); nothing is kept where that would not be sound.
   */
  remember(id: string, anchor: string, value: unknown, paths: string[]): void {
    if (!BY_NAME || paths.some((rel) => rel.startsWith("..") || path.isAbsolute(rel))) return;
    this.knownFiles();
    const leaves = [...new Set(paths)].filter((rel) => this.statOf(rel) !== null);
    const state = this.pathsState(leaves, true);
    if (state === undefined) return;
    this.values.set(id, [value, anchor, leaves, state]);
    this.knownChanged = true;
  }

  /**
   * Keep what this run learnt of the repository's files for the next run (written whole to a temp
   * sibling and renamed; two runs at once keep the last one's). Files that are gone are dropped.
   */
  saveKnownFiles(): void {
    if (!this.known || !this.knownChanged) return;
    const files: Record<string, Known> = {};
    for (const [f, k] of this.known) if (this.digests.has(path.join(this.realRoot, f)) || fs.existsSync(path.join(this.realRoot, f))) files[f] = k;
    const values: Record<string, KnownValue> = {};
    for (const [id, v] of this.values) if (fs.existsSync(path.join(this.realRoot, v[1]))) values[id] = v;
    const target = this.knownFile();
    const tmp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(tmp, JSON.stringify({ format: FILES_FORMAT, root: this.realRoot, tool: this.tool, fleet: fleetVersion(), files, values }));
      fs.renameSync(tmp, target);
      this.knownChanged = false;
    } catch {
      fs.rmSync(tmp, { force: true });
    }
  }

  /**
   * The key of a build: `request` is what Flux adds to it (JSON-able), `files` every file it reads
   * (absolute, inside `realRoot`). Undefined when a file cannot be read: that build runs uncached.
   */
  key(realRoot: string, request: unknown, files: string[]): string | undefined {
    const h = createHash("sha256").update(`${FORMAT}\0${this.tool}\0${JSON.stringify(request)}\0`);
    try {
      for (const f of [...new Set(files)].sort()) h.update(`${path.relative(realRoot, f)}\0${this.digest(f)}\0`);
    } catch {
      return undefined;
    }
    return h.digest("hex");
  }

  private file(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  get(key: string): Built[] | undefined {
    const f = this.file(key);
    let fd: number | undefined;
    try {
      fd = fs.openSync(f, "r");
      const used = fs.fstatSync(fd).mtimeMs;
      const entry = JSON.parse(fs.readFileSync(fd, "utf8")) as { format?: unknown; key?: unknown; built?: unknown };
      if (entry.format !== FORMAT || entry.key !== key || !isBuilt(entry.built)) return undefined;
      // Used now: eviction takes the least recently used first (a read-only cache still serves).
      // To the hour is enough for that, and spares a write per entry on every run.
      const now = Date.now();
      if (now - used > 3600_000)
        try {
          fs.utimesSync(f, now / 1000, now / 1000);
        } catch {}
      return entry.built;
    } catch {
      return undefined;
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  /** Store a build; one that would not read back exactly, or a cache that cannot be written, is skipped. */
  put(key: string, built: Built[]): void {
    if (!built.every((b) => jsonSafe(b.obj))) return;
    const f = this.file(key);
    const text = JSON.stringify({ format: FORMAT, key, built });
    const tmp = `${f}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, f);
    } catch {
      fs.rmSync(tmp, { force: true });
      return;
    }
    this.bytes = (this.bytes ?? this.count()) + text.length;
    if (this.bytes > this.maxBytes) this.evict();
  }

  private entries(): Array<{ file: string; size: number; used: number }> {
    const out: Array<{ file: string; size: number; used: number }> = [];
    let shards: string[] = [];
    try {
      shards = fs.readdirSync(this.dir);
    } catch {
      return out;
    }
    for (const shard of shards) {
      let names: string[] = [];
      try {
        names = fs.readdirSync(path.join(this.dir, shard));
      } catch {
        continue;
      }
      for (const name of names) {
        const file = path.join(this.dir, shard, name);
        try {
          const st = fs.statSync(file);
          out.push({ file, size: st.size, used: st.mtimeMs });
        } catch {
          // Gone meanwhile (another run evicted it).
        }
      }
    }
    return out;
  }

  private count(): number {
    return this.entries().reduce((n, e) => n + e.size, 0);
  }

  /** Down to three quarters of the bound, least recently used first, so that eviction is rare. */
  private evict(): void {
    const all = this.entries().sort((a, b) => a.used - b.used);
    let total = all.reduce((n, e) => n + e.size, 0);
    for (const e of all) {
      if (total <= this.maxBytes * 0.75) break;
      fs.rmSync(e.file, { force: true });
      total -= e.size;
    }
    this.bytes = total;
  }
}

