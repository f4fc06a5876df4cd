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
  // Every verb on Roles and RoleBindings but bind and escalate: Kubernetes' escalation check still applies to admin.
  admin: [...edit, { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles", "rolebindings"], verbs: [...READ, ...WRITE] }],
  edit,
  view,
};

export interface Identity {
  namespace: string;
  name: string;
}

/** Whether a rule allows the verb on the resource of the group. */
function allows(rule: Rule, verb: string, group: string, resource: string): boolean {
  const has = (list: string[] | undefined, v: string) => (list ?? []).some((x) => x === "*" || x === v);
  return has(rule.verbs, verb) && has(rule.apiGroups, group) && has(rule.resources, resource);
}

/**
 * What `more` grants that `than` does not, as `verb group/resource` (each verb, group and resource
 * a rule of `more` names, a wildcard taken as itself): empty when `than` covers it all.
 */
export function grantsBeyond(more: Rule[], than: Rule[]): string[] {
  const out = new Set<string>();
  for (const r of more)
    for (const verb of r.verbs ?? [])
      for (const group of r.apiGroups ?? [])
        for (const resource of r.resources ?? [])
          if (!than.some((t) => allows(t, verb, group, resource))) out.add(`${verb} ${group ? `${group}/` : ""}${resource}`);
  return [...out];
}

/** The key a binding subject is found by (as subjectMatches compares it); undefined for a subject that matches no service account. */
function subjectKey(s: { kind?: string; name?: string; namespace?: string }, bindingNs: string): string | undefined {
  if (s.kind === "ServiceAccount") return `ServiceAccount:${s.namespace ?? bindingNs}/${s.name}`;
  if (s.kind === "User") return `User:${s.name}`;
  if (s.kind === "Group") return `Group:${String(s.name)}`;
  return undefined;
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
    this.bindings.forEach((a, i) => {
      const subjects = a.obj.subjects;
      if (subjects === undefined || subjects === null) return;
      if (!Array.isArray(subjects) || subjects.some((x) => !x || typeof x !== "object")) return void this.unindexed.push(i);
      for (const key of new Set(subjects.map((s) => subjectKey(s, a.obj.metadata?.namespace ?? "default"))))
        if (key) (this.bySubject.get(key) ?? this.bySubject.set(key, []).get(key)!).push(i);
    });
    this.accounts.forEach((acc, i) => (this.accountsIn.get(acc.namespace) ?? this.accountsIn.set(acc.namespace, []).get(acc.namespace)!).push(i));
  }

  /**
   * Bindings by the subject they name (subjectKey), so that finding an identity's bindings does
   * not read every binding of the cluster: a thousand tenants would make that a million reads.
   * A binding whose subjects are not a list is always a candidate (subjectMatches judges it).
   */
  private readonly bySubject = new Map<string, number[]>();
  private readonly unindexed: number[] = [];
  /** Account indices by namespace, in the order of `accounts`. */
  private readonly accountsIn = new Map<string, number[]>();

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
    const keys = [`ServiceAccount:${id.namespace}/${id.name}`, `User:${userOf(id)}`, ...groupsOf(id).map((g) => `Group:${g}`)];
    const candidates = [...new Set([...this.unindexed, ...keys.flatMap((k) => this.bySubject.get(k) ?? [])])].sort((a, b) => a - b);
    for (const a of candidates.map((i) => this.bindings[i]!)) {
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

  /** The rules of a role the cluster has (a built-in ClusterRole, or one applied), or undefined when it is not known here. */
  rulesOf(kind: "ClusterRole" | "Role", namespace: string, name: string): Rule[] | undefined {
    return this.roles.get(`${kind}/${kind === "Role" ? namespace : ""}/${name}`);
  }

  /**
   * What the identity can do, counting what it can do by impersonating service accounts it may
   * impersonate (edit and admin allow that in their namespace): `kubectl auth can-i` answers for
   * the identity alone, but a tenant that can become a more powerful account has its power.
   * The grants that allow it (empty: no); `namespace` undefined asks at cluster scope.
   */
  canI(id: Identity, verb: string, group: string, resource: string, namespace?: string): Grant[] {
    for (const { as, via } of this.reachable(id)) {
      if (!this.mayGrant(as, verb, group, resource, namespace)) continue;
      const grants = this.directCanI(as, verb, group, resource, namespace);
      if (grants.length)
        return via.length ? grants.map((g) => ({ ...g, role: `${g.role} after acting as ${via.map(userOf).join(" then ")}` })) : grants;
    }
    return [];
  }

  /**
   * canI in each of `namespaces` but `except` (the identity's own, typically), for those where it
   * is yes, in the order given: the same answers, without asking every namespace of every account.
   * Linear in the namespaces only where some identity it reaches holds the grant cluster-wide, so
   * that a thousand tenants asked about each other cost a thousand small lookups, not a million.
   */
  canIIn(id: Identity, verb: string, group: string, resource: string, namespaces: readonly string[], except?: string): Map<string, Grant[]> {
    const out = new Map<string, Grant[]>();
    const reach = this.reachable(id).map((r) => this.where(r.as, verb, group, resource));
    // Only namespaces where some identity it reaches holds a grant (or all, when one holds it cluster-wide) can answer yes.
    let open: readonly string[];
    if (reach.some((w) => w.cluster)) open = namespaces;
    else {
      const order = this.positions(namespaces);
      open = [...new Set(reach.flatMap((w) => [...w.namespaces]))].filter((ns) => order.has(ns)).sort((a, b) => order.get(a)! - order.get(b)!);
    }
    for (const ns of open) {
      if (ns === except) continue;
      const grants = this.canI(id, verb, group, resource, ns);
      if (grants.length) out.set(ns, grants);
    }
    return out;
  }

  /** Each namespace's place in a list asked about (the same list for every tenant of a cluster). */
  private readonly orders = new WeakMap<readonly string[], Map<string, number>>();
  private positions(namespaces: readonly string[]): Map<string, number> {
    let m = this.orders.get(namespaces);
    if (!m) {
      m = new Map();
      namespaces.forEach((ns, i) => m!.has(ns) || m!.set(ns, i));
      this.orders.set(namespaces, m);
    }
    return m;
  }

  private readonly summaries = new Map<string, { cluster: boolean; namespaces: Set<string> }>();

  /** Where directCanI can say yes for the identity: everywhere (a ClusterRoleBinding grants it), or in these namespaces. */
  private where(id: Identity, verb: string, group: string, resource: string): { cluster: boolean; namespaces: Set<string> } {
    const key = JSON.stringify([id.namespace, id.name, verb, group, resource]);
    let w = this.summaries.get(key);
    if (!w) {
      w = { cluster: false, namespaces: new Set() };
      for (const m of this.bindingsFor(id)) {
        if (!m.rules.some((rule) => allows(rule, verb, group, resource))) continue;
        if (m.binding.obj.kind === "RoleBinding") w.namespaces.add(m.binding.obj.metadata?.namespace ?? "default");
        else w.cluster = true;
      }
      this.summaries.set(key, w);
    }
    return w;
  }

  private mayGrant(id: Identity, verb: string, group: string, resource: string, namespace: string | undefined): boolean {
    const w = this.where(id, verb, group, resource);
    return w.cluster || (namespace !== undefined && w.namespaces.has(namespace));
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
      // Three ways to act as another account of a namespace (design 4.5): impersonate it, mint
      // a token for it, or run a pod that mounts it.
      const ways = [this.where(as, "impersonate", "", "serviceaccounts"), this.where(as, "create", "", "serviceaccounts/token"), this.where(as, "create", "", "pods")];
      // Only the accounts of namespaces where one of them is granted (all of them, where one is granted cluster-wide), in order.
      const candidates = ways.some((w) => w.cluster)
        ? this.accounts
        : [...new Set(ways.flatMap((w) => [...w.namespaces]))]
            .flatMap((ns) => this.accountsIn.get(ns) ?? [])
            .sort((a, b) => a - b)
            .map((i) => this.accounts[i]!);
      for (const acc of candidates) {
        const k = `${acc.namespace}/${acc.name}`;
        if (seen.has(k)) continue;
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
      for (const rule of m.rules) if (allows(rule, verb, group, resource)) grants.push({ binding: m.binding, role: m.role, rule });
    }
    return grants;
  }
}
