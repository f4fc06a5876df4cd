/**
 * --source NAMESPACE/NAME=DIR, as validate, graph and lockdown take it: where the content of a Flux
 * source that is not this repository is (a clone of a tenant's repository), and which of those a
 * walk never asked for. Light, for the CLI to check its flags before anything heavy is loaded.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../core/errors.js";

/** --source NAMESPACE/NAME=DIR: a Flux source's name (Kubernetes names) and the directory holding its content. */
const SOURCE_FLAG = /^([a-z0-9][a-z0-9-]*)\/([a-z0-9][a-z0-9.-]*)=(.+)$/;

/** Why a --source value is not one, or undefined. */
export function sourceFlagRule(v: string): string | undefined {
  return SOURCE_FLAG.test(v) ? undefined : "must be <namespace>/<name>=<dir>, the directory holding that Flux source's content";
}

/**
 * The --source values as `namespace/name` -> absolute directory (DIR relative to `base`), or why
 * one cannot be used: its form, or a directory that is not there.
 */
export function parseSourceFlags(values: readonly string[], base: string): Map<string, string> | { value: string; problem: string } {
  const out = new Map<string, string>();
  for (const v of values) {
    const m = SOURCE_FLAG.exec(v);
    if (!m) return { value: v, problem: sourceFlagRule(v)! };
    const dir = path.resolve(base, m[3]!);
    if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) return { value: v, problem: `${dir} is no directory; give the directory holding that source's content (a clone of its repository)` };
    out.set(`${m[1]}/${m[2]}`, dir);
  }
  return out;
}

/** The --source mappings a walk looked up (see unusedSources), by the map given to it. */
const looked = new WeakMap<Map<string, string>, Set<string>>();

/** A walk asked where the source `namespace/name` is. */
export function sourceAsked(sources: Map<string, string>, name: string): void {
  (looked.get(sources) ?? looked.set(sources, new Set()).get(sources)!).add(name);
}

/**
 * The --source names no walk so far asked for: a name no Kustomization of the clusters walked
 * has as its sourceRef (a typo, most often), whose content was therefore not checked.
 */
export function unusedSources(sources: Map<string, string>): string[] {
  const used = looked.get(sources) ?? new Set();
  return [...sources.keys()].filter((k) => !used.has(k));
}

/** Refuse --source values no walk asked for (bad input: what the user meant to be read was not); `lost` says what that cost. */
export function refuseUnusedSources(sources: Map<string, string>, lost: string): void {
  const unused = unusedSources(sources);
  if (unused.length)
    throw new InputError(
      "--source",
      `no Kustomization of the clusters walked has a sourceRef named ${unused.join(", ")}, so ${lost}`,
      "give the namespace and name of the source as the cluster has it (flux get sources all -A lists them); a Kustomization under one whose build failed is not reached",
    );
}
