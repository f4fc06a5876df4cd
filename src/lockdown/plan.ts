/**
 * The lockdown plan of one cluster (`fleet lockdown --plan`): what the multi-tenancy lockdown
 * (design 4.2) would change for every applier the cluster has, read from the cluster as Flux
 * would apply it (validate's walk, its lockdown flags, its tenants, its RBAC), offline.
 *
 * Once kustomize- and helm-controller run with --default-service-account=<sa>, a Kustomization or
 * HelmRelease that names no account acts as <its namespace>:<sa> instead of as the controller
 * (cluster-admin): the platform's own lose their power, a tenant's are held to what that account
 * may do. The fix fleet writes gives each an account first: the controller's own for the
 * platform's appliers in the Flux namespace, the tenant's reconciler (a ServiceAccount bound to
 * `admin` in its namespace) for everything in a tenant's namespace. What fleet cannot fix from
 * this repository (a platform applier outside the Flux namespace, content in a tenant's
 * repository, a cross-namespace reference, a remote base) is named with the fix, and blocks the
 * flags until it is done (or --force).
 */
import * as path from "node:path";
import type { Cluster } from "../model/clusters.js";
import { isFluxApi, isFluxKustomization, ref, type K8sObject } from "../model/objects.js";
import { scopeFrom } from "../model/tenant-bounds.js";
import { lockdownFlagsMissing } from "../flux/facts.js";
import type { Walked } from "../validate/discover.js";
import { CONTROLLERS, defaultServiceAccount, missingLockdown, noCrossNamespaceRefs, noRemoteBases, RECONCILED_BY, type Controller, type Lockdown } from "../validate/lockdown.js";
import { nsOf, TENANT_LABEL, type Tenancy } from "../validate/tenancy.js";
import { grantsBeyond, RbacModel, type Identity } from "../validate/rbac.js";
import { crossRefs } from "../validate/checks.js";
import { controllersOf } from "../validate/index.js";
import type { Applied } from "../validate/model.js";
import { prunableBy, refusal } from "./refused.js";

export interface LockdownChoices {
  /** The account --default-service-account names where the cluster sets none yet. */
  defaultServiceAccount: string;
  /** The ClusterRole each tenant reconciler is bound to in its namespace. */
  role: string;
  /** The name of each tenant's reconciler ServiceAccount (and its RoleBinding). */
  reconciler: string;
}

/** An object the plan names, and where it is written. */
export interface Named {
  ref: string;
  file: string;
  /** Declared in this repository (fleet can edit it), not in a source it was given with --source. */
  inRepo: boolean;
}

export interface Refused extends Named {
  why: string;
  /** The new account may delete it: out of the source, Flux prunes it. */
  prunable: boolean;
}

export interface ApplierChange {
  at: Named;
  kind: "Kustomization" | "HelmRelease";
  name: string;
  namespace: string;
  /** Who it acts as today. */
  now: string;
  /** Who it would act as once the flags are on, if nothing else changed, and what that means. */
  withFlags: string;
  /** The account fleet gives it (spec.serviceAccountName), or undefined where fleet cannot. */
  account?: string;
  /** How the account is set: in the object's own file, or by a patch of the cluster's flux-system kustomization (its sync object, which flux bootstrap rewrites). */
  via?: "file" | "patch";
  /** The tenant namespace whose reconciler it becomes. */
  tenant?: string;
  /** Its objects the new account may not apply. */
  refused: Refused[];
  /** What the account fleet gives it may do that the one it acts as today may not (an increase, said so). */
  increase?: string;
  /** What is not known offline about what it applies (a HelmRelease's chart). */
  unchecked?: string;
}

export interface Blocker extends Named {
  why: string;
  fix: string;
}

export interface Reconciler {
  namespace: string;
  /** The tenant's name: the namespace's toolkit.fluxcd.io/tenant label, else the namespace. */
  tenant: string;
  /** The repo file that declares the tenant's Namespace (or, without one, its first applier): the reconciler is written beside it. */
  anchor: string;
  /** The ServiceAccount exists already (bound, or a blocker says it is not). */
  exists: boolean;
  /** Two or more tenants (by their appliers' toolkit.fluxcd.io/tenant labels) whose appliers share the namespace, and so its reconciler. */
  shared?: string[];
}

export interface ClusterPlan {
  cluster: string;
  path: string;
  /** Where the flags are set: the flux-system kustomization's patches, or a FluxInstance. */
  via: "patches" | "operator";
  /** The file that holds (or will hold) the flags. */
  lockdownFile: string;
  /** The FluxInstance's name, for a cluster the Flux Operator installs. */
  fluxInstance?: string;
  fluxNamespace: string;
  /** The account --default-service-account names: the cluster's own where it sets one, else the chosen one. */
  defaultServiceAccount: string;
  /** The controllers the cluster runs. */
  controllers: Controller[];
  /** Flags the controllers it runs lack, per controller. */
  flags: Array<{ controller: Controller; flags: string[] }>;
  appliers: ApplierChange[];
  reconcilers: Reconciler[];
  /** Fleet cannot fix these; they would break once the flags are on. */
  blockers: Blocker[];
  /** Content of a tenant's own repository that its team must change (it would fail under the flags until then). */
  forTenants: Blocker[];
  notChecked: string[];
}

/** What the walk of one cluster gives the plan (validate's readCluster). */
export interface ClusterRead {
  walked: Walked;
  lockdown: Lockdown;
  tenancy: Tenancy;
}

/** The name flux bootstrap gives the sync Kustomization (and its GitRepository). */
const SYNC_NAME = "flux-system";

const PLATFORM_ACCOUNT: Record<string, Controller> = { Kustomization: "kustomize-controller", HelmRelease: "helm-controller" };

export function planCluster(cluster: Cluster, read: ClusterRead, choices: LockdownChoices, fluxVersion?: string): ClusterPlan {
  // The controllers it runs: those its build or header names, and any whose kinds it applies
  // (an ArtifactGenerator means source-watcher, an ImagePolicy image-reflector-controller).
  const reconciling = new Set(read.walked.objects.map((a) => RECONCILED_BY[a.obj.kind ?? ""]).filter((c): c is Controller => c !== undefined));
  const listed = controllersOf(cluster, read.walked.objects, read.lockdown);
  const installed = CONTROLLERS.filter((c) => listed.includes(c) || reconciling.has(c));
  const { walked, lockdown, tenancy } = read;
  const fluxNs = lockdown.namespace;
  const here = walked.objects.filter((a) => !a.target);
  const inRepo = (a: Applied) => a.appliedBy === "" || walked.fromRepo.has(a.appliedBy);
  const named = (a: Applied): Named => ({ ref: ref(a.obj), file: a.file, inRepo: inRepo(a) });
  const setSa = defaultServiceAccount(lockdown, "kustomize-controller") ?? defaultServiceAccount(lockdown, "helm-controller");
  const sa = setSa ?? lockdown.declaredDefaultAccount ?? choices.defaultServiceAccount;
  const via = cluster.via === "operator" ? "operator" : "patches";
  const plan: ClusterPlan = {
    cluster: cluster.name,
    path: cluster.path,
    via,
    lockdownFile: via === "operator" || /(^|\/)(kustomization\.ya?ml|Kustomization)$/.test(lockdown.from) ? lockdown.from : path.posix.join(path.posix.dirname(cluster.syncFile), "kustomization.yaml"),
    ...(via === "operator" ? { fluxInstance: fluxInstanceIn(cluster, here) } : {}),
    fluxNamespace: fluxNs,
    defaultServiceAccount: sa,
    controllers: installed,
    flags: [],
    appliers: [],
    reconcilers: [],
    blockers: [],
    forTenants: [],
    notChecked: [
      ...walked.buildErrors.map((e) => `${ref(e.at.obj)} (${e.at.file}) does not build, so what it applies is not in this plan: ${e.message.split("\n")[0]}`),
      // What the walk could not read (another repository, an OCI artifact, a ResourceSet): its appliers are not in this plan either.
      ...walked.notChecked,
    ],
  };

  // The flags of the controllers the cluster runs (the patches also name the ones it may add later).
  for (const c of installed) {
    const missing = missingLockdown(lockdown, c).map((f) => f.replace("=<account>", `=${sa}`));
    if (missing.length) plan.flags.push({ controller: c, flags: missing });
  }
  const predates = fluxVersion ? lockdownFlagsMissing(fluxVersion) : [];
  for (const f of predates.filter((p) => plan.flags.some((m) => m.flags.some((x) => x.startsWith(p.flag)))))
    plan.blockers.push({
      ref: `Deployment/${fluxNs}/${f.controllers[0]}`,
      file: lockdown.from,
      inRepo: true,
      why: `Flux ${fluxVersion} predates ${f.flag} (from ${f.since}): its controllers refuse to start with it`,
      fix: "upgrade Flux first (fleet upgrade --flux-version vX.Y.Z)",
    });

  const tenantNs = new Set(tenancy.tenantNamespaces.get("") ?? []);
  const rbacNow = new RbacModel(here, { fluxNamespace: fluxNs });
  const grantsNothing = (id: Identity) => rbacNow.bindingsFor(id).length === 0;
  const reconcilerOf = (ns: string): Identity => ({ namespace: ns, name: choices.reconciler });
  // The cluster as it will be: each tenant namespace's reconciler bound to the role.
  const future = new RbacModel(
    [
      ...here,
      ...[...tenantNs].flatMap((ns): Applied[] => {
        const sub = { kind: "ServiceAccount", name: choices.reconciler, namespace: ns };
        return [
          { obj: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: choices.reconciler, namespace: ns } }, file: "(fleet lockdown)", appliedBy: "" },
          {
            obj: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: choices.reconciler, namespace: ns }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: choices.role }, subjects: [sub] },
            file: "(fleet lockdown)",
            appliedBy: "",
          },
        ];
      }),
    ],
    { fluxNamespace: fluxNs },
  );
  const scope = scopeFrom(here.map((a) => a.obj));
  const byApplier = new Map<string, Applied[]>();
  for (const a of here) (byApplier.get(a.appliedBy) ?? byApplier.set(a.appliedBy, []).get(a.appliedBy)!).push(a);

  /** The tenant labels of the appliers fleet gives each tenant namespace's reconciler. */
  const labelsIn = new Map<string, Set<string>>();
  for (const ap of tenancy.appliers) {
    if (ap.named) continue;
    const o = ap.at.obj;
    const ns = nsOf(ap.at);
    const kind = isFluxKustomization(o) ? "Kustomization" : "HelmRelease";
    // Through a kubeConfig the controllers impersonate the default account too, on the remote
    // cluster (kustomize-controller clientForKubeConfig, helm-controller's getter options).
    if (ap.actsOn) {
      plan.blockers.push({
        ...named(ap.at),
        why: `applies to ${ap.actsOn} through a kubeConfig: once the flags are on it acts there as ${ns}:${sa}, an account that must exist on that cluster and be bound there (not checked offline)`,
        fix: `set spec.serviceAccountName to an account of namespace ${ns} that exists on that cluster, bound there to what it applies, before the flags are on (a cluster added later needs it before its first apply)`,
      });
      continue;
    }
    // An account it acts as already (the flags' default) says what it is bound to: a reconciler bound to admin may be more.
    const roles = ap.id ? [...new Set(rbacNow.bindingsFor(ap.id).map((b) => b.role))] : [];
    const now = ap.id
      ? `${ap.id.namespace}:${ap.id.name}${roles.length ? ` (bound to ${roles.join(", ")})` : " (granted nothing here: it fails already)"}`
      : `${ap.controller} itself (cluster-admin)`;
    // A Kustomization whose content is not this repository's: another team's repository, an artifact.
    const external = isFluxKustomization(o) && !walked.fromRepo.has(ref(o));
    const target = typeof o.spec?.targetNamespace === "string" ? (o.spec.targetNamespace as string) : undefined;
    const flagsId = { namespace: ns, name: sa };
    const withFlags = `${ns}:${sa}${grantsNothing(flagsId) ? ", which nothing grants anything: it fails" : ", with only what that account is granted"}`;
    const change: ApplierChange = { at: named(ap.at), kind, name: o.metadata?.name ?? "?", namespace: ns, now, withFlags, refused: [] };
    const isSync = ns === fluxNs && ap.at.appliedBy === "" && ap.at.file === cluster.syncFile;
    if (ns === fluxNs && !ap.tenant && external && target && target !== fluxNs) {
      // flux create kustomization's shape for a team: in flux-system, the team's repository,
      // targetNamespace the team's. The controller's account would keep that content cluster-admin.
      plan.blockers.push({
        ...change.at,
        why: `applies ${sourceName(o, ns)}, content from outside this repository, into ${target}: with the controller's account it would keep cluster-admin, so fleet does not give it that`,
        fix: `move it and its source into ${target} (labelled ${TENANT_LABEL}) and run fleet lockdown again, which gives it ${target}'s reconciler; or give it an account of ${fluxNs} bound by a RoleBinding in ${target} to ${choices.role}, and set spec.serviceAccountName`,
      });
    } else if (ns === fluxNs && !ap.tenant) {
      change.account = PLATFORM_ACCOUNT[kind];
      if (external) change.unchecked = `it applies ${sourceName(o, ns)}, content from outside this repository, with the controller's account (cluster-admin): that source must be the platform's`;
      change.via = isSync && via === "patches" ? "patch" : "file";
      if (!change.at.inRepo && change.via === "file")
        plan.blockers.push({ ...change.at, why: `a platform ${kind} declared outside this repository: fleet cannot give it an account`, fix: `set spec.serviceAccountName: ${change.account} where it is declared` });
    } else if (tenantNs.has(ns) && ns !== fluxNs) {
      change.account = choices.reconciler;
      change.via = "file";
      change.tenant = ns;
      const id = reconcilerOf(ns);
      // Acting today as an account granted something (the flags' default, bound to edit, say): what the role adds is said.
      const today = ap.id ? rbacNow.bindingsFor(ap.id).flatMap((b) => (b.scope === "cluster-wide" || b.scope === `namespace ${ns}` ? b.rules : [])) : [];
      const added = today.length ? grantsBeyond(rbacNow.rulesOf("ClusterRole", "", choices.role) ?? [], today) : [];
      if (added.length)
        change.increase = `ClusterRole ${choices.role} lets it ${added.slice(0, 4).join(", ")}${added.length > 4 ? ` and ${added.length - 4} more` : ""} in ${ns}, which ${ap.id!.namespace}:${ap.id!.name} may not today${roles.length === 1 && roles[0]!.startsWith("ClusterRole ") ? `; --role ${roles[0]!.slice("ClusterRole ".length)} keeps what it has` : ""}`;
      const label = o.metadata?.labels?.[TENANT_LABEL];
      if (label) (labelsIn.get(ns) ?? labelsIn.set(ns, new Set()).get(ns)!).add(label);
      for (const child of byApplier.get(ref(o)) ?? []) {
        const why = refusal(child.obj, id, future, scope(child.obj));
        if (why) change.refused.push({ ...named(child), why, prunable: prunableBy(child.obj, id, future, scope(child.obj)) });
      }
      if (kind === "HelmRelease") change.unchecked = "its chart's objects are rendered by Helm on the cluster: which of them the reconciler may not apply is not checked offline";
      if (!change.at.inRepo)
        plan.forTenants.push({ ...change.at, why: `declared in the tenant's own repository: once the flags are on it acts as ${ns}:${sa} and fails`, fix: `the tenant team sets spec.serviceAccountName: ${choices.reconciler} in it` });
    } else if (ap.tenant) {
      plan.blockers.push({ ...change.at, why: `a tenant's ${kind} in ${ns} (${ap.why}) without an account of its own; the flags would make it act as ${ns}:${sa}`, fix: `give it a ServiceAccount of its own in ${ns}, bound to what the tenant may do, and set spec.serviceAccountName` });
    } else {
      plan.blockers.push({
        ...change.at,
        why: `a platform ${kind} in namespace ${ns}: once the flags are on it acts as ${withFlags}, and the controller's own account exists only in ${fluxNs}`,
        fix:
          kind === "HelmRelease"
            ? `move it and its chart's source to ${fluxNs}, with spec.targetNamespace: ${ns}, spec.storageNamespace: ${ns} (the release stays where it is) and spec.serviceAccountName: helm-controller; or give it an account of ${ns} bound to what its chart installs (CRDs and cluster-wide RBAC need a ClusterRoleBinding)`
            : external
              ? `it applies ${sourceName(o, ns)}, content from outside this repository: if it is a team's, label namespace ${ns} ${TENANT_LABEL}: <team> and run fleet lockdown again, which gives it a reconciler; if it is the platform's, give it an account of ${ns} bound to what it applies`
              : `move it to ${fluxNs} with spec.targetNamespace: ${ns} and spec.serviceAccountName: kustomize-controller, or give it an account of ${ns} bound to what it applies`,
      });
    }
    plan.appliers.push(change);
  }

  // The sync Kustomization flux bootstrap creates, where gotk-sync.yaml is a placeholder (Flux's
  // example repos commit one) and the walk cannot see it: the flags reach it too (there is no
  // namespace exemption), and it applies the controllers themselves, so a revert could not land.
  const syncSeen = here.some((a) => a.appliedBy === "" && a.file === cluster.syncFile && isFluxKustomization(a.obj));
  if (via === "patches" && !syncSeen && !lockdown.kustomizationAccounts?.some((k) => k.name.test(SYNC_NAME))) {
    const id = { namespace: fluxNs, name: sa };
    plan.appliers.push({
      at: { ref: `Kustomization/${fluxNs}/${SYNC_NAME}`, file: cluster.syncFile, inRepo: true },
      kind: "Kustomization",
      name: SYNC_NAME,
      namespace: fluxNs,
      now: setSa ? `${fluxNs}:${setSa}${grantsNothing(id) ? " (granted nothing here: it fails already)" : ""}` : "kustomize-controller itself (cluster-admin)",
      withFlags: `${fluxNs}:${sa}${grantsNothing(id) ? ", which nothing grants anything: it fails, and with it every change to the controllers, a revert included" : ""}`,
      account: "kustomize-controller",
      via: "patch",
      refused: [],
    });
  }

  // One reconciler per tenant namespace an applier is given to.
  const namespaces = new Map<string, Applied>();
  const accounts = new Map<string, Applied>();
  for (const a of here) {
    if (a.obj.kind === "Namespace" && a.obj.metadata?.name && inRepo(a) && !namespaces.has(a.obj.metadata.name)) namespaces.set(a.obj.metadata.name, a);
    if (a.obj.kind === "ServiceAccount" && a.obj.metadata?.name === choices.reconciler && !accounts.has(nsOf(a))) accounts.set(nsOf(a), a);
  }
  const firstInRepo = new Map<string, ApplierChange>();
  for (const c of plan.appliers) if (c.tenant && c.at.inRepo && !firstInRepo.has(c.tenant)) firstInRepo.set(c.tenant, c);
  for (const ns of [...new Set(plan.appliers.filter((c) => c.tenant).map((c) => c.tenant!))].sort()) {
    const nsObj = namespaces.get(ns);
    const anchor = nsObj?.file ?? firstInRepo.get(ns)?.at.file;
    const account = accounts.get(ns);
    if (account && grantsNothing(reconcilerOf(ns)))
      plan.blockers.push({ ...named(account), why: `${ns}:${choices.reconciler} exists and nothing binds it; fleet would not add a second`, fix: `bind it to ClusterRole ${choices.role} in ${ns} by hand, or choose another name with --reconciler` });
    if (!anchor && !account) {
      plan.blockers.push({ ref: `Namespace/${ns}`, file: "", inRepo: false, why: `nothing of tenant namespace ${ns} is declared in this repository: fleet has nowhere to write its reconciler`, fix: `add a ServiceAccount ${choices.reconciler} bound to ClusterRole ${choices.role} in ${ns} where the namespace is declared` });
      continue;
    }
    const label = nsObj?.obj.metadata?.labels?.[TENANT_LABEL];
    const shared = [...(labelsIn.get(ns) ?? [])].sort();
    plan.reconcilers.push({ namespace: ns, tenant: label ?? ns, anchor: anchor ?? account!.file, exists: account !== undefined, ...(shared.length > 1 ? { shared } : {}) });
  }

  // References and remote bases the flags would refuse, where they are not refused already.
  for (const a of here) {
    const controller = RECONCILED_BY[a.obj.kind ?? ""];
    if (!controller || !isFluxApi(a.obj) || noCrossNamespaceRefs(lockdown, controller)) continue;
    for (const r of crossRefs(a.obj))
      plan.blockers.push(
        a.obj.kind === "Alert"
          ? { ...named(a), why: `${r.field} watches namespace ${r.namespace}: under --no-cross-namespace-refs=true notification-controller drops those events (the Alert stays Ready)`, fix: `add an Alert (and its Provider) in ${r.namespace}` }
          : { ...named(a), why: `${r.field} points into namespace ${r.namespace}: ${controller} refuses it under --no-cross-namespace-refs=true`, fix: `give ${nsOf(a)} a source of its own (or move the object to ${r.namespace})` },
      );
  }
  if (!noRemoteBases(lockdown))
    for (const r of walked.remotes)
      plan.blockers.push({ ref: ref(r.at.obj), file: r.remote.file, inRepo: true, why: `${r.remote.file} names the remote base ${r.remote.ref}: kustomize-controller refuses it under --no-remote-bases=true`, fix: "vendor the remote base into the repository (or serve it as a Flux source) and point at the copy" });
  return plan;
}

/** The source a Kustomization reads, as kind/namespace/name. */
const sourceName = (o: K8sObject, ns: string) => `${o.spec?.sourceRef?.kind ?? "GitRepository"}/${o.spec?.sourceRef?.namespace ?? ns}/${o.spec?.sourceRef?.name ?? "?"}`;


/** The FluxInstance a cluster is installed from, by name (the object in its sync file). */
function fluxInstanceIn(cluster: Cluster, objects: Applied[]): string | undefined {
  return objects.find((a) => a.file === cluster.syncFile && a.obj.kind === "FluxInstance")?.obj.metadata?.name;
}
