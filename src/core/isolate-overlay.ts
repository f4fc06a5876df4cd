/**
 * Move what an overlay holds into a sub-overlay of its own, so that the overlay's transformers
 * (a `namespace: apps`, a namePrefix, a patch with a broad target, ...) keep applying to what
 * they applied to, and a tenant added beside the sub-overlay is outside them. kustomize builds
 * the sub-overlay exactly as it built the overlay: the same text with every path re-spelled from
 * its new directory (nothing else changes, not a comment), and the overlay's own files moved
 * along (kubectl's load restrictor refuses a file above a kustomization's root, so they cannot
 * stay behind). The proof before write checks that every existing object builds byte-identical.
 * Once the overlay holds nothing else again, `mergeIsolated` moves it all back, byte for byte.
 */
import * as path from "node:path";
import { isMap, isScalar, isSeq, type Document, type Scalar } from "yaml";
import type { ChangeSet } from "../changeset/changeset.js";
import { InputError } from "./errors.js";
import { entryFrom, entryTarget, kustomizationIn } from "../model/kustomize.js";
import { transformersOf } from "../model/overlays.js";
import { lineEnding, listValues, parseYaml, replaceScalars } from "./yaml-edit.js";

/** Fields whose values kustomize loads from paths fleet cannot re-spell with confidence. */
const UNMOVABLE = ["transformers", "generators", "validators", "helmCharts", "helmGlobals", "helmChartInflationGenerator", "openapi", "bases", "vars"];

const MARK = "# Moved here by fleet from ../";

const inline = (s: string) => /[\n{}]|:(\s|$)/.test(s) || /^[a-z][a-z0-9+.-]*:\/\//i.test(s);

/** Every scalar of the kustomization that kustomize reads as a path, with whether it may be `key=path`. */
function pathScalars(doc: Document): Array<{ node: Scalar<string>; keyed: boolean }> {
  const out: Array<{ node: Scalar<string>; keyed: boolean }> = [];
  const add = (node: unknown, keyed = false) => {
    if (isScalar(node) && typeof node.value === "string" && node.range && !inline(node.value)) out.push({ node: node as Scalar<string>, keyed });
  };
  const each = (key: string, fn: (item: unknown) => void) => {
    const node = doc.get(key, true);
    if (isSeq(node)) for (const item of node.items) fn(item);
  };
  for (const key of ["resources", "components", "crds", "configurations", "patchesStrategicMerge"]) each(key, (i) => add(i));
  for (const key of ["patches", "patchesJson6902", "replacements"]) each(key, (i) => isMap(i) && add(i.get("path", true)));
  for (const key of ["configMapGenerator", "secretGenerator"])
    each(key, (g) => {
      if (!isMap(g)) return;
      for (const k of ["files", "envs"]) {
        const list = g.get(k, true);
        if (isSeq(list)) for (const item of list.items) add(item, k === "files");
      }
      add(g.get("env", true));
    });
  return out;
}

const split = (value: string, keyed: boolean): [string, string] => {
  const at = keyed ? value.indexOf("=") : -1;
  return at === -1 ? ["", value] : [value.slice(0, at + 1), value.slice(at + 1)];
};

const isDirectory = (cs: ChangeSet, p: string) => kustomizationIn(cs, p) !== undefined || cs.list(p).files.length > 0 || cs.list(p).dirs.length > 0;

/** A file of `owned` itself, not of a kustomization below it (whose own entries name it). */
function ownFile(cs: ChangeSet, owned: string, file: string): boolean {
  if (!file.startsWith(`${owned}/`)) return false;
  for (let d = path.posix.dirname(file); d !== owned; d = path.posix.dirname(d)) if (kustomizationIn(cs, d)) return false;
  return true;
}

/**
 * Re-spell every path of `text` (a kustomization in `from`) for a kustomization in `to`. Files
 * of `owned` (a directory) that it names move along, keeping their place below it.
 */
function respell(cs: ChangeSet, file: string, text: string, from: string, to: string, owned: string): { text: string; moves: Map<string, string> } {
  const doc = parseYaml(file, text);
  const moves = new Map<string, string>();
  const edits: Array<{ node: Scalar; value: string }> = [];
  for (const { node, keyed } of pathScalars(doc)) {
    const [key, rest] = split(node.value, keyed);
    const at = entryTarget(from, rest);
    if (!isDirectory(cs, at) && cs.read(at) !== undefined && ownFile(cs, owned, at)) {
      const moved = `${to}/${path.posix.relative(owned, at)}`;
      moves.set(at, moved);
      edits.push({ node, value: key + path.posix.relative(to, moved) });
    } else edits.push({ node, value: key + entryFrom(to, at) });
  }
  return { text: replaceScalars(text, edits), moves };
}

export function isolateOverlay(cs: ChangeSet, overlayFile: string, into: string): void {
  const dir = path.posix.dirname(overlayFile);
  const target = `${dir}/${into}`;
  if (cs.exists(target) || isDirectory(cs, target))
    throw new InputError(overlayFile, `fleet would move this overlay's entries into ${target}/, which already exists`, `move ${target}/ aside, then run again`);
  const original = cs.read(overlayFile) ?? "";
  const doc = parseYaml(overlayFile, original);
  const blocked = UNMOVABLE.filter((k) => doc.has(k));
  if (blocked.length > 0)
    throw new InputError(
      overlayFile,
      `its transformers (${transformersOf(doc).join(", ")}) would apply to a tenant added to it, and fleet cannot move its ${blocked.join(", ")} into a sub-overlay safely`,
      `move the overlay's entries into a kustomization of their own (e.g. ${target}/), list it from ${overlayFile}, then run again`,
    );
  const { text, moves } = respell(cs, overlayFile, original, dir, target, dir);
  const eol = lineEnding(original);
  const header = `${MARK}${path.posix.basename(overlayFile)}: its transformers (${transformersOf(doc).join(", ")})${eol}# apply to what it held, and to nothing fleet adds beside it. fleet moves it back once it is alone.${eol}`;
  cs.write(`${target}/kustomization.yaml`, header + text);
  for (const [from, to] of moves) {
    cs.write(to, cs.read(from)!);
    cs.delete(from);
  }
  const apiVersion = doc.get("apiVersion");
  const outer = [
    `apiVersion: ${typeof apiVersion === "string" ? apiVersion : "kustomize.config.k8s.io/v1beta1"}`,
    "kind: Kustomization",
    `# What this overlay held is in ${into}/, with its transformers; tenants fleet adds go here.`,
    "resources:",
    `  - ${into}`,
    "",
  ].join(eol);
  cs.write(overlayFile, outer, { overwrite: true });
}

/**
 * The reverse, once the overlay includes nothing but the sub-overlay fleet made: the overlay is
 * again what it was, less what was removed from it since. A sub-overlay fleet did not make
 * (no mark), or an overlay that holds anything else, is left as it is.
 */
export function mergeIsolated(cs: ChangeSet, overlayFile: string, into: string): void {
  const dir = path.posix.dirname(overlayFile);
  const target = `${dir}/${into}`;
  const inner = cs.read(`${target}/kustomization.yaml`);
  const outer = cs.read(overlayFile);
  if (inner === undefined || outer === undefined || !inner.startsWith(MARK)) return;
  const doc = parseYaml(overlayFile, outer);
  // Lists fleet emptied (`patches: []`) hold nothing.
  const keys = isMap(doc.contents) ? doc.contents.items.filter((p) => !(isSeq(p.value) && p.value.items.length === 0)).map((p) => (isScalar(p.key) ? String(p.key.value) : "")) : [];
  const resources = listValues(overlayFile, outer, "resources");
  const alone = keys.every((k) => ["apiVersion", "kind", "resources"].includes(k)) && resources.length === 1 && entryTarget(dir, String(resources[0])) === target;
  if (!alone) return;
  const body = inner.split(/\r?\n/).slice(2).join(lineEnding(inner));
  const { text, moves } = respell(cs, `${target}/kustomization.yaml`, body, target, dir, target);
  cs.write(overlayFile, text, { overwrite: true });
  for (const [from, to] of moves) {
    cs.write(to, cs.read(from)!);
    cs.delete(from);
  }
  cs.delete(`${target}/kustomization.yaml`);
}
