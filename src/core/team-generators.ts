/**
 * Team generators: `<fleet repo>/.fleet/generators/<name>.{mjs,js}`, plain ES modules whose
 * default export has fleet's own generator shape. This module only finds them by file name
 * (for `fleet --help` and dispatch) and never imports one: it is loaded at start-up, so it keeps
 * to node's fs and path, and the check that a path stays inside the repo. Loading and checking a
 * generator is team-loader.ts, imported when one runs.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { RepoPaths } from "./inside-repo.js";
import { LinkError } from "./errors.js";


/** Where a fleet repo keeps its generators, relative to the repo root. */
export const GENERATORS_DIR = ".fleet/generators";

/** A generator's name is its file name: what `fleet <name>` and its flags can spell. */
const NAME = /^[a-z][a-z0-9-]*$/;
const EXTENSIONS = [".mjs", ".js"] as const;

export interface TeamGeneratorFile {
  name: string;
  /** Repo-relative, e.g. `.fleet/generators/allow-ingress.mjs`. */
  file: string;
  /** Absolute path of the module. */
  abs: string;
  /** The first line of the file's leading comment, for `fleet --help`; raw, escape it to print. */
  summary: string;
  /** Why it cannot run (a reserved name, two files for one name), or undefined. */
  refused?: string;
}

/** The value of `--repo DIR` or `--repo=DIR` among raw arguments, before they are parsed. */
export function repoFlagOf(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") return undefined;
    if (a === "--repo") return args[i + 1];
    if (a.startsWith("--repo=")) return a.slice("--repo=".length);
  }
  return undefined;
}

/** The first line of a leading `//` or `/* *\/` comment: a summary that needs no import. */
function leadingComment(abs: string): string {
  let head = "";
  try {
    const fd = fs.openSync(abs, "r");
    try {
      const buf = Buffer.alloc(2048);
      head = buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0)).toString("utf8");
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return "";
  }
  head = head.replace(/^#![^\n]*\n/, "").trimStart();
  if (head.startsWith("//")) return (head.split("\n")[0] ?? "").replace(/^\/\/+\s*/, "").trim();
  if (head.startsWith("/*")) {
    const body = head.slice(2).split("*/")[0] ?? "";
    for (const line of body.split("\n")) {
      const text = line.replace(/^\s*\**\s*/, "").trim();
      if (text) return text;
    }
  }
  return "";
}

/**
 * The team generators of a repo, by file name, sorted. Files whose names are not generator
 * names (`_shared.mjs`, `README.md`) are helpers and not listed. A reserved name (`reserved`:
 * name -> the rule, "a team generator cannot ..."), or one defined by both a .mjs and a .js
 * file, is listed with why it is refused.
 */
export function listTeamGenerators(root: string, reserved: ReadonlyMap<string, string>): TeamGeneratorFile[] {
  const paths = new RepoPaths(root);
  let entries: fs.Dirent[];
  try {
    // A .fleet or .fleet/generators that links out of the repository lists nothing.
    entries = fs.readdirSync(paths.resolve(GENERATORS_DIR), { withFileTypes: true });
  } catch {
    return [];
  }
  const dir = path.join(root, ...GENERATORS_DIR.split("/"));
  const byName = new Map<string, string[]>();
  for (const e of entries) {
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    const ext = EXTENSIONS.find((x) => e.name.endsWith(x));
    if (!ext) continue;
    const name = e.name.slice(0, -ext.length);
    if (!NAME.test(name)) continue;
    byName.set(name, [...(byName.get(name) ?? []), e.name]);
  }
  return [...byName.keys()].sort().map((name) => {
    const files = byName.get(name)!.sort();
    const file = `${GENERATORS_DIR}/${files[0]}`;
    const abs = path.join(dir, files[0]!);
    // Code from outside the repository is neither read for help nor run.
    let outside: LinkError | undefined;
    try {
      paths.resolve(file);
    } catch (e) {
      if (!(e instanceof LinkError)) throw e;
      outside = e;
    }
    const rule = reserved.get(name);
    const refused = outside
      ? `${outside.link} is a symbolic link to ${outside.target}, outside the repository; fleet runs no code from outside it`
      : rule
        ? `a team generator cannot ${rule}; rename ${file}`
        : files.length > 1
          ? `both ${files.map((f) => `${GENERATORS_DIR}/${f}`).join(" and ")} define it; keep one`
          : undefined;
    return { name, file, abs, summary: outside ? "" : leadingComment(abs), ...(refused ? { refused } : {}) };
  });
}
