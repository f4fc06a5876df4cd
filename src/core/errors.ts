/**
 * Typed errors, each carrying the exit code of design section 5. The CLI maps them to exit
 * codes in one place; everything else only throws.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { printable } from "./text.js";
import { findRepoRoot } from "../model/root.js";

export const EXIT = { ok: 0, checkFailed: 1, usage: 2, tool: 3 } as const;

export class FleetError extends Error {
  readonly exitCode: number = EXIT.usage;
}

/** Bad input: names the field, the rule and the fix. Nothing has been written. */
export class InputError extends FleetError {
  override readonly exitCode = EXIT.usage;
  constructor(
    readonly field: string,
    readonly rule: string,
    readonly fix?: string,
  ) {
    super(`${field}: ${rule}${fix ? `\n  fix: ${fix}` : ""}`);
  }
}

/** Several missing or invalid answers reported at once. */
export class InputErrors extends FleetError {
  override readonly exitCode = EXIT.usage;
  constructor(readonly errors: InputError[], heading: string) {
    super([heading, ...errors.map((e) => `  - ${e.message.replace(/\n/g, "\n    ")}`)].join("\n"));
  }
}

/** A file fleet must read does not parse; it is named with its line and left alone. */
export class ParseError extends FleetError {
  override readonly exitCode = EXIT.usage;
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    detail: string,
    fix = "correct the file by hand; fleet left it unchanged",
  ) {
    super(`${file}${line ? `:${line}` : ""}: does not parse as YAML: ${detail}\n  fix: ${fix}`);
  }
}

/** A file the user changed would be overwritten; `--force` takes it anyway. */
export class ConflictError extends FleetError {
  override readonly exitCode = EXIT.usage;
}

/** Another fleet process holds the repo. */
export class LockError extends FleetError {
  override readonly exitCode = EXIT.usage;
}

/** A change failed the proof before write (an overlay would break, move a tenant, or change another's objects); nothing was written. */
export class ProofError extends FleetError {
  override readonly exitCode = EXIT.usage;
}

/** An external tool (kubectl, flux, terraform) failed or is missing. */
export class ToolError extends FleetError {
  override readonly exitCode = EXIT.tool;
}

/** A path fleet must read, write or delete leads outside the repository through a link. */
export class LinkError extends FleetError {
  override readonly exitCode = EXIT.usage;
  constructor(
    readonly link: string,
    readonly target: string,
    root: string,
  ) {
    super(
      `${link} is a symbolic link to ${target}, outside the repository (${root}); fleet reads, writes and deletes only inside it, and nothing was written\n` +
        `  fix: replace the link with the files themselves, or with a link that stays inside the repository`,
    );
  }
}

/** The system refused an operation (permissions, a read-only or full file system, I/O). */
export class SystemError extends FleetError {
  override readonly exitCode = EXIT.tool;
}

/** The repo holds something other than fleet expects at a path (a directory where a file goes). */
export class RepoContentError extends FleetError {
  override readonly exitCode = EXIT.usage;
}

/** What fleet needs of a file-system error: its code, and the syscall and paths when known. */
export type Errno = Pick<NodeJS.ErrnoException, "code" | "syscall" | "path"> & { dest?: string };

interface Refusal {
  type: typeof SystemError | typeof RepoContentError;
  what: string;
  fix: (shown: string) => string;
}

/** Node's errno codes fleet reports as the system's refusal or the repo's content, not as a bug. */
const REFUSALS: Record<string, Refusal> = {
  EACCES: { type: SystemError, what: "permission denied", fix: (p) => `give your user read and write access to ${p} (see ls -ld ${p}), then run again` },
  EPERM: {
    type: SystemError,
    what: "operation not permitted",
    fix: (p) => `check ${p}'s permissions and attributes (ls -ld, lsattr: an immutable file), then run again`,
  },
  EROFS: { type: SystemError, what: "the file system is read-only", fix: () => "run fleet in a writable checkout, or remount the file system read-write" },
  ENOSPC: { type: SystemError, what: "no space left on the device", fix: (p) => `free space on the device holding ${p} (df -h ${p}), then run again` },
  EDQUOT: { type: SystemError, what: "disk quota exceeded", fix: (p) => `free space within your quota on the device holding ${p}, then run again` },
  EIO: { type: SystemError, what: "input/output error", fix: (p) => `check the device holding ${p} (dmesg), then run again` },
  EMFILE: { type: SystemError, what: "too many open files", fix: () => "raise the open-file limit (ulimit -n), then run again" },
  ENFILE: { type: SystemError, what: "too many open files on this system", fix: () => "close other programs or raise the system's file limit, then run again" },
  EISDIR: { type: RepoContentError, what: "is a directory; fleet expects a file there", fix: (p) => `move the directory ${p} aside or remove it, then run again` },
  ENOTDIR: { type: RepoContentError, what: "is a file; fleet expects a directory there", fix: (p) => `move the file ${p} aside or remove it, then run again` },
  EEXIST: { type: RepoContentError, what: "already exists and is not what fleet expects there", fix: (p) => `move ${p} aside or remove it, then run again` },
  ELOOP: { type: RepoContentError, what: "is a loop of symbolic links", fix: (p) => `replace the symbolic link ${p} with the file or directory it stands for` },
};

const VERBS: Record<string, string> = {
  open: "open",
  read: "read",
  write: "write",
  rename: "replace",
  unlink: "remove",
  rmdir: "remove",
  mkdir: "create",
  scandir: "list",
  stat: "inspect",
  lstat: "inspect",
};

const lstat = (p: string) => {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
};

/** The nearest path at or above `p` that exists: what a failure to create `p` is about. */
function nearestExisting(p: string): string {
  let at = p;
  while (!lstat(at) && path.dirname(at) !== at) at = path.dirname(at);
  return at;
}

/**
 * The path a failed operation is about, as the person should look for it. A directory where a
 * file should be is that directory; a file where a directory should be is the nearest existing
 * ancestor; a file that does not exist (yet, or any more: a rolled-back temporary) stands for
 * the directory it was to be created in.
 */
function subjectOf(e: Errno): string | undefined {
  const p = e.dest ?? e.path;
  if (p === undefined) return undefined;
  if (e.code === "ENOTDIR") return nearestExisting(path.dirname(p));
  if (e.code === "EISDIR" && !lstat(p)?.isDirectory() && e.path && lstat(e.path)?.isDirectory()) return e.path;
  if (lstat(p)) return p;
  return nearestExisting(path.dirname(p));
}

/** `p` as the person knows it: repo-relative inside a fleet repo (directories end in /). */
function shown(p: string, repo: string | undefined): string {
  const root = findRepoRoot(path.dirname(p)) ?? repo;
  const rel = root ? path.relative(root, p) : "";
  const inside = root !== undefined && rel !== "" && rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
  const name = printable(inside ? rel.split(path.sep).join("/") : p);
  return lstat(p)?.isDirectory() ? `${name.replace(/\/$/, "")}/` : name;
}

/**
 * A Node errno error from the file system as fleet's typed error, naming the path and the fix;
 * undefined for anything else (a real bug stays one). `repo` is the repository the command
 * works on, for errors that name no path (a write to a full disk); `outcome` says what became
 * of the change (said before the fix).
 */
export function fromSystemError(e: unknown, repo?: string, outcome?: string): FleetError | undefined {
  return e instanceof Error ? refusalOf(e as Errno, repo, outcome) : undefined;
}

/** The same for a refusal fleet finds itself (a directory where it reads a file). */
export function refusalOf(err: Errno, repo?: string, outcome?: string): FleetError | undefined {
  const refusal = typeof err.code === "string" ? REFUSALS[err.code] : undefined;
  if (!refusal) return undefined;
  const then = outcome ? `\n  ${outcome}` : "";
  const subject = subjectOf(err);
  const where = subject ? shown(subject, repo) : repo;
  const code = `(${err.code})`;
  if (refusal.type === RepoContentError)
    return new RepoContentError(`${where ?? "a path fleet uses"} ${refusal.what} ${code}${then}\n  fix: ${refusal.fix(where ?? "it")}`);
  // A subject other than the path named is the directory of a file fleet was creating.
  const creating = subject !== undefined && subject !== (err.dest ?? err.path);
  const action = creating
    ? `create a file in ${where}`
    : subject
      ? `${VERBS[err.syscall ?? ""] ?? "use"} ${where}`
      : `${VERBS[err.syscall ?? ""] ?? "use"}${where ? ` in ${where}` : ""}`;
  return new SystemError(`cannot ${action}: ${refusal.what} ${code}${then}\n  fix: ${refusal.fix(where ?? "the repository")}`);
}
