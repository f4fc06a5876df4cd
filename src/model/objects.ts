/**
 * A Kubernetes object as fleet reads it, from a file in the repo or from a build. The one
 * definition every command uses: the repo model, the proof before write and validate.
 */
import type { ChangeSet } from "../changeset/changeset.js";
import { parseAllYaml } from "../core/yaml-edit.js";

export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, any>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  roleRef?: { apiGroup?: string; kind?: string; name?: string };
  subjects?: Array<{ kind?: string; name?: string; namespace?: string; apiGroup?: string }>;
  rules?: Array<{ apiGroups?: string[]; resources?: string[]; verbs?: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }>;
}

/** The objects a file in the staged repo declares (none when it is missing). */
export function readObjects(cs: Pick<ChangeSet, "read">, file: string): K8sObject[] {
  const text = cs.read(file);
  if (text === undefined) return [];
  const out: K8sObject[] = [];
  for (const d of parseAllYaml(file, text)) {
    const o = d.toJS() as K8sObject | null;
    if (o && typeof o === "object" && !Array.isArray(o)) out.push(o);
  }
  return out;
}

/** kind/namespace/name, or kind/name for cluster-scoped objects. */
export const ref = (o: K8sObject): string =>
  [o.kind ?? "?", o.metadata?.namespace, o.metadata?.name ?? "?"].filter((x) => x !== undefined && x !== "").join("/");

export const group = (o: K8sObject): string => (o.apiVersion?.includes("/") ? o.apiVersion.split("/")[0]! : "");

/** Flux's own API groups: the toolkit's, and source-watcher's ArtifactGenerator. */
export const isFluxApi = (o: K8sObject): boolean => /\.(toolkit|extensions)\.fluxcd\.io$/.test(group(o));
export const isFlux = (o: K8sObject, kind: string, grp: string) => o.kind === kind && group(o) === grp;
export const isFluxKustomization = (o: K8sObject) => isFlux(o, "Kustomization", "kustomize.toolkit.fluxcd.io");
export const isHelmRelease = (o: K8sObject) => isFlux(o, "HelmRelease", "helm.toolkit.fluxcd.io");
export const isGitRepository = (o: K8sObject) => isFlux(o, "GitRepository", "source.toolkit.fluxcd.io");
