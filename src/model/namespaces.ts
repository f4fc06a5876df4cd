/**
 * Who in the repo already uses a namespace. A tenant's namespace is its own: a second
 * Kustomization applying the same Namespace (infrastructure creating it for a component, say)
 * fights over it, and pruning either one deletes it, with everything in it, under the other.
 */
import type { ChangeSet } from "../changeset/changeset.js";
import { parseAllYaml } from "../core/yaml-edit.js";
import { isYamlFile } from "./kustomize.js";

/** Directories no Flux build reads. */
const SKIP = new Set(["node_modules"]);

/** The YAML files below `dir`, except those `skip` says (a directory it says is not listed). */
function yamlFiles(cs: ChangeSet, dir: string, skip: (p: string) => boolean, out: string[]): void {
  const { files, dirs } = cs.list(dir);
  const at = (n: string) => (dir === "" ? n : `${dir}/${n}`);
  for (const f of files) if (isYamlFile(f) && !skip(at(f))) out.push(at(f));
  for (const d of dirs) if (!d.startsWith(".") && !SKIP.has(d) && !skip(at(d))) yamlFiles(cs, at(d), skip, out);
}

/**
 * The files (at most `limit`) outside `except` (repo paths, a directory covering what is below
 * it) that declare Namespace `ns` or put an object in it.
 */
export function namespaceUsers(cs: ChangeSet, ns: string, except: string[], limit = 3): string[] {
  const files: string[] = [];
  const below = except.map((e) => `${e}/`);
  const mine = (f: string) => except.includes(f) || below.some((e) => f.startsWith(e));
  // What `except` covers is not even listed: an environment overlay holds a thousand unit directories.
  yamlFiles(cs, "", mine, files);
  const out: string[] = [];
  for (const file of files) {
    if (out.length >= limit) break;
    // Most files never mention it: not decoded, not parsed.
    if (!cs.includes(file, ns)) continue;
    const text = cs.read(file)!;
    try {
      for (const d of parseAllYaml(file, text)) {
        const kind = d.getIn(["kind"]);
        const name = d.getIn(["metadata", "name"]);
        // A kustomization's `namespace:` and a Flux Kustomization's targetNamespace put objects there too.
        const puts = d.getIn(["metadata", "namespace"]) === ns || d.getIn(["spec", "targetNamespace"]) === ns || (kind === "Kustomization" && d.get("namespace") === ns);
        if ((kind === "Namespace" && name === ns) || puts) {
          out.push(file);
          break;
        }
      }
    } catch {
      // A file fleet cannot parse is kustomize's to report, not a claim on the namespace.
    }
  }
  return out;
}
