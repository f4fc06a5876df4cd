/**
 * What of the repo the proof's "after" builds can read, so that its shadow tree holds that and
 * not the whole repo: linking and removing twenty thousand files of a thousand tenants costs
 * seconds, for builds that read a few dozen.
 *
 * kustomize reads a build's kustomization files and the paths their fields name, each relative to
 * the kustomization's directory, and in plugin configs (generators, transformers) the paths they
 * name (validate/inputs.ts checks exactly those fields). This follows every string of every
 * kustomization reached and of every plugin config named, taken as a path (a `key=path` as its
 * path) and, where it looks like inline YAML, as YAML: more than kustomize reads, never less.
 * Anything it cannot follow that way means the whole tree: a target without a kustomization
 * (Flux builds every manifest below it), a kustomization that does not parse, a symbolic link on
 * the way (the whole tree keeps each link as it is).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { isScalar, parseAllDocuments, visit } from "yaml";
import { isYamlFile, KUSTOMIZATION_FILES } from "../model/kustomize.js";
import type { ChangeSet } from "./changeset.js";

export interface ShadowInputs {
  /** Repo-relative files, and directories that must exist (a kustomization names them). */
  files: string[];
  dirs: string[];
}

/** Text kustomize may take as inline YAML (validate/inputs.ts looksInline). */
const looksInline = (s: string) => /[\n{}[\]]|:(\s|$)|^\s*[?-](\s|$)/.test(s);
/** A document kustomize would run as a plugin: its paths are read too. */
const isPluginConfig = (kind: unknown) => typeof kind === "string" && /(generator|transformer|validator|list)$/i.test(kind);

/** Every string of a YAML text, keys included; undefined when it does not parse. */
function strings(text: string): { values: string[]; kinds: unknown[] } | undefined {
  const values: string[] = [];
  const kinds: unknown[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) return undefined;
    kinds.push(doc.get("kind"));
    visit(doc, {
      Scalar(_key, node) {
        if (isScalar(node) && typeof node.value === "string") values.push(node.value);
      },
    });
  }
  return { values, kinds };
}

/** The files and directories building `targets` (repo-relative directories or manifest files) reads, or undefined for all of them. */
export function shadowInputs(cs: ChangeSet, targets: string[]): ShadowInputs | undefined {
  try {
    return inputsOf(cs, targets);
  } catch {
    // A link out of the repository on the way (the change set refuses to read through it): the
    // whole tree, which leaves such links out, and the build that names it says so.
    return undefined;
  }
}

function inputsOf(cs: ChangeSet, targets: string[]): ShadowInputs | undefined {
  const files = new Set<string>();
  const dirs = new Set<string>();
  const scanned = new Set<string>();
  const onDisk = (p: string) => fs.lstatSync(path.join(cs.root, ...p.split("/")), { throwIfNoEntry: false });
  const isDir = (p: string) => onDisk(p)?.isDirectory() === true || cs.list(p).files.length + cs.list(p).dirs.length > 0;
  let whole = false;

  /** Follow a string of a file in `dir` as kustomize may: a path, the path of `key=path`, inline YAML. */
  const follow = (value: string, dir: string) => {
    if (looksInline(value)) {
      const inline = (() => {
        try {
          return strings(value);
        } catch {
          return undefined;
        }
      })();
      for (const v of inline?.values ?? []) follow(v, dir);
    }
    for (const c of new Set([value, value.split("=").at(-1)!])) {
      if (c === "" || path.posix.isAbsolute(c)) continue;
      const p = path.posix.normalize(path.posix.join(dir, c)).replace(/\/+$/, "");
      if (p === ".." || p.startsWith("../")) continue;
      const rel = p === "." ? "" : p;
      if (rel !== "" && cs.exists(rel)) {
        files.add(rel);
        if (isYamlFile(rel)) scan(rel, dir, false);
      } else if (isDir(rel)) kustomizationDir(rel);
    }
  };

  /** A file's strings, relative to `dir`: every one of a kustomization, those of a plugin config. */
  const scan = (file: string, dir: string, kustomization: boolean) => {
    if (scanned.has(file)) return;
    scanned.add(file);
    let read;
    try {
      read = strings(cs.read(file) ?? "");
    } catch {
      read = undefined;
    }
    if (!read) {
      if (kustomization) whole = true;
      return;
    }
    if (kustomization || read.kinds.some(isPluginConfig)) for (const v of read.values) follow(v, dir);
  };

  const kustomizationDir = (dir: string) => {
    if (dirs.has(dir)) return;
    dirs.add(dir);
    for (const name of KUSTOMIZATION_FILES) {
      const file = dir ? `${dir}/${name}` : name;
      if (!cs.exists(file)) continue;
      files.add(file);
      scan(file, dir, true);
    }
  };

  for (const t of targets) {
    if (cs.exists(t)) files.add(t);
    else if (KUSTOMIZATION_FILES.some((f) => cs.exists(`${t}/${f}`))) kustomizationDir(t);
    else return undefined;
  }
  if (whole) return undefined;
  // A link anywhere on the way: the whole tree, which keeps links as they are.
  const plain = new Map<string, boolean>();
  const noLink = (p: string): boolean => {
    if (p === "" || p === ".") return true;
    let ok = plain.get(p);
    if (ok === undefined) {
      ok = onDisk(p)?.isSymbolicLink() !== true && noLink(path.posix.dirname(p));
      plain.set(p, ok);
    }
    return ok;
  };
  if (![...files, ...dirs].every(noLink)) return undefined;
  return { files: [...files].sort(), dirs: [...dirs].filter((d) => d !== "").sort() };
}
