/**
 * A static RBAC evaluator (design 4.5), enough to prove tenant isolation offline: which bindings
 * apply to a service account, and whether they let it do a thing, at cluster scope or in a
 * namespace. A RoleBinding grants only within its own namespace and never a cluster-scoped
 * resource; a ClusterRoleBinding grants everywhere. The default roles are modelled.
 */
import type { Applied, K8sObject } from "./model.js";

export interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
}

const CORE_READ = ["pods", "pods/log", "services", "endpoints", "configmaps", "persistentvolumeclaims", "serviceaccounts", "events", "limitranges", "resourcequotas", "replicationcontrollers"];
const APPS = ["deployments", "statefulsets", "daemonsets", "replicasets"];
const READ = ["get", "list", "watch"];
const WRITE = ["create", "delete", "deletecollection", "patch", "update"];
const WORKLOAD_GROUPS = ["", "apps", "batch", "autoscaling", "networking.k8s.io", "policy"];
const WORKLOADS = [...CORE_READ.filter((r) => r !== "limitranges" && r !== "resourcequotas"), ...APPS, "jobs", "cronjobs", "horizontalpodautoscalers", "ingresses", "networkpolicies", "poddisruptionbudgets"];

const view: Rule[] = [{ apiGroups: WORKLOAD_GROUPS, resources: [...CORE_READ, ...APPS, "jobs", "cronjobs", "horizontalpodautoscalers", "ingresses", "networkpolicies", "poddisruptionbudgets", "namespaces"], verbs: READ }];
const edit: Rule[] = [
  ...view,
  { apiGroups: WORKLOAD_GROUPS, resources: [...WORKLOADS, "secrets"], verbs: [...READ, ...WRITE] },
  { apiGroups: [""], resources: ["serviceaccounts"], verbs: ["impersonate"] },
];

/** The default ClusterRoles, as far as isolation needs them (aggregation not modelled). */
export const BUILTIN_CLUSTER_ROLES: Record<string, Rule[]> = {
  "cluster-admin": [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }],
  admin: [...edit, { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles", "rolebindings"], verbs: ["*"] }],
  edit,
  view,
};

export interface Identity {
  namespace: string;
  name: string;
}

export const userOf = (id: Identity) => `system:serviceaccount:${id.namespace}:${id.name}`;
const groupsOf = (id: Identity) => ["system:serviceaccounts", `system:serviceaccounts:${id.namespace}`, "system:authenticated"];

export interface Grant {
  binding: Applied;
  role: string;
  rule: Rule;
}

export interface BindingMatch {
  binding: Applied;
  role: string;
  rules: Rule[];
  scope: string;
}

/**
 * How Flux installs itself: gotk-components binds its reconcilers to cluster-admin. A tenant that
 * may impersonate one of them has cluster-admin too, so the model knows it even when the cluster
 * is not bootstrapped yet.
 */
const fluxReconcilers = (namespace: string): Applied => ({
  file: "(flux install: gotk-components.yaml)",
  appliedBy: "",
  obj: {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: `cluster-reconciler-${namespace}` },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
    subjects: ["kustomize-controller", "helm-controller"].map((name) => ({ kind: "ServiceAccount", name, namespace })),
  },
});

export class RbacModel {
  private readonly bindings: Applied[];
  private readonly roles = new Map<string, Rule[]>();
  /** Every service account the cluster knows of: objects, binding subjects, Flux's own. */
  private readonly accounts: Identity[];

  /** `fluxNamespace`: where Flux runs on this cluster (null: it does not; a remote cluster Flux applies to). */
  constructor(objects: Applied[], opts: { fluxNamespace?: string | null } = {}) {
    const fluxNs = opts.fluxNamespace === undefined ? "flux-system" : opts.fluxNamespace;
    for (const [name, rules] of Object.entries(BUILTIN_CLUSTER_ROLES)) this.roles.set(`ClusterRole//${name}`, rules);
    for (const a of objects) {
      const o = a.obj;
      if (o.apiVersion?.startsWith("rbac.authorization.k8s.io/") && (o.kind === "ClusterRole" || o.kind === "Role"))
        this.roles.set(`${o.kind}/${o.kind === "Role" ? (o.metadata?.namespace ?? "default") : ""}/${o.metadata?.name}`, (o.rules ?? []) as Rule[]);
    }
    this.bindings = [
      ...(fluxNs ? [fluxReconcilers(fluxNs)] : []),
      ...objects.filter(
        (a) => a.obj.apiVersion?.startsWith("rbac.authorization.k8s.io/") && (a.obj.kind === "RoleBinding" || a.obj.kind === "ClusterRoleBinding"),
      ),
    ];
    const seen = new Map<string, Identity>();
    const add = (namespace: string | undefined, name: string | undefined) => {
      if (namespace && name) seen.set(`${namespace}/${name}`, { namespace, name });
    };
    for (const a of objects) if (a.obj.kind === "ServiceAccount") add(a.obj.metadata?.namespace ?? "default", a.obj.metadata?.name);
    for (const b of this.bindings)
      for (const s of b.obj.subjects ?? [])
        if (s.kind === "ServiceAccount") add(s.namespace ?? b.obj.metadata?.namespace, s.name);
    this.accounts = [...seen.values()];
  }

  private subjectMatches(b: K8sObject, id: Identity): boolean {
    const bindingNs = b.metadata?.namespace ?? "default";
    return (b.subjects ?? []).some((s) => {
      if (s.kind === "ServiceAccount") return s.name === id.name && (s.namespace ?? bindingNs) === id.namespace;
      if (s.kind === "User") return s.name === userOf(id);
      if (s.kind === "Group") return groupsOf(id).includes(String(s.name));
      return false;
    });
  }

  private readonly matched = new Map<string, BindingMatch[]>();

  /** Every binding that applies to the identity, with the rules it grants and where. */
  bindingsFor(id: Identity): BindingMatch[] {
    const key = `${id.namespace}/${id.name}`;
    let found = this.matched.get(key);
    if (!found) {
      found = this.match(id);
      this.matched.set(key, found);
    }
    return found;
  }

  private match(id: Identity): BindingMatch[] {
    const out: BindingMatch[] = [];
    for (const a of this.bindings) {
      const b = a.obj;
      if (!this.subjectMatches(b, id)) continue;
      const ns = b.kind === "RoleBinding" ? (b.metadata?.namespace ?? "default") : "";
      const kind = b.roleRef?.kind ?? "ClusterRole";
      const role = `${kind}/${kind === "Role" ? ns : ""}/${b.roleRef?.name}`;
      out.push({
        binding: a,
        role: `${kind} ${b.roleRef?.name}`,
        rules: this.roles.get(role) ?? [],
        scope: b.kind === "RoleBinding" ? `namespace ${ns}` : "cluster-wide",
      });
    }
    return out;
  }

  /**
   * What the identity can do, counting what it can do by impersonating service accounts it may
   * impersonate (edit and admin allow that in their namespace): `kubectl auth can-i` answers for
   * the identity alone, but a tenant that can become a more powerful account has its power.
   * The grants that allow it (empty: no); `namespace` undefined asks at cluster scope.
   */
  canI(id: Identity, verb: string, group: string, resource: string, namespace?: string): Grant[] {
    for (const { as, via } of this.reachable(id)) {
      const grants = this.directCanI(as, verb, group, resource, namespace);
      if (grants.length)
        return via.length ? grants.map((g) => ({ ...g, role: `${g.role} after acting as ${via.map(userOf).join(" then ")}` })) : grants;
    }
    return [];
  }

  private readonly reach = new Map<string, Array<{ as: Identity; via: Identity[] }>>();

  /** The identity itself, then every account it can act as, transitively (breadth first). */
  private reachable(id: Identity): Array<{ as: Identity; via: Identity[] }> {
    const key = `${id.namespace}/${id.name}`;
    const cached = this.reach.get(key);
    if (cached) return cached;
    const out = [{ as: id, via: [] as Identity[] }];
    const seen = new Set([key]);
    for (let i = 0; i < out.length; i++) {
      const { as, via } = out[i]!;
      // Impersonation rights are namespaced: ask once per namespace, not per account.
      const allowed = new Map<string, boolean>();
      for (const acc of this.accounts) {
        const k = `${acc.namespace}/${acc.name}`;
        if (seen.has(k)) continue;
        let ok = allowed.get(acc.namespace);
        if (ok === undefined) {
          // Three ways to act as another account of a namespace (design 4.5): impersonate it, mint
          // a token for it, or run a pod that mounts it.
          ok =
            this.directCanI(as, "impersonate", "", "serviceaccounts", acc.namespace).length > 0 ||
            this.directCanI(as, "create", "", "serviceaccounts/token", acc.namespace).length > 0 ||
            this.directCanI(as, "create", "", "pods", acc.namespace).length > 0;
          allowed.set(acc.namespace, ok);
        }
        if (!ok) continue;
        seen.add(k);
        out.push({ as: acc, via: [...via, acc] });
      }
    }
    this.reach.set(key, out);
    return out;
  }

  private directCanI(id: Identity, verb: string, group: string, resource: string, namespace?: string): Grant[] {
    const grants: Grant[] = [];
    for (const m of this.bindingsFor(id)) {
      const b = m.binding.obj;
      // A RoleBinding grants only in its namespace, and never cluster-scoped requests.
      if (b.kind === "RoleBinding" && (namespace === undefined || (b.metadata?.namespace ?? "default") !== namespace)) continue;
      for (const rule of m.rules) {
        const has = (list: string[] | undefined, v: string) => (list ?? []).some((x) => x === "*" || x === v);
        if (has(rule.verbs, verb) && has(rule.apiGroups, group) && has(rule.resources, resource))
          grants.push({ binding: m.binding, role: m.role, rule });
      }
    }
    return grants;
  }
}
