/** What validate works on: objects as a cluster would apply them, each with the file it came from. */
import type { K8sObject } from "../model/objects.js";

export { group, isFlux, isFluxApi, isFluxKustomization, isHelmRelease, ref, type K8sObject } from "../model/objects.js";

export interface Applied {
  obj: K8sObject;
  /** Repo-relative file the object was declared in. */
  file: string;
  /** The Flux Kustomization that applies it ("" for the cluster's own entrypoint). */
  appliedBy: string;
  /**
   * The cluster it lands on when that is not this one: a Kustomization with spec.kubeConfig
   * applies to another cluster ("<namespace>/<kubeconfig secret>", or "provider:<name>"), and so
   * does everything those objects apply. Absent for this cluster.
   */
  target?: string;
}

export type Severity = "error" | "warning";

export interface Finding {
  id: string;
  severity: Severity;
  cluster: string;
  /** The remote cluster (kubeConfig `namespace/secret`) the object lands on, when it is not this one. */
  target?: string;
  /** kind/namespace/name, or kind/name for cluster-scoped objects. */
  object: string;
  file: string;
  message: string;
  fix: string;
}

export interface ClusterResult {
  name: string;
  /** A remote cluster this one's Flux applies to (kubeConfig `namespace/secret`); undefined for the cluster itself. */
  target?: string;
  pin: string;
  objects: Applied[];
  /** Sources that are not this repo and were not mapped with --source. */
  notChecked: string[];
  findings: Finding[];
}
