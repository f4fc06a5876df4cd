/**
 * What an account bound by a RoleBinding in one namespace may not apply: what Kubernetes would
 * refuse when kustomize-controller applies a tenant's objects as the tenant's reconciler.
 * Only what is certain is claimed: a RoleBinding never grants cluster-scoped requests nor any
 * in another namespace (design 4.5); for the built-in kinds the modelled roles know, the role's
 * rules say; a RoleBinding or Role is judged by RBAC's escalation check (an account may grant
 * only what it holds itself, unless it may `bind` or `escalate`). Any other kind (Flux's, a
 * CRD's) reaches `admin` and `edit` through aggregated ClusterRoles, which are not modelled,
 * so it is never claimed refused.
 */
import type { K8sObject } from "../model/objects.js";
import { group } from "../model/objects.js";
import type { Identity, RbacModel, Rule } from "../validate/rbac.js";

/** The resource of each built-in kind the modelled roles cover, by API group. */
const RESOURCES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "": {
    ConfigMap: "configmaps",
    Secret: "secrets",
    Service: "services",
    ServiceAccount: "serviceaccounts",
    PersistentVolumeClaim: "persistentvolumeclaims",
    Pod: "pods",
    ReplicationController: "replicationcontrollers",
    ResourceQuota: "resourcequotas",
    LimitRange: "limitranges",
  },
  apps: { Deployment: "deployments", StatefulSet: "statefulsets", DaemonSet: "daemonsets", ReplicaSet: "replicasets" },
  batch: { Job: "jobs", CronJob: "cronjobs" },
  autoscaling: { HorizontalPodAutoscaler: "horizontalpodautoscalers" },
  "networking.k8s.io": { Ingress: "ingresses", NetworkPolicy: "networkpolicies" },
  policy: { PodDisruptionBudget: "poddisruptionbudgets" },
  "rbac.authorization.k8s.io": { Role: "roles", RoleBinding: "rolebindings" },
};

const RBAC = "rbac.authorization.k8s.io";

/** Every (verb, group, resource) a rule grants, with `*` kept as `*` (only a `*` of the account's own covers it). */
const grantsOf = (rules: Rule[]) =>
  rules.flatMap((r) => (r.verbs ?? []).flatMap((verb) => (r.apiGroups ?? []).flatMap((g) => (r.resources ?? []).map((res) => ({ verb, group: g, resource: res })))));

/**
 * Why the account may not apply the object, or undefined when it may (or it cannot be known
 * here). `scope` is the object's scope as the cluster's CRDs and the known kinds say.
 */
export function refusal(o: K8sObject, id: Identity, rbac: RbacModel, scope: "Cluster" | "Namespaced" | undefined): string | undefined {
  const what = `${o.kind}/${o.metadata?.name ?? "?"}`;
  if (scope === "Cluster") return `${what} is cluster-scoped, and a RoleBinding in ${id.namespace} never grants that`;
  const ns = o.metadata?.namespace;
  if (ns !== undefined && ns !== id.namespace) return `${what} is in namespace ${ns}, and the reconciler is bound only in ${id.namespace}`;
  if (scope === undefined) return undefined;
  const g = group(o);
  const resource = RESOURCES[g]?.[o.kind ?? ""];
  if (!resource) return undefined;
  // Flux applies server side: a patch, which creates what is not there yet.
  if (rbac.canI(id, "patch", g, resource, id.namespace).length === 0) return `${what}: the reconciler's role may not change ${resource}`;
  if (g !== RBAC) return undefined;
  const ref = (o.kind === "RoleBinding" ? o.roleRef : undefined) as { kind?: string; name?: string } | undefined;
  const rules = o.kind === "Role" ? ((o.rules ?? []) as Rule[]) : ref?.kind === "ClusterRole" || ref?.kind === "Role" ? rbac.rulesOf(ref.kind, id.namespace, String(ref.name)) : undefined;
  if (!rules) return undefined;
  // RBAC's escalation check: granting what one does not hold needs bind (or escalate for a Role).
  const bypass = rbac.canI(id, o.kind === "Role" ? "escalate" : "bind", RBAC, o.kind === "Role" ? "roles" : "clusterroles", id.namespace).length > 0;
  if (bypass) return undefined;
  const missing = grantsOf(rules).find((gr) => rbac.canI(id, gr.verb, gr.group, gr.resource, id.namespace).length === 0);
  if (!missing) return undefined;
  const grants = o.kind === "Role" ? "grants" : `binds ${ref!.kind} ${ref!.name}, which grants`;
  return `${what} ${grants} ${missing.verb} on ${missing.resource === "*" ? "every resource" : missing.resource}${missing.group && missing.group !== "*" ? ` (${missing.group})` : ""}, which the reconciler does not hold: Kubernetes refuses the escalation`;
}

/**
 * Whether the account may delete the object (kustomize-controller prunes as the account it
 * applies as): once the object leaves the source, Flux removes it without help. Only claimed
 * where certain, as for refusal.
 */
export function prunableBy(o: K8sObject, id: Identity, rbac: RbacModel, scope: "Cluster" | "Namespaced" | undefined): boolean {
  if (scope !== "Namespaced" || (o.metadata?.namespace ?? id.namespace) !== id.namespace) return false;
  const g = group(o);
  const resource = RESOURCES[g]?.[o.kind ?? ""];
  return resource !== undefined && rbac.canI(id, "delete", g, resource, id.namespace).length > 0;
}
