/**
 * What a tenant's own files may declare. Everything in tenants/base/<t>/ (and the tenant's files
 * in each overlay) is applied by the platform's Kustomization as kustomize-controller, which is
 * cluster-admin: an object there that reaches beyond the tenant's namespace (a Kustomization in
 * flux-system running as the controller, a ClusterRoleBinding, a Secret in another namespace)
 * is platform authority in a file that looks like the tenant's. One rule, used by the proof
 * before write and by validate.
 */
import { isFluxKustomization, isHelmRelease, type K8sObject } from "./objects.js";

/** Kinds with no namespace (built in and Flux's); anything else is namespaced. */
const CLUSTER_SCOPED = new Set([
  "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume", "StorageClass", "PriorityClass",
  "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
  "APIService", "IngressClass", "RuntimeClass", "CSIDriver", "CSINode", "VolumeAttachment", "Node", "CertificateSigningRequest",
  "PodSecurityPolicy", "FlowSchema", "PriorityLevelConfiguration", "ClusterIssuer", "ClusterPolicy",
]);

export const isClusterScoped = (o: K8sObject) => CLUSTER_SCOPED.has(o.kind ?? "");

/** The controllers' own accounts: naming one is running with the controller's cluster-admin. */
const CONTROLLER_ACCOUNTS = new Set(["kustomize-controller", "helm-controller"]);

/** Why `obj`, declared in a file of the tenant whose namespace is `namespace`, reaches beyond it; undefined when it does not. */
export function beyondTenant(obj: K8sObject, namespace: string, opts: { defaultServiceAccount?: boolean } = {}): string | undefined {
  const what = `${obj.kind ?? "?"}/${obj.metadata?.name ?? "?"}`;
  if (obj.kind === "Namespace") return obj.metadata?.name === namespace ? undefined : `${what} is a namespace other than the tenant's ${namespace}`;
  if (isClusterScoped(obj)) return `${what} is cluster-scoped: it acts outside the tenant's namespace ${namespace}`;
  const ns = obj.metadata?.namespace;
  if (ns !== namespace) return `${what} is in namespace ${ns ?? "(none: wherever it is applied)"}, not the tenant's ${namespace}`;
  if (isFluxKustomization(obj) || isHelmRelease(obj)) {
    const sa = obj.spec?.serviceAccountName as string | undefined;
    if (!sa && !opts.defaultServiceAccount) return `${what} has no serviceAccountName: unless the controllers run with --default-service-account it applies as the controller, which is cluster-admin`;
    if (sa && CONTROLLER_ACCOUNTS.has(sa)) return `${what} runs as ${sa}, the controller's own account`;
  }
  return undefined;
}
