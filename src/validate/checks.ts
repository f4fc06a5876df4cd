/**
 * The checks, as data: each has an id, a severity, and a one-line fix, and finds the objects
 * that break one invariant of design section 2 in what a cluster applies.
 */
import { apiVersionStatus, strictSubstitution } from "../flux/index.js";
import type { Walked } from "./discover.js";
import { group, isFluxKustomization, isHelmRelease, ref, type Applied, type K8sObject, type Severity } from "./model.js";
import { RbacModel, type Identity } from "./rbac.js";
import { outOfBounds } from "../model/tenant-bounds.js";

export interface CheckContext {
  cluster: string;
  pin: string;
  walked: Walked;
  objects: Applied[];
  rbac: RbacModel;
  /** The tenant reconcilers: who each tenant Kustomization or HelmRelease applies as. */
  tenants: Array<{ applier: Applied; id: Identity | undefined }>;
  /** Whether the cluster's controllers run with --default-service-account (lockdown seen). */
  defaultSaFlag: boolean | undefined;
  /** Whether kustomize-controller runs with --no-remote-bases=true. */
  noRemoteBases: boolean;
  /** Namespaces that belong to tenants. */
  tenantNamespaces: string[];
  tenantNamespaceSet: Set<string>;
  /** The tenants of the repo model: their namespace and the repo paths that are theirs (base, overlay files). */
  tenantFiles: Array<{ name: string; namespace: string; owns: string[] }>;
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
  run: (c: CheckContext) => Hit[];
}

const TENANT_LABEL = "toolkit.fluxcd.io/tenant";
const PLATFORM_NS = "flux-system";
const nsOf = (o: K8sObject) => o.metadata?.namespace ?? "default";
const flux = (c: CheckContext) => c.objects.filter((a) => isFluxKustomization(a.obj));
const tenantAppliers = (c: CheckContext) => c.objects.filter((a) => isTenantApplier(a, c.tenantNamespaces));
const tenantNamespaces = (c: CheckContext) => c.tenantNamespaces;

/**
 * Tenants are what the platform hands a namespace to: a namespace holding a Flux Kustomization
 * outside flux-system, or one labelled toolkit.fluxcd.io/tenant. A HelmRelease is a tenant's only
 * in such a namespace; elsewhere it is the platform's own (Flux's kustomize-helm example).
 */
export function tenantNamespacesOf(objects: Applied[]): string[] {
  const ns = new Set<string>();
  for (const a of objects) {
    if (isFluxKustomization(a.obj) && nsOf(a.obj) !== PLATFORM_NS) ns.add(nsOf(a.obj));
    if (a.obj.kind === "Namespace" && a.obj.metadata?.labels?.[TENANT_LABEL] && a.obj.metadata.name) ns.add(a.obj.metadata.name);
  }
  return [...ns].sort();
}

export const isTenantApplier = (a: Applied, tenantNs: string[]) =>
  (isFluxKustomization(a.obj) && nsOf(a.obj) !== PLATFORM_NS) || (isHelmRelease(a.obj) && tenantNs.includes(nsOf(a.obj)));
/** `namespace/name` of a Flux Kustomization, and of each Kustomization it depends on. */
const keyOf = (a: Applied) => `${nsOf(a.obj)}/${a.obj.metadata?.name}`;
const dependsOn = (a: Applied): string[] =>
  ((a.obj.spec?.dependsOn ?? []) as Array<{ name: string; namespace?: string }>).map((d) => `${d.namespace ?? nsOf(a.obj)}/${d.name}`);
const pathOf = (a: Applied) => String(a.obj.spec?.path ?? "").replace(/^\.\//, "");

/** Every reference a Flux object makes to another object by name, with the namespace it names. */
function crossRefs(o: K8sObject): Array<{ field: string; namespace?: string }> {
  const s = o.spec ?? {};
  return [
    { field: "spec.sourceRef", namespace: s.sourceRef?.namespace },
    { field: "spec.chart.spec.sourceRef", namespace: s.chart?.spec?.sourceRef?.namespace },
    { field: "spec.chartRef", namespace: s.chartRef?.namespace },
    { field: "spec.imageRepositoryRef", namespace: s.imageRepositoryRef?.namespace },
    { field: "spec.providerRef", namespace: s.providerRef?.namespace },
    ...((s.dependsOn ?? []) as Array<{ namespace?: string }>).map((d) => ({ field: "spec.dependsOn", namespace: d.namespace })),
  ].filter((r) => r.namespace !== undefined && r.namespace !== nsOf(o));
}

export const CHECKS: Check[] = [
  {
    id: "build-failed",
    severity: "error",
    title: "a path a Kustomization points at does not build",
    fix: "correct what the message names (kubectl kustomize on the path shows kustomize's own errors)",
    run: (c) => c.walked.buildErrors.map((e) => ({ at: e.at, message: e.message })),
  },
  {
    id: "path-outside-source",
    severity: "error",
    title: "a Kustomization's spec.path stays inside its source",
    fix: "set spec.path to a directory inside the source, relative to its root (e.g. ./apps/prod)",
    run: (c) =>
      c.walked.outside.map((o) => ({ at: o.at, message: `spec.path ${o.path} leaves the source; Flux would resolve it to ${o.inside} inside it, and validate reads nothing outside` })),
  },
  {
    id: "remote-base",
    severity: "error",
    title: "no remote bases where kustomize-controller runs with --no-remote-bases=true",
    fix: "copy the remote into the repository (or sync it with a Flux source of its own) and reference it by a local path",
    run: (c) =>
      c.noRemoteBases
        ? c.walked.remotes.map((r) => ({
            at: { obj: r.at.obj, file: r.remote.file },
            message: `${r.path}: ${r.remote.ref} is remote, and kustomize-controller runs with --no-remote-bases=true: it does not build`,
          }))
        : [],
  },
  {
    id: "cluster-entry-only-points",
    severity: "error",
    title: "a cluster directory holds only flux-system and Flux Kustomizations that point elsewhere",
    fix: "move the object into infrastructure/ or tenants/ and point a Kustomization at it",
    run: (c) =>
      c.objects
        .filter((a) => a.appliedBy === "" && a.file.startsWith(`clusters/${c.cluster}/`) && !a.file.startsWith(`clusters/${c.cluster}/flux-system/`))
        .filter((a) => !isFluxKustomization(a.obj))
        .map((a) => ({ at: a, message: `${a.obj.kind} in the cluster directory; it should only point elsewhere` })),
  },
  {
    id: "depends-on-missing",
    severity: "error",
    title: "dependsOn names a Kustomization that exists",
    fix: "name an existing Kustomization, or remove the dependency",
    run: (c) => {
      const names = new Set(flux(c).map(keyOf));
      return flux(c).flatMap((a) =>
        dependsOn(a)
          .filter((d) => !names.has(d))
          .map((d) => ({ at: a, message: `depends on ${d}, which this cluster does not have` })),
      );
    },
  },
  {
    id: "depends-on-cycle",
    severity: "error",
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
    severity: "error",
    title: "tenants depend on infrastructure, never the reverse",
    fix: "make the tenants Kustomization depend on infrastructure, not the other way round",
    run: (c) => {
      const byName = new Map(flux(c).map((a) => [keyOf(a), a]));
      return flux(c)
        .filter((a) => pathOf(a).startsWith("infrastructure"))
        .flatMap((a) =>
          dependsOn(a)
            .map((d) => byName.get(d))
            .filter((t): t is Applied => !!t && (pathOf(t).startsWith("tenants") || nsOf(t.obj) !== PLATFORM_NS))
            .map((t) => ({ at: a, message: `infrastructure depends on ${ref(t.obj)}, which a tenant could hold back` })),
        );
    },
  },
  {
    id: "platform-service-account",
    severity: "error",
    title: "platform Kustomizations in flux-system name serviceAccountName: kustomize-controller",
    fix: "set spec.serviceAccountName: kustomize-controller",
    run: (c) =>
      flux(c)
        .filter((a) => nsOf(a.obj) === PLATFORM_NS && !a.obj.spec?.serviceAccountName)
        .map((a) => ({
          at: a,
          message: "has no serviceAccountName: under --default-service-account=default it applies as the powerless default account",
        })),
  },
  {
    id: "tenant-service-account",
    severity: "error",
    title: "tenant Kustomizations and HelmReleases impersonate the tenant's reconciler",
    fix: "set spec.serviceAccountName to the tenant's reconciler ServiceAccount",
    run: (c) =>
      tenantAppliers(c)
        .filter((a) => !a.obj.spec?.serviceAccountName)
        .map((a) => ({
          at: a,
          message: c.defaultSaFlag
            ? "has no serviceAccountName; it applies as the namespace's default account"
            : "has no serviceAccountName and the controllers lack --default-service-account: it applies with the controller's cluster-admin",
        })),
  },
  {
    id: "tenant-target-namespace",
    severity: "error",
    title: "tenant Kustomizations pin everything to their namespace with targetNamespace",
    fix: "set spec.targetNamespace to the tenant namespace",
    run: (c) =>
      tenantAppliers(c)
        .filter((a) => isFluxKustomization(a.obj) && a.obj.spec?.targetNamespace !== nsOf(a.obj))
        .map((a) => ({ at: a, message: `targetNamespace is ${a.obj.spec?.targetNamespace ?? "not set"}, not ${nsOf(a.obj)}` })),
  },
  {
    id: "cross-namespace-ref",
    severity: "error",
    title: "Flux objects reference only objects in their own namespace",
    fix: "reference an object in the same namespace (the controllers run with --no-cross-namespace-refs=true)",
    run: (c) =>
      c.objects
        .filter((a) => group(a.obj).endsWith(".toolkit.fluxcd.io"))
        .flatMap((a) => crossRefs(a.obj).map((r) => ({ at: a, message: `${r.field} points into namespace ${r.namespace}` }))),
  },
  {
    id: "tenant-source-in-namespace",
    severity: "warning",
    title: "a tenant's source lives in the tenant's namespace",
    fix: "add the tenant's GitRepository (or other source) to its namespace",
    run: (c) => {
      const present = new Set(c.objects.map((o) => `${o.obj.kind}/${nsOf(o.obj)}/${o.obj.metadata?.name}`));
      return tenantAppliers(c)
        .filter((a) => isFluxKustomization(a.obj))
        .filter((a) => {
          const s = a.obj.spec?.sourceRef ?? {};
          return !present.has(`${s.kind ?? "GitRepository"}/${nsOf(a.obj)}/${s.name}`);
        })
        .map((a) => ({ at: a, message: `its source ${a.obj.spec?.sourceRef?.kind ?? "GitRepository"}/${a.obj.spec?.sourceRef?.name} is not in namespace ${nsOf(a.obj)}` }));
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
                message: `binds ${id.namespace}:${id.name} to cluster-admin; as a RoleBinding it grants nothing cluster-wide, but everything in ${nsOf(m.binding.obj)}, its RBAC included`,
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
              .map((m) => ({ at: m.binding, message: `gives ${id.namespace}:${id.name} ${m.role} cluster-wide` }))
          : [],
      ),
  },
  {
    id: "isolation-cluster-scope",
    severity: "error",
    title: "a tenant reconciler cannot create ClusterRoleBindings",
    fix: "remove the binding that grants it; bind the tenant to admin in its namespace only",
    run: (c) =>
      c.tenants.flatMap(({ applier, id }) => {
        if (!id) return [{ at: applier, message: "applies as the controller itself (no serviceAccountName, no --default-service-account): it can do anything" }];
        const g = c.rbac.canI(id, "create", "rbac.authorization.k8s.io", "clusterrolebindings");
        return g.length ? [{ at: g[0]!.binding, message: `kubectl auth can-i create clusterrolebindings --as=system:serviceaccount:${id.namespace}:${id.name}: yes, through ${g[0]!.role}` }] : [];
      }),
  },
  {
    id: "isolation-other-tenant-secrets",
    severity: "error",
    title: "a tenant reconciler cannot read another tenant's secrets",
    fix: "remove the binding that reaches into the other namespace",
    run: (c) =>
      c.tenants.flatMap(({ id }) =>
        id
          ? tenantNamespaces(c)
              .filter((ns) => ns !== id.namespace)
              .flatMap((ns) => {
                const g = c.rbac.canI(id, "get", "", "secrets", ns);
                return g.length ? [{ at: g[0]!.binding, message: `kubectl auth can-i get secrets -n ${ns} --as=system:serviceaccount:${id.namespace}:${id.name}: yes, through ${g[0]!.role}` }] : [];
              })
          : [],
      ),
  },
  {
    id: "tenant-object-namespace",
    severity: "error",
    title: "what an overlay adds for a tenant lives in the tenant namespace",
    fix: "set metadata.namespace to the tenant's namespace",
    run: (c) =>
      c.objects
        .filter((a) => a.obj.metadata?.labels?.[TENANT_LABEL] && a.obj.kind !== "Namespace" && !a.obj.kind?.startsWith("Cluster"))
        .filter((a) => {
          const ns = a.obj.metadata?.namespace;
          return !ns || ns === "default" || !(c.tenantNamespaceSet.has(ns) || ns === a.obj.metadata!.labels![TENANT_LABEL]);
        })
        .map((a) => ({ at: a, message: `belongs to tenant ${a.obj.metadata!.labels![TENANT_LABEL]} but is in namespace ${a.obj.metadata?.namespace ?? "default (none set)"}` })),
  },
  {
    id: "tenant-file-platform-authority",
    severity: "error",
    title: "nothing in a tenant's files acts beyond the tenant's namespace with platform authority",
    fix: "move the object out of the tenant's files into the platform's (infrastructure/, clusters/), or scope it to the tenant's namespace and reconciler",
    run: (c) => {
      const appliers = new Map(flux(c).map((a) => [ref(a.obj), a.obj]));
      // Applied as kustomize-controller: by the cluster's own sync, or a Kustomization without an account of its own.
      const platform = (a: Applied) => {
        if (a.appliedBy === "") return true;
        const by = appliers.get(a.appliedBy);
        const sa = by?.spec?.serviceAccountName as string | undefined;
        return sa === "kustomize-controller" || (!sa && !c.defaultSaFlag);
      };
      const hits: Hit[] = [];
      for (const a of c.objects) {
        const t = c.tenantFiles.find((t) => t.owns.some((p) => a.file === p || a.file.startsWith(`${p}/`)));
        if (!t || !platform(a)) continue;
        const why = outOfBounds(a.obj, t.namespace, { defaultServiceAccount: c.defaultSaFlag === true }).join("; ");
        if (why) hits.push({ at: a, message: `declared in tenant ${t.name}'s files and applied as kustomize-controller (${a.appliedBy || "the cluster's sync"}): ${why}` });
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
          if (v === undefined || /[*xX^~<>|=]|\s/.test(String(v)))
            return [{ at: a, message: v === undefined ? "the chart version is not set: it follows the latest release" : `the chart version '${v}' is a range` }];
        }
        if (a.obj.kind === "OCIRepository" && group(a.obj) === "source.toolkit.fluxcd.io") {
          const r = a.obj.spec?.ref ?? {};
          if (!r.tag && !r.digest && !r.semver) return [{ at: a, message: "no ref: it follows the latest tag" }];
        }
        return [];
      }),
  },
  {
    id: "api-version",
    severity: "error",
    title: "Flux objects use API versions the pinned Flux serves",
    fix: "run fleet upgrade --flux-version <the pin> to rewrite them, or change the apiVersion by hand",
    run: (c) =>
      c.objects.flatMap((a) => {
        const st = a.obj.apiVersion && a.obj.kind ? apiVersionStatus(c.pin, a.obj.apiVersion, a.obj.kind) : undefined;
        if (st === "unserved") return [{ at: a, message: `${a.obj.apiVersion} is not served by Flux ${c.pin}` }];
        if (st === "deprecated") return [{ at: a, severity: "warning" as const, message: `${a.obj.apiVersion} is deprecated under Flux ${c.pin}` }];
        return [];
      }),
  },
  {
    id: "substitution-unresolved",
    severity: "warning",
    title: "every ${var} under postBuild substitution has a value or a default",
    fix: "add the variable to the cluster's cluster-vars (or substitute), give it a default ${var:=value}, or opt out with kustomize.toolkit.fluxcd.io/substitute: disabled",
    run: (c) =>
      c.walked.unresolved.map((u) => ({
        at: u,
        severity: strictSubstitution(c.pin) ? ("error" as const) : ("warning" as const),
        message: `\${${u.names.join("}, ${")}} has no value and no default${strictSubstitution(c.pin) ? ` (Flux ${c.pin} substitutes strictly: the build fails)` : " (Flux substitutes an empty string)"}`,
      })),
  },
  {
    id: "substitution-source-missing",
    severity: "error",
    title: "the ConfigMaps and Secrets postBuild reads exist",
    fix: "create it in the Kustomization's namespace, or mark the reference optional: true",
    run: (c) => c.walked.missingVarSources.map((m) => ({ at: m.ks, message: `substituteFrom ${m.kind}/${m.name} is not in namespace ${nsOf(m.ks.obj)}` })),
  },
  {
    id: "duplicate-object",
    severity: "error",
    title: "each object is applied once",
    fix: "remove one of the two, or give them different names",
    run: (c) => {
      const seen = new Map<string, Applied>();
      const hits: Hit[] = [];
      for (const a of c.objects) {
        const k = `${group(a.obj)}/${a.obj.kind}/${a.obj.metadata?.namespace ?? ""}/${a.obj.metadata?.name}`;
        const first = seen.get(k);
        if (first) hits.push({ at: a, message: `also applied from ${first.file}` });
        else seen.set(k, a);
      }
      return hits;
    },
  },
  {
    id: "lockdown",
    severity: "error",
    title: "the controllers run with the multi-tenancy lockdown",
    fix: "add the lockdown patches to clusters/<cluster>/flux-system/kustomization.yaml (fleet new-cluster writes them)",
    run: (c) => {
      const want: Record<string, string[]> = {
        "kustomize-controller": ["--no-cross-namespace-refs=true", "--no-remote-bases=true", "--default-service-account=default"],
        "helm-controller": ["--no-cross-namespace-refs=true", "--default-service-account=default"],
        "notification-controller": ["--no-cross-namespace-refs=true"],
        "image-reflector-controller": ["--no-cross-namespace-refs=true"],
        "image-automation-controller": ["--no-cross-namespace-refs=true"],
      };
      return c.objects
        .filter((a) => a.obj.kind === "Deployment" && nsOf(a.obj) === PLATFORM_NS && want[String(a.obj.metadata?.name)])
        .flatMap((a) => {
          const args: string[] = a.obj.spec?.template?.spec?.containers?.[0]?.args ?? [];
          const missing = want[String(a.obj.metadata?.name)]!.filter((w) => !args.includes(w));
          return missing.length ? [{ at: a, message: `runs without ${missing.join(", ")}` }] : [];
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
];
