/**
 * Every path fleet reads, writes or deletes is proven to stay inside the repository: each of its
 * components is checked, and a symbolic link is followed only when it resolves inside. A link to
 * a file outside (a kubeconfig) would otherwise be printed by --dry-run and copied in by a run; a
 * linked directory would have new files written, or old ones deleted, outside the repository.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { LinkError } from "./errors.js";
import { printable } from "./text.js";

/**
 * A repo-relative path in its one spelling (forward slashes, no `./`, no `a/../b`), or undefined
 * when it is not one: empty, the root itself, absolute, or climbing out with `..`. What every
 * path fleet takes from a generator, a journal or the user is checked by first.
 */
export function repoKey(rel: string): string | undefined {
  // Already in its one spelling (as nearly every path fleet makes itself is): nothing to normalise.
  if (ONE_SPELLING.test(rel) && (path.sep === "/" || !rel.includes(path.sep))) return rel;
  const norm = path.posix.normalize(rel.split(path.sep).join("/")).replace(/^\.\//, "");
  if (norm === "" || norm === "." || norm === ".." || norm.startsWith("../") || path.posix.isAbsolute(norm)) return undefined;
  return norm;
}

/** Non-empty components separated by single slashes, none of them `.` or `..`. */
const ONE_SPELLING = /^(?:(?!\.\.?\/)[^/]+\/)*(?!\.\.?$)[^/]+$/;

export class RepoPaths {
  /** The repository's own real path: where every link must end up. */
  private readonly real: string;
  /** Repo-relative paths proven inside: "" when no link, else the link's real target. */
  private readonly proven = new Map<string, string>();
  /** Paths whose every component is proven, with where they lead. */
  private readonly resolved = new Map<string, string>();

  /** What path.join puts before a key: the root normalised, with its separator ("" for "."). */
  private readonly prefix: string;

  constructor(readonly root: string) {
    this.real = realpathOr(root) ?? path.resolve(root);
    this.prefix = path.join(root, "x").slice(0, -1);
  }

  /** path.join(root, key) for a key in its one spelling, without normalising it again. */
  private under(key: string): string {
    return path.sep === "/" ? this.prefix + key : path.join(this.root, key);
  }

  /**
   * `key` (repo-relative, normalised) was read in its directory's listing as no link, its
   * directory proven: resolving it needs no lstat of its own (the repo model lists thousands).
   */
  listedAsNoLink(key: string): void {
    if (!this.proven.has(key)) this.proven.set(key, "");
  }

  /**
   * The absolute path of `key` (repo-relative, normalised), once every existing component of it is
   * proven inside the repository. Components that do not exist yet are fine: fleet creates them.
   * A file that is itself a link resolves to its target (it is read and edited where it lives),
   * unless `followLast` is false (deleting it removes the link, not what it points to).
   */
  resolve(key: string, followLast = true): string {
    // Proven once, the same answer: nothing is unproven, only added.
    const known = followLast ? this.resolved.get(key) : undefined;
    if (known !== undefined) return known;
    // Listed in its directory as no link, that directory proven first: nothing to look at (a
    // namespace scan opens thousands of listed files).
    if (this.proven.get(key) === "") return this.under(key);
    if (repoKey(key) !== key) throw new Error(`not a repo-relative path in its one spelling: ${printable(key)}`);
    const abs = this.under(key);
    // Each component from the top, the path built only where one needs an lstat.
    for (let at = 0; ; ) {
      const slash = key.indexOf("/", at);
      const rel = slash === -1 ? key : key.slice(0, slash);
      let target = this.proven.get(rel);
      if (target === undefined) {
        const here = path.join(this.root, rel);
        let st: fs.Stats;
        try {
          st = fs.lstatSync(here);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === "ENOENT" || code === "ENOTDIR") return abs;
          throw e;
        }
        target = "";
        if (st.isSymbolicLink()) {
          // A dangling link is judged by where it points: writing through it would create that file.
          target = realpathOr(here) ?? path.resolve(path.dirname(here), fs.readlinkSync(here));
          if (!within(this.real, target)) throw new LinkError(printable(rel), printable(target), printable(this.root));
        }
        this.proven.set(rel, target);
      }
      if (slash === -1) {
        // A file that is a link inside the repository is edited where it lives, so the link stays.
        const out = target && followLast ? target : abs;
        if (followLast) this.resolved.set(key, out);
        return out;
      }
      at = slash + 1;
    }
  }
}

/** The real path of `p` (every link resolved), or undefined when it does not exist. */
export function realpathOr(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
}

/** Whether `p` is `dir` or below it (both absolute, compared as given). */
export const within = (dir: string, p: string): boolean => p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);
