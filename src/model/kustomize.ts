/** How kustomize finds a directory's kustomization, and what fleet counts as a manifest. */
import * as path from "node:path";
import type { ChangeSet } from "../changeset/changeset.js";

/** The names kustomize looks for, in its order. */
export const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

export const isYamlFile = (f: string) => /\.ya?ml$/.test(f);

/** What the model reads the repo through: the change set, or the repo as it was before the run. */
export type RepoReader = Pick<ChangeSet, "read" | "list">;

/** The kustomization file of a repo-relative directory in the staged repo, if it has one. */
export function kustomizationIn(cs: RepoReader, dir: string): string | undefined {
  return KUSTOMIZATION_FILES.map((f) => `${dir}/${f}`).find((f) => cs.read(f) !== undefined);
}

/**
 * What a kustomization in `dir` means by an entry of its resources or patches: the repo-relative
 * path, however it is spelled (`../base/t/`, `./../base/t` and `../base/./t` from tenants/prod
 * all mean tenants/base/t).
 */
export function entryTarget(dir: string, entry: string): string {
  // A plain name in a plain directory (`t.yaml` in tenants/prod: a thousand a units overlay) needs no normalising.
  if (PLAIN_NAME.test(entry) && PLAIN_DIR.test(dir)) return `${dir}/${entry}`;
  return path.posix.normalize(path.posix.join(dir, entry)).replace(/\/+$/, "");
}

/** One path component that is not `.` or `..`; a relative path of such components. */
const PLAIN_NAME = /^(?!\.\.?$)[^/]+$/;
const PLAIN_DIR = /^(?:(?!\.\.?\/)[^/]+\/)*(?!\.\.?$)[^/]+$/;

/** How a kustomization in `fromDir` spells the repo-relative `target`. */
export function entryFrom(fromDir: string, target: string): string {
  const rel = path.posix.relative(fromDir, target);
  return rel === "" ? "." : rel;
}
