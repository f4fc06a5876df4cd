/**
 * The checks, as data: each has an id, a severity, and a one-line fix, and finds the objects
 * that break one invariant of design section 2 in what a cluster applies. Severity is by
 * consequence: an error is what Flux would fail on, or a way for a tenant to act beyond its
 * namespace; a warning is hardening or layout convention. Each judges the cluster by its own
 * Flux version and its own lockdown flags, never by fleet's defaults.
 */
import { apiVersionStatus, lockdownFlagsMissing, strictSubstitution } from "../flux/index.js";
import type { Walked } from "./discover.js";
import { group, isFluxApi, isFluxKustomization, isHelmRelease, ref, type Applied, type K8sObject, type Severity } from "./model.js";
import type { RbacModel } from "./rbac.js";
import { outOfBounds, scopeFrom } from "../model/tenant-bounds.js";
import { parseGitUrl } from "../model/origin.js";
import { defaultServiceAccount, featureGate, missingLockdown, noCrossNamespaceRefs, noRemoteBases, RECONCILED_BY, type Controller, type Lockdown } from "./lockdown.js";
import { actsAsPlatform, nsOf, TENANT_LABEL, type Applier, type Tenancy } from "./tenancy.js";
import type { FleetConfig } from "../core/config.js";
import { ADMISSION_CHECKS } from "./admission.js";

/** The Flux release a cluster is judged by; `facts` is undefined when it is not known. */
export interface FluxVersion {
  shown: string;
  /** A release of the cluster's minor, for the facts tables. */
  facts?: string;
  from?: string;
}

export interface CheckContext {
  cluster: string;
  /** The path the cluster syncs (repo-relative). */
  clusterPath: string;
  /** The remote cluster (a kubeConfig target) these objects land on; undefined for the cluster itself. */
  target?: string;
  version: FluxVersion;
  lockdown: Lockdown;
  /** The controllers the cluster runs. */
  controllers: Controller[];
  walked: Walked;
  /** What lands on this target. */
  objects: Applied[];
  rbac: RbacModel;
  tenancy: Tenancy;
  /** The Kustomizations and HelmReleases this cluster's controllers reconcile (empty for a remote target). */
  appliers: Applier[];
  /** The tenant reconcilers acting on this target, one per identity. */
  tenants: Applier[];
  /** Namespaces that belong to tenants on this target. */
  tenantNamespaces: string[];
  tenantNamespaceSet: Set<string>;
  /** Whether any applier of the cluster is a tenant's (the lockdown is then a must, not hardening). */
  hasTenants: boolean;
  /** The tenants of the repo model: their namespace and the repo paths that are theirs (base, overlay files). */
  tenantFiles: Array<{ name: string; namespace: string; owns: string[] }>;
  /** The team other than the platform's that owns a repo path in CODEOWNERS, if any. */
  teamOwned: (file: string) => string | undefined;
  /** fleet.yaml, when the repo has a valid one. */
  config?: FleetConfig;
}

export interface Hit {
  at: Applied | { obj: K8sObject; file: string };
  message: string;
  severity?: Severity;
}

export interface Check {
  id: string;
  severity: Severity;
  title: string;
  fix: string;
  /** "cluster": judged once, for what this cluster's own Flux does; otherwise for every target its objects land on. */
  scope?: "cluster";
  run: (c: CheckContext) => Hit[];
}

/** A version constraint that matches more than one release. */
const RANGE = /[*xX^~<>|=]|\s/;
const flux = (c: CheckContext) => c.objects.filter((a) => isFluxKustomization(a.obj));
const tenantAppliers = (c: CheckContext) => c.appliers.filter((ap) => ap.tenant);
const who = (id: { namespace: string; name: string }) => `${id.namespace}:${id.name}`;
/** `namespace/name` of a Flux Kustomization, and of each Kustomization it depends on. */
const keyOf = (a: Applied) => `${nsOf(a)}/${a.obj.metadata?.name}`;
const dependsOn = (a: Applied): string[] =>
  ((a.obj.spec?.dependsOn ?? []) as Array<{ name: string; namespace?: string }>).map((d) => `${d.namespace ?? nsOf(a)}/${d.name}`);
const pathOf = (a: Applied) => String(a.obj.spec?.path ?? "").replace(/^\.\//, "");
const sourceKey = (kind: unknown, ns: string, name: unknown) => `${kind ?? "GitRepository"}/${ns}/${name}`;
/** The source an applier reads: a Kustomization's sourceRef, a HelmRelease's chart source. */
function sourceOf(a: Applied): string | undefined {
  const s = a.obj.spec ?? {};
  const r = isFluxKustomization(a.obj) ? s.sourceRef : (s.chart?.spec?.sourceRef ?? s.chartRef);
  return r?.name ? sourceKey(r.kind, r.namespace ?? nsOf(a), r.name) : undefined;
}

/** Whether a binding's subjects are all accounts (or the account group) of one namespace. */
const bindsOnly = (b: K8sObject, ns: string) =>
  (b.subjects ?? []).length > 0 &&
  (b.subjects ?? []).every((s: { kind?: string; name?: string; namespace?: string }) =>
    s.kind === "ServiceAccount" ? s.namespace === ns : s.kind === "Group" ? s.name === `system:serviceaccounts:${ns}` : s.kind === "User" && String(s.name).startsWith(`system:serviceaccount:${ns}:`),
  );

/**
 * The references a controller refuses under --no-cross-namespace-refs (kustomize-controller's
 * getSource, helm-controller's chart access, image-reflector's policy repository,
 * image-automation's source, notification-controller's event sources (each event from another
 * namespace is dropped, the Alert stays Ready) and receiver resources, source-watcher's
 * sources): not dependsOn, which the controllers never block.
 */
export function crossRefs(o: K8sObject): Array<{ field: string; namespace?: string }> {
  const s = o.spec ?? {};
  const own = o.metadata?.namespace ?? "default";
  const each = (field: string, list: unknown) =>
    (Array.isArray(list) ? list : []).map((x, i) => ({ field: `${field}[${i}]`, namespace: (x as { namespace?: string } | null)?.namespace }));
  return [
    { field: "spec.sourceRef", namespace: s.sourceRef?.namespace },
    { field: "spec.chart.spec.sourceRef", namespace: s.chart?.spec?.sourceRef?.namespace },
    { field: "spec.chartRef", namespace: s.chartRef?.namespace },
    { field: "spec.imageRepositoryRef", namespace: s.imageRepositoryRef?.namespace },
    ...(o.kind === "Alert" ? each("spec.eventSources", s.eventSources) : []),
    ...(o.kind === "Receiver" ? each("spec.resources", s.resources) : []),
    ...(o.kind === "ArtifactGenerator" ? each("spec.sources", s.sources) : []),
  ].filter((r) => r.namespace !== undefined && r.namespace !== own);
}

/**
 * The tenant whose files hold a repo path: the first (in the model's order) owning the path or a
 * directory above it. By path, so that a thousand tenants are not each asked about every object.
 */
function owners(tenants: CheckContext["tenantFiles"]): (file: string) => CheckContext["tenantFiles"][number] | undefined {
  const by = new Map<string, number>();
  tenants.forEach((t, i) => {
    for (const p of t.owns) if (!by.has(p)) by.set(p, i);
  });
  return (file) => {
    let best: number | undefined;
    for (let at = file; ; ) {
      const i = by.get(at);
      if (i !== undefined && (best === undefined || i < best)) best = i;
      const slash = at.lastIndexOf("/");
      if (slash < 0) break;
      at = at.slice(0, slash);
    }
    return best === undefined ? undefined : tenants[best];
  };
}

export const CHECKS: Check[] = [
  {
    id: "build-failed",
    severity: "error",
    scope: "cluster",
    title: "a path a Kustomization points at does not build",
    fix: "correct what the message names (kubectl kustomize on the path shows kustomize's own errors)",
    run: (c) => c.walked.buildErrors.map((e) => ({ at: e.at, message: e.message })),
  },
  {
    id: "path-outside-source",
    severity: "error",
    scope: "cluster",
    title: "a Kustomization's spec.path stays inside its source",
    fix: "set spec.path to a directory inside the source, relative to its root (e.g. ./apps/prod)",
    run: (c) =>
      c.walked.outside.map((o) => ({ at: o.at, message: `spec.path ${o.path} leaves the source; Flux would resolve it to ${o.inside} inside it, and validate reads nothing outside` })),
  },
  {
    id: "remote-base",
    severity: "error",
    scope: "cluster",
    title: "no remote bases where kustomize-controller runs with --no-remote-bases=true",
    fix: "copy the remote into the repository (or sync it with a Flux source of its own) and reference it by a local path",
    run: (c) =>
      noRemoteBases(c.lockdown)
        ? c.walked.remotes.map((r) => ({
            at: { obj: r.at.obj, file: r.remote.file },
            message: `${r.path}: ${r.remote.ref} is remote, and kustomize-controller runs with --no-remote-bases=true: it does not build`,
          }))
        : [],
  },
  {
    id: "cluster-entry-only-points",
    severity: "warning",
    scope: "cluster",
    title: "a cluster directory holds only flux-system and Flux Kustomizations that point elsewhere",
    fix: "move the object into infrastructure/ or tenants/ and point a Kustomization at it",
    run: (c) =>
      c.objects
        .filter((a) => a.appliedBy === "" && (c.clusterPath === "." || a.file.startsWith(`${c.clusterPath}/`)) && !/(^|\/)flux-system\//.test(a.file))
        .filter((a) => !isFluxKustomization(a.obj))
        .map((a) => ({ at: a, message: `${a.obj.kind} in the cluster directory; it should only point elsewhere (a layout convention: Flux applies it either way)` })),
  },
  {
    id: "depends-on-missing",
    severity: "error",
    scope: "cluster",
    title: "dependsOn names a Kustomization that exists",
    fix: "name an existing Kustomization, or remove the dependency",
    run: (c) => {
      const names = new Set(flux(c).map(keyOf));
      return flux(c).flatMap((a) =>
        dependsOn(a)
          .filter((d) => !names.has(d))
          .map((d) => ({ at: a, message: `depends on ${d}, which this cluster does not have: Flux waits for it forever` })),
      );
    },
  },
  {
    id: "depends-on-cycle",
    severity: "error",
    scope: "cluster",
    title: "dependsOn has no cycles",
    fix: "remove one dependency of the cycle",
    run: (c) => {
      const edges = new Map<string, string[]>();
      const at = new Map<string, Applied>();
      for (const a of flux(c)) {
        at.set(keyOf(a), a);
        edges.set(keyOf(a), dependsOn(a));
      }
      const hits: Hit[] = [];
      const state = new Map<string, "visiting" | "done">();
      const visit = (k: string, trail: string[]) => {
        if (state.get(k) === "done") return;
        if (state.get(k) === "visiting") {
          const cycle = trail.slice(trail.indexOf(k));
          hits.push({ at: at.get(k)!, message: `dependsOn cycle: ${[...cycle, k].join(" -> ")}` });
          return;
        }
        state.set(k, "visiting");
        for (const next of edges.get(k) ?? []) if (edges.has(next)) visit(next, [...trail, k]);
        state.set(k, "done");
      };
      for (const k of edges.keys()) visit(k, []);
      return hits;
    },
  },
  {
    id: "depends-on-direction",
    severity: "warning",
    scope: "cluster",
    title: "tenants depend on infrastructure, never the reverse",
    fix: "make the tenants Kustomization depend on infrastructure, not the other way round",
    run: (c) => {
      const tenant = new Set(tenantAppliers(c).map((ap) => ref(ap.at.obj)));
      const byName = new Map(flux(c).map((a) => [keyOf(a), a]));
      return flux(c)
        .filter((a) => pathOf(a).startsWith("infrastructure"))
        .flatMap((a) =>
          dependsOn(a)
            .map((d) => byName.get(d))
            .filter((t): t is Applied => !!t && (pathOf(t).startsWith("tenants") || tenant.has(ref(t.obj))))
            .map((t) => ({ at: a, message: `infrastructure depends on ${ref(t.obj)}, which a tenant could hold back` })),
        );
    },
  },
  {
    id: "platform-service-account",
    severity: "error",
    scope: "cluster",
    title: "under --default-service-account, platform Kustomizations and HelmReleases name the account they act as",
    fix: "set spec.serviceAccountName: kustomize-controller (helm-controller for a HelmRelease), or the account it should act as",
    run: (c) =>
      c.appliers
        .filter((ap) => !ap.tenant && !ap.named && defaultServiceAccount(c.lockdown, ap.controller))
        .map((ap) => ({
          at: ap.at,
          message: `has no serviceAccountName, and ${ap.controller} runs with --default-service-account=${ap.id!.name}: it acts as ${who(ap.id!)}${ap.actsOn ? ` on ${ap.actsOn}` : ""}, not with the controller's authority${c.rbac.bindingsFor(ap.id!).length === 0 && !ap.actsOn ? ", and nothing in this repository grants that account anything: Flux cannot apply it" : ""}`,
        })),
  },
  {
    id: "tenant-service-account",
    severity: "error",
    scope: "cluster",
    title: "tenant Kustomizations and HelmReleases act as the tenant's own reconciler",
    fix: "set spec.serviceAccountName to the tenant's reconciler ServiceAccount",
    run: (c) =>
      tenantAppliers(c)
        .filter((ap) => !ap.named)
        .map((ap) => {
          const why = `a tenant's (${ap.why}), and has no serviceAccountName`;
          if (!ap.id) return { at: ap.at, message: `${why}; ${ap.controller} runs without --default-service-account: it acts as ${ap.controller} itself, cluster-admin` };
          // Under the lockdown it acts as the default account. Unbound, Flux cannot apply. Named
          // `default`, it is the account every pod of the namespace runs as unless told otherwise:
          // any workload there holds the reconciler's rights. A dedicated name, bound, is the
          // tenant's reconciler by the cluster's own convention.
          const bound = ap.actsOn !== undefined || c.rbac.bindingsFor(ap.id).length > 0;
          if (!bound) return { at: ap.at, message: `${why}; it acts as ${who(ap.id)}, the account --default-service-account names, and nothing in this repository grants that account anything: Flux cannot apply it` };
          if (ap.id.name === "default") return { at: ap.at, message: `${why}; it acts as ${who(ap.id)}, the account every pod of the namespace runs as unless told otherwise: a workload there holds the reconciler's rights` };
          return { at: ap.at, severity: "warning" as const, message: `${why}; it acts as ${who(ap.id)}, the account --default-service-account names, which every applier of the namespace shares` };
        }),
  },
  {
    id: "tenant-target-namespace",
    severity: "warning",
    scope: "cluster",
    title: "tenant Kustomizations pin everything to their namespace with targetNamespace",
    fix: "set spec.targetNamespace to the tenant namespace",
    run: (c) =>
      tenantAppliers(c)
        .filter((ap) => isFluxKustomization(ap.at.obj) && ap.at.obj.spec?.targetNamespace !== nsOf(ap.at))
        .map((ap) => {
          const t = ap.at.obj.spec?.targetNamespace as string | undefined;
          // Aimed at another namespace: Flux fails there (no rights) or the tenant acts beyond its own.
          return t
            ? { at: ap.at, severity: "error" as const, message: `targetNamespace is ${t}, not ${nsOf(ap.at)}: the tenant's objects land outside its namespace` }
            : { at: ap.at, message: `targetNamespace is not set: objects that name another namespace are applied there, as far as ${ap.id ? who(ap.id) : "its account"} may` };
        }),
  },
  {
    id: "cross-namespace-ref",
    severity: "error",
    scope: "cluster",
    title: "Flux objects reference sources only in their own namespace",
    fix: "reference an object in the same namespace (the controllers run, or should run, with --no-cross-namespace-refs=true)",
    run: (c) => {
      const tenantObjects = new Set(tenantAppliers(c).map((ap) => ap.at));
      return c.objects
        .filter((a) => isFluxApi(a.obj) && RECONCILED_BY[a.obj.kind ?? ""])
        .flatMap((a) => {
          const controller = RECONCILED_BY[a.obj.kind!]!;
          const blocked = noCrossNamespaceRefs(c.lockdown, controller);
          const tenant = c.tenantNamespaceSet.has(nsOf(a)) || tenantObjects.has(a);
          if (!blocked && !tenant) return [];
          return crossRefs(a.obj).map((r) => ({
            at: a,
            severity: blocked ? ("error" as const) : ("warning" as const),
            message: blocked
              ? `${r.field} points into namespace ${r.namespace}, and ${controller} runs with --no-cross-namespace-refs=true: Flux refuses it`
              : `${r.field} points into namespace ${r.namespace}: a tenant reads another namespace's source (refused once the lockdown is on)`,
          }));
        });
    },
  },
  {
    id: "tenant-source-in-namespace",
    severity: "warning",
    scope: "cluster",
    title: "a tenant's source lives in the tenant's namespace",
    fix: "add the tenant's GitRepository (or other source) to its namespace",
    run: (c) => {
      const present = new Set(c.objects.map((o) => `${o.obj.kind}/${nsOf(o)}/${o.obj.metadata?.name}`));
      return tenantAppliers(c)
        .filter((ap) => isFluxKustomization(ap.at.obj) && !ap.at.obj.spec?.sourceRef?.namespace)
        .filter((ap) => !present.has(sourceOf(ap.at)!))
        .map((ap) => ({ at: ap.at, message: `its source ${ap.at.obj.spec?.sourceRef?.kind ?? "GitRepository"}/${ap.at.obj.spec?.sourceRef?.name} is not in namespace ${nsOf(ap.at)}` }));
    },
  },
  {
    id: "tenant-cluster-admin-rolebinding",
    severity: "warning",
    title: "tenant reconcilers are bound to a namespaced role, not cluster-admin",
    fix: "bind ClusterRole admin (or edit) instead of cluster-admin",
    run: (c) =>
      c.tenants.flatMap(({ id }) =>
        id
          ? c.rbac
              .bindingsFor(id)
              .filter((m) => m.binding.obj.kind === "RoleBinding" && m.role === "ClusterRole cluster-admin")
              .map((m) => ({
                at: m.binding,
                message: `binds ${who(id)} to cluster-admin; as a RoleBinding it grants nothing cluster-wide, but everything in ${nsOf(m.binding)}, its quota and RBAC included`,
              }))
          : [],
      ),
  },
  {
    id: "tenant-cluster-binding",
    severity: "error",
    title: "no ClusterRoleBinding applies to a tenant reconciler",
    fix: "bind the tenant with a RoleBinding in its namespace",
    run: (c) =>
      c.tenants.flatMap(({ id }) =>
        id
          ? c.rbac
              .bindingsFor(id)
              .filter((m) => m.binding.obj.kind === "ClusterRoleBinding")
              .map((m) => ({ at: m.binding, message: `gives ${who(id)} ${m.role} cluster-wide` }))
          : [],
      ),
  },
  {
    id: "isolation-cluster-scope",
    severity: "error",
    title: "a tenant reconciler cannot create ClusterRoleBindings",
    fix: "remove the binding that grants it; bind the tenant to admin in its namespace only",
    run: (c) =>
      // A tenant applier acting as the controller itself is tenant-service-account's finding; here, what RBAC grants.
      c.tenants.flatMap(({ id }) => {
        if (!id) return [];
        const g = c.rbac.canI(id, "create", "rbac.authorization.k8s.io", "clusterrolebindings");
        return g.length ? [{ at: g[0]!.binding, message: `kubectl auth can-i create clusterrolebindings --as=system:serviceaccount:${who(id)}: yes, through ${g[0]!.role}` }] : [];
      }),
  },
  {
    id: "isolation-other-tenant-secrets",
    severity: "error",
    title: "a tenant reconciler cannot read another tenant's secrets",
    fix: "remove the binding that reaches into the other namespace",
    run: (c) =>
      c.tenants.flatMap(({ id }) => {
        if (!id) return [];
        // One finding per binding that opens the door, naming every namespace it opens.
        const by = new Map<Applied, { role: string; namespaces: string[] }>();
        for (const [ns, [g]] of c.rbac.canIIn(id, "get", "", "secrets", c.tenantNamespaces, id.namespace)) {
          if (!g) continue;
          const entry = by.get(g.binding) ?? { role: g.role, namespaces: [] };
          entry.namespaces.push(ns);
          by.set(g.binding, entry);
        }
        return [...by].map(([binding, { role, namespaces }]) => ({
          at: binding,
          message: `kubectl auth can-i get secrets --as=system:serviceaccount:${who(id)}: yes in ${namespaces.join(", ")}, through ${role}`,
        }));
      }),
  },
  {
    id: "tenant-object-namespace",
    severity: "warning",
    title: "what an overlay adds for a tenant lives in a namespace, never in default",
    fix: "set metadata.namespace to the tenant's namespace",
    run: (c) =>
      c.objects
        .filter((a) => a.obj.metadata?.labels?.[TENANT_LABEL] && a.obj.kind !== "Namespace" && !a.obj.kind?.startsWith("Cluster"))
        .filter((a) => (a.obj.metadata?.namespace ?? "default") === "default" && !/^(ClusterRole|ClusterRoleBinding|CustomResourceDefinition)$/.test(a.obj.kind ?? ""))
        .map((a) => ({ at: a, message: `belongs to tenant ${a.obj.metadata!.labels![TENANT_LABEL]} but is in namespace ${a.obj.metadata?.namespace ?? "default (none set)"}, which every tenant shares` })),
  },
  {
    id: "tenant-file-platform-authority",
    severity: "error",
    scope: "cluster",
    title: "nothing in a tenant's files acts beyond the tenant's namespace with platform authority",
    fix: "move the object out of the tenant's files into the platform's (infrastructure/, clusters/), or scope it to the tenant's namespace and reconciler",
    run: (c) => {
      const platformBy = new Map(c.appliers.filter((ap) => isFluxKustomization(ap.at.obj) && actsAsPlatform(ap, c.lockdown)).map((ap) => [ref(ap.at.obj), ap]));
      const scopeOf = scopeFrom(c.objects.map((a) => a.obj));
      const ownerOf = owners(c.tenantFiles);
      const hits: Hit[] = [];
      for (const a of c.objects) {
        if (a.appliedBy !== "" && !platformBy.has(a.appliedBy)) continue;
        const t = ownerOf(a.file);
        if (!t) continue;
        // A ClusterRole grants nothing until bound, unless it aggregates into a role others hold
        // (aggregate-to-admin extends every tenant's admin); a ClusterRoleBinding of only the
        // tenant's own accounts is judged by what it grants (the isolation checks).
        const aggregates = Object.keys(a.obj.metadata?.labels ?? {}).some((l) => l.startsWith("rbac.authorization.k8s.io/aggregate-to-"));
        if ((a.obj.kind === "ClusterRole" && !aggregates) || (a.obj.kind === "ClusterRoleBinding" && bindsOnly(a.obj, t.namespace))) continue;
        const why = outOfBounds(a.obj, t.namespace, {
          defaultServiceAccount: !!defaultServiceAccount(c.lockdown, isHelmRelease(a.obj) ? "helm-controller" : "kustomize-controller"),
          scopeOf,
        }).join("; ");
        if (why) hits.push({ at: a, message: `declared in tenant ${t.name}'s files and applied as kustomize-controller (${a.appliedBy || "the cluster's sync"}): ${why}` });
      }
      return hits;
    },
  },
  {
    id: "platform-applies-tenant-content",
    severity: "error",
    scope: "cluster",
    title: "nothing a tenant owns is applied with platform authority",
    fix: "apply a tenant's repository or directory only through a Kustomization in the tenant's namespace that acts as the tenant's reconciler",
    run: (c) => {
      // A tenant's sources: those its own appliers read (by object, and by URL), and those beside them.
      const sources = new Map(c.objects.filter((a) => group(a.obj) === "source.toolkit.fluxcd.io").map((a) => [sourceKey(a.obj.kind, nsOf(a), a.obj.metadata?.name), a]));
      // A repository is the same whatever the spelling of its URL (scheme, .git); what is read from it is its ref.
      const repoOf = (k: string | undefined) => {
        const spec = k ? sources.get(k)?.obj.spec : undefined;
        const g = typeof spec?.url === "string" ? parseGitUrl(spec.url) : undefined;
        return g ? { repo: `${g.host}/${g.owner}/${g.repository}`.toLowerCase(), ref: JSON.stringify(spec?.ref ?? {}) } : undefined;
      };
      const tenantSources = new Map<string, string>();
      for (const ap of tenantAppliers(c)) {
        const k = sourceOf(ap.at);
        if (k) tenantSources.set(k, nsOf(ap.at));
      }
      // Sources in a namespace a tenant applies from are the tenant's too (a label alone says who owns a namespace, not its sources).
      const applying = new Set(tenantAppliers(c).map((ap) => nsOf(ap.at)).filter((ns) => !c.tenancy.platformNamespaces.has(ns)));
      for (const [k, a] of sources) if (applying.has(nsOf(a))) tenantSources.set(k, nsOf(a));
      const tenantRepos = new Map<string, { owner: string; ref: string }>();
      for (const [k, owner] of tenantSources) {
        const r = repoOf(k);
        if (r) tenantRepos.set(r.repo, { owner, ref: r.ref });
      }
      const filesBy = new Map<string, Set<string>>();
      for (const o of c.objects) if (o.appliedBy) (filesBy.get(o.appliedBy) ?? filesBy.set(o.appliedBy, new Set()).get(o.appliedBy)!).add(o.file);
      const hits: Hit[] = [];
      for (const ap of c.appliers.filter((ap) => !ap.tenant && actsAsPlatform(ap, c.lockdown))) {
        const as = ap.id ? who(ap.id) : ap.controller;
        const k = sourceOf(ap.at);
        const direct = k ? tenantSources.get(k) : undefined;
        const r = direct ? undefined : repoOf(k);
        const same = r ? tenantRepos.get(r.repo) : undefined;
        if (direct || (same && same.ref === r!.ref))
          hits.push({ at: ap.at, message: `reads ${k}, what tenant namespace ${direct ?? same!.owner} deploys from, and applies it as ${as}: whoever can push there has platform authority` });
        else if (same)
          hits.push({
            at: ap.at,
            severity: "warning",
            message: `reads ${k} from the repository tenant namespace ${same.owner} deploys from, at another ref, and applies it as ${as}: only branch protection keeps that tenant from pushing platform authority there`,
          });
        // A directory of this repository a team other than the platform's owns.
        const files = [...(filesBy.get(ref(ap.at.obj)) ?? [])];
        const team = files.map((f) => [f, c.teamOwned(f)] as const).find(([, t]) => t);
        if (team) hits.push({ at: ap.at, message: `applies ${team[0]}, which ${team[1]} owns in CODEOWNERS, as ${as}: that team can approve anything there with platform authority` });
      }
      return hits;
    },
  },
  {
    id: "prune",
    severity: "warning",
    title: "every Flux Kustomization prunes",
    fix: "set spec.prune: true",
    run: (c) => flux(c).filter((a) => a.obj.spec?.prune !== true).map((a) => ({ at: a, message: "prune is not true: objects removed from Git stay on the cluster" })),
  },
  {
    id: "version-pinned",
    severity: "warning",
    title: "what Flux installs is pinned: Helm charts to a version, OCI artifacts to a tag or digest",
    fix: "pin spec.chart.spec.version to an exact version (or spec.ref of the OCIRepository to a tag or digest)",
    run: (c) =>
      c.objects.flatMap((a) => {
        if (isHelmRelease(a.obj) && a.obj.spec?.chart?.spec) {
          const v = a.obj.spec.chart.spec.version;
          if (v === undefined || RANGE.test(String(v)))
            return [{ at: a, message: v === undefined ? "the chart version is not set: it follows the latest release" : `the chart version '${v}' is a range` }];
        }
        if (a.obj.kind === "OCIRepository" && group(a.obj) === "source.toolkit.fluxcd.io") {
          const r = a.obj.spec?.ref ?? {};
          if (!r.tag && !r.digest && !r.semver) return [{ at: a, message: "no ref: it follows the latest tag" }];
          if (!r.tag && !r.digest && RANGE.test(String(r.semver))) return [{ at: a, message: `ref.semver '${r.semver}' is a range: it follows the newest matching tag` }];
        }
        if (a.obj.kind === "FluxInstance" && group(a.obj) === "fluxcd.controlplane.io") {
          const d = a.obj.spec?.distribution ?? {};
          const hits: Hit[] = [];
          if (!/^v?\d+\.\d+\.\d+$/.test(String(d.version ?? ""))) hits.push({ at: a, message: `distribution.version '${d.version ?? ""}' is a range: the operator installs whatever Flux release is newest in it` });
          if (typeof d.artifact === "string" && /:latest$/.test(d.artifact)) hits.push({ at: a, message: `distribution.artifact ${d.artifact} follows the latest manifests` });
          return hits;
        }
        return [];
      }),
  },
  {
    id: "api-version",
    severity: "error",
    scope: "cluster",
    title: "Flux objects use API versions the cluster's Flux serves",
    fix: "run fleet upgrade --flux-version <the pin> to rewrite them, or change the apiVersion by hand",
    run: (c) => {
      if (c.version.facts === undefined) return [];
      // The tables answer once per apiVersion and kind, not once for each of ten thousand objects.
      const answers = new Map<string, ReturnType<typeof apiVersionStatus>>();
      const status = (apiVersion: string, kind: string) => {
        const k = JSON.stringify([apiVersion, kind]);
        if (!answers.has(k)) answers.set(k, apiVersionStatus(c.version.facts!, apiVersion, kind));
        return answers.get(k);
      };
      return c.objects.flatMap((a) => {
            const st = a.obj.apiVersion && a.obj.kind ? status(a.obj.apiVersion, a.obj.kind) : undefined;
            if (st === "unserved") return [{ at: a, message: `${a.obj.apiVersion} is not served by Flux ${c.version.shown}: the cluster refuses it` }];
            if (st === "deprecated") return [{ at: a, severity: "warning" as const, message: `${a.obj.apiVersion} is deprecated under Flux ${c.version.shown}` }];
            return [];
          });
    },
  },
  {
    id: "substitution-unresolved",
    severity: "warning",
    scope: "cluster",
    title: "every ${var} under postBuild substitution has a value or a default",
    fix: "add the variable to the cluster's cluster-vars (or substitute), give it a default ${var:=value}, or opt out with kustomize.toolkit.fluxcd.io/substitute: disabled",
    run: (c) => {
      // Strict from 2.9 unless the gate says otherwise; the gate, where set, is what the controller does.
      const gate = featureGate(c.lockdown, "kustomize-controller", "StrictPostBuildSubstitutions");
      const strict = gate ?? (c.version.facts !== undefined ? strictSubstitution(c.version.facts) : undefined);
      const why =
        strict === undefined
          ? " (the cluster's Flux version is not known: from 2.9 this fails the build, before it an empty string is substituted)"
          : strict
            ? ` (kustomize-controller substitutes strictly${gate === undefined ? ` under Flux ${c.version.shown}` : ""}: the build fails)`
            : " (Flux substitutes an empty string)";
      return c.walked.unresolved.map((u) => {
        const vars = `\${${u.names.join("}, ${")}}`;
        // No variable defined: Flux does not substitute at all, and the text lands as written.
        if (u.literal) return { at: u, message: `${vars} reaches the cluster as written: its Kustomization's postBuild defines no variable, so Flux substitutes nothing` };
        return { at: u, severity: strict ? ("error" as const) : ("warning" as const), message: `${vars} has no value and no default${why}` };
      });
    },
  },
  {
    id: "substitution-source-missing",
    severity: "warning",
    scope: "cluster",
    title: "the ConfigMaps and Secrets postBuild reads are in the repository",
    fix: "create it in the Kustomization's namespace (in this repository), or mark the reference optional: true",
    // A warning: bootstrap tooling (Terraform, a setup script) often creates it outside Git, where validate cannot look.
    run: (c) =>
      c.walked.missingVarSources.map((m) => ({
        at: m.ks,
        message: `substituteFrom ${m.kind}/${m.name} is not in namespace ${nsOf(m.ks)} in this repository: Flux fails the Kustomization unless something outside Git creates it`,
      })),
  },
  {
    id: "duplicate-object",
    // Flux applies both and fails neither: the two fight over the object (and one's prune deletes it).
    severity: "warning",
    title: "each object is applied once",
    fix: "remove one of the two, or give them different names",
    run: (c) => {
      const seen = new Map<string, Applied>();
      const hits: Hit[] = [];
      for (const a of c.objects) {
        const k = `${group(a.obj)}/${a.obj.kind}/${a.obj.metadata?.namespace ?? ""}/${a.obj.metadata?.name}`;
        const first = seen.get(k);
        if (first) hits.push({ at: a, message: `also applied from ${first.file}${first.appliedBy !== a.appliedBy ? ` (by ${first.appliedBy || "the cluster's sync"} and ${a.appliedBy || "the cluster's sync"}: they fight over it)` : ""}` });
        else seen.set(k, a);
      }
      return hits;
    },
  },
  {
    id: "lockdown",
    severity: "error",
    scope: "cluster",
    title: "the controllers run with the multi-tenancy lockdown",
    fix: "add the lockdown patches to the cluster's flux-system kustomization.yaml, or cluster.multitenant: true to its FluxInstance (fleet new-cluster writes them)",
    run: (c) => {
      // Flags the cluster's release does not take yet (the facts table says since when).
      const unsupported = c.version.facts !== undefined ? lockdownFlagsMissing(c.version.facts) : [];
      return c.controllers.flatMap((name) => {
        const missing = missingLockdown(c.lockdown, name);
        const predates = unsupported.filter((f) => f.controllers.includes(name) && missing.some((m) => m.startsWith(f.flag)));
        if (!missing.length) return [];
        const dep = c.objects.find((a) => a.obj.kind === "Deployment" && a.obj.metadata?.name === name && nsOf(a) === c.lockdown.namespace);
        return [
          {
            at: dep ?? { obj: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace: c.lockdown.namespace } }, file: c.lockdown.from },
            // Without tenants the lockdown is hardening; with them, it is what keeps them in their namespaces.
            severity: c.hasTenants ? ("error" as const) : ("warning" as const),
            message: `runs without ${missing.join(", ")}${c.hasTenants ? "" : " (no tenant applier found: hardening until there is one)"}${
              predates.length
                ? `; Flux ${c.version.shown} predates ${predates.map((f) => `${f.flag} (from ${f.since})`).join(", ")}: upgrade Flux before adding them, or the controllers refuse to start`
                : ""
            }`,
          },
        ];
      });
    },
  },
  {
    id: "image-push-branch",
    severity: "warning",
    title: "image automation pushes to a branch a pull request merges",
    fix: "set spec.git.push.branch to a branch of its own, e.g. flux-image-updates",
    run: (c) =>
      c.objects
        .filter((a) => a.obj.kind === "ImageUpdateAutomation")
        .filter((a) => {
          const g = a.obj.spec?.git ?? {};
          const push = g.push?.branch;
          return !push || push === g.checkout?.ref?.branch;
        })
        .map((a) => ({ at: a, message: "pushes straight to the branch Flux deploys; nothing reviews its commits" })),
  },
  ...ADMISSION_CHECKS,
];
