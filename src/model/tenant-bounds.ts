/**
 * What a tenant's own files may declare. Everything in tenants/base/<t>/ (and the tenant's files
 * in each overlay) is applied by the platform's Kustomization as kustomize-controller, which is
 * cluster-admin: an object there that reaches beyond the tenant's namespace (a Kustomization in
 * flux-system running as the controller, a ClusterRoleBinding, a Secret in another namespace)
 * is platform authority in a file that looks like the tenant's. One rule, used by the proof
 * before write and by validate.
 */
import { isFluxKustomization, isHelmRelease, type K8sObject } from "./objects.js";

/** Kinds that live outside any namespace (built in and common add-ons'); anything else without a namespace lands in `default`. */
const CLUSTER_SCOPED = new Set([
  "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume", "StorageClass", "PriorityClass",
  "IngressClass", "RuntimeClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding", "APIService", "CSIDriver", "CSINode", "VolumeAttachment", "VolumeSnapshotClass", "Node",
  "CertificateSigningRequest", "PodSecurityPolicy", "FlowSchema", "PriorityLevelConfiguration", "GatewayClass", "ConstraintTemplate",
]);

/**
 * A namespace on a cluster-scoped object is ignored by the API server, so it is the kind that
 * says. Add-ons name theirs Cluster* (ClusterSecretStore, ClusterIssuer, ClusterPolicy).
 */
export const isClusterScoped = (o: K8sObject) => CLUSTER_SCOPED.has(o.kind ?? "") || /^Cluster[A-Z]/.test(o.kind ?? "");

/** The ServiceAccount fleet names each tenant's reconciler (new-tenant writes it; lockdown's default). */
export const RECONCILER = "reconciler";

/** The controllers' own accounts: naming one is running with the controller's cluster-admin. */
export const CONTROLLER_ACCOUNTS: ReadonlySet<string> = new Set(["kustomize-controller", "helm-controller"]);

/**
 * Why `obj`, declared in a file of the tenant whose namespace is `namespace`, reaches beyond it,
 * as sentences; empty when it stays inside. Under --default-service-account a Flux object
 * without an account applies as that account in its own namespace, so only then is that fine.
 */
export function outOfBounds(
  o: K8sObject,
  namespace: string,
  opts: { defaultServiceAccount?: boolean; scopeOf?: (o: K8sObject) => "Cluster" | "Namespaced" | undefined } = {},
): string[] {
  const out: string[] = [];
  const name = o.metadata?.name ?? "?";
  const ns = o.metadata?.namespace;
  if (o.kind === "Namespace") {
    if (name !== namespace) out.push(`Namespace/${namespace} became Namespace/${name}`);
  } else if (o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding") {
    out.push(`${o.kind}/${name} is cluster-wide: a tenant may bind roles only by RoleBindings in ${namespace}`);
  } else {
    // A custom kind's scope is its CRD's; where the caller cannot tell, nothing is claimed.
    const scope = opts.scopeOf ? opts.scopeOf(o) : isClusterScoped(o) ? "Cluster" : "Namespaced";
    if (scope === "Cluster") out.push(`${o.kind}/${name} is cluster-scoped: the only one a tenant may have is its Namespace ${namespace}`);
    else if (scope === "Namespaced" && ns !== namespace) out.push(`${o.kind}/${name} is in ${ns ? `namespace ${ns}` : "no namespace (it would land in default)"}, not ${namespace}`);
  }
  if (isFluxKustomization(o) || isHelmRelease(o)) {
    const sa = o.spec?.serviceAccountName;
    if ((typeof sa !== "string" || sa === "") && !opts.defaultServiceAccount)
      out.push(`${o.kind} ${ns ?? "default"}/${name} sets no serviceAccountName: it would run as ${isHelmRelease(o) ? "helm" : "kustomize"}-controller (cluster-admin)`);
    else if (typeof sa === "string" && CONTROLLER_ACCOUNTS.has(sa)) out.push(`${o.kind} ${ns ?? "default"}/${name} runs as ${sa}, the controller's own account (cluster-admin)`);
  }
  return out;
}

/** API groups Kubernetes itself serves (and Flux's and the Flux Operator's): their kinds' scope is known here. */
const KNOWN_GROUP = /^(|apps|batch|autoscaling|policy|[a-z.]*\.k8s\.io|[a-z]+\.toolkit\.fluxcd\.io|source\.extensions\.fluxcd\.io|fluxcd\.controlplane\.io)$/;

/**
 * The scope of each kind as a set of objects says it: a custom kind by its CRD among them, a
 * built-in or Flux kind by what is known here, anything else undefined (its CRD is installed by
 * something not in view, such as a Helm chart).
 */
export function scopeFrom(objects: K8sObject[]): (o: K8sObject) => "Cluster" | "Namespaced" | undefined {
  const crds = new Map<string, "Cluster" | "Namespaced">();
  for (const o of objects)
    if (o.kind === "CustomResourceDefinition" && o.spec?.names?.kind && o.spec.group)
      crds.set(`${o.spec.group}/${o.spec.names.kind}`, o.spec.scope === "Cluster" ? "Cluster" : "Namespaced");
  return (o) => {
    const group = (o.apiVersion ?? "").includes("/") ? o.apiVersion!.split("/")[0]! : "";
    const crd = crds.get(`${group}/${o.kind}`);
    if (crd) return crd;
    if (KNOWN_GROUP.test(group)) return isClusterScoped(o) ? "Cluster" : "Namespaced";
    return undefined;
  };
}
