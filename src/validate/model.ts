/** What validate works on: objects as a cluster would apply them, each with the file it came from. */
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

export interface Applied {
  obj: K8sObject;
  /** Repo-relative file the object was declared in. */
  file: string;
  /** The Flux Kustomization that applies it ("" for the cluster's own entrypoint). */
  appliedBy: string;
}

export type Severity = "error" | "warning";

export interface Finding {
  id: string;
  severity: Severity;
  cluster: string;
  /** kind/namespace/name, or kind/name for cluster-scoped objects. */
  object: string;
  file: string;
  message: string;
  fix: string;
}

export interface ClusterResult {
  name: string;
  pin: string;
  objects: Applied[];
  /** Sources that are not this repo and were not mapped with --source. */
  notChecked: string[];
  findings: Finding[];
}

export const ref = (o: K8sObject): string =>
  [o.kind ?? "?", o.metadata?.namespace, o.metadata?.name ?? "?"].filter((x) => x !== undefined && x !== "").join("/");

export const group = (o: K8sObject): string => (o.apiVersion?.includes("/") ? o.apiVersion.split("/")[0]! : "");

export const isFlux = (o: K8sObject, kind: string, grp: string) => o.kind === kind && group(o) === grp;
export const isFluxKustomization = (o: K8sObject) => isFlux(o, "Kustomization", "kustomize.toolkit.fluxcd.io");
export const isHelmRelease = (o: K8sObject) => isFlux(o, "HelmRelease", "helm.toolkit.fluxcd.io");
