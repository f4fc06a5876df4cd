/**
 * Who is a tenant, and as whom each applier acts. Flux itself has no notion of a tenant: what it
 * has is impersonation (kustomize- and helm-controller act as `serviceAccountName`, else as the
 * `--default-service-account` of their namespace, else as themselves: cluster-admin) and a
 * kubeConfig that sends an applier's objects to another cluster (fluxcd/pkg runtime/client
 * impersonator.go: the same impersonation, on the remote). A tenant is what the platform hands a
 * namespace to, known by evidence, never by where an object happens to sit:
 * - a tenant namespace is labelled `toolkit.fluxcd.io/tenant` (Flux's own convention), is a
 *   tenant of fleet's repo model, or has appliers acting as an account of their own namespace
 *   (the shape Flux's multi-tenancy docs give a tenant), unless they reach another cluster
 *   through a kubeConfig, which only the platform holds;
 * - an applier there is the tenant's when the tenant controls it: it acts as an account of the
 *   namespace, it reads content from outside this repository, or a tenant's applier wrote it.
 *   The platform's own HelmRelease in a namespace it labels by team is the platform's;
 * - an applier that acts as an account that is not a controller's own, and is labelled
 *   `toolkit.fluxcd.io/tenant` or applies content from outside this repository, is a tenant's
 *   anywhere (d1-fleet's infra tenant: Kustomizations in flux-system running as flux-infra,
 *   reading the infra team's repository).
 * The namespace Flux runs in and Kubernetes' own are never tenant namespaces, whatever their
 * labels say: a label there would make Flux's controllers tenants. A namespace labelled with the
 * team the Flux namespace is labelled with is the platform team's.
 */
import { isFluxKustomization, isHelmRelease, ref, type Applied } from "./model.js";
import { defaultServiceAccount, RECONCILED_BY, type Controller, type Lockdown } from "./lockdown.js";
import type { Identity } from "./rbac.js";
import { CONTROLLER_ACCOUNTS } from "../model/tenant-bounds.js";
import { kubeConfigTarget } from "./discover.js";
import { RESERVED_NAMESPACES } from "../core/validation.js";

export const TENANT_LABEL = "toolkit.fluxcd.io/tenant";

export const nsOf = (a: Applied) => a.obj.metadata?.namespace ?? "default";

export interface Applier {
  at: Applied;
  controller: Controller;
  /** The account it names in spec.serviceAccountName, if any. */
  named?: string;
  /** Who it acts as; undefined: the controller itself (or, through a kubeConfig, the kubeconfig's identity). */
  id?: Identity;
  /** The cluster its objects land on: a remote target, or undefined for this one. */
  actsOn?: string;
  tenant: boolean;
  /** Why it is a tenant's, for the findings that say so. */
  why?: string;
}

export interface Tenancy {
  platformNamespaces: Set<string>;
  /** Tenant namespaces of each target ("" for the cluster itself). */
  tenantNamespaces: Map<string, string[]>;
  appliers: Applier[];
}

const key = (t: string | undefined) => t ?? "";

export function readTenancy(objects: Applied[], lockdown: Lockdown, modelNamespaces: string[], fromRepo: ReadonlySet<string>): Tenancy {
  const platformNamespaces = new Set([lockdown.namespace, ...RESERVED_NAMESPACES]);
  const appliers: Applier[] = objects
    // Only what this cluster's controllers reconcile: an applier landing on a remote cluster is that cluster's Flux's.
    .filter((a) => !a.target && (isFluxKustomization(a.obj) || isHelmRelease(a.obj)))
    .map((a) => {
      const controller = RECONCILED_BY[a.obj.kind!]!;
      const named = typeof a.obj.spec?.serviceAccountName === "string" && a.obj.spec.serviceAccountName !== "" ? (a.obj.spec.serviceAccountName as string) : undefined;
      const sa = named ?? defaultServiceAccount(lockdown, controller);
      const remote = kubeConfigTarget(a.obj);
      return { at: a, controller, ...(named ? { named } : {}), ...(sa ? { id: { namespace: nsOf(a), name: sa } } : {}), ...(remote ? { actsOn: remote } : {}), tenant: false };
    });
  const tenantNamespaces = new Map<string, Set<string>>();
  const reasons = new Map<string, string>();
  const add = (target: string | undefined, ns: string, why: string) => {
    if (platformNamespaces.has(ns)) return;
    if (!target && !reasons.has(ns)) reasons.set(ns, why);
    const set = tenantNamespaces.get(key(target)) ?? new Set<string>();
    set.add(ns);
    tenantNamespaces.set(key(target), set);
  };
  // The team the Flux namespace is labelled with is the platform team (Flux's kustomize-helm
  // example labels flux-system and its infrastructure namespaces sre-team): its namespaces are
  // the platform's, not a tenant's.
  const platformTeam =
    objects.find((a) => !a.target && a.obj.kind === "Namespace" && a.obj.metadata?.name === lockdown.namespace)?.obj.metadata?.labels?.[TENANT_LABEL] ?? lockdown.platformTeam;
  for (const a of objects)
    if (a.obj.kind === "Namespace" && a.obj.metadata?.labels?.[TENANT_LABEL] && a.obj.metadata.name && !(platformTeam && !a.target && a.obj.metadata.labels[TENANT_LABEL] === platformTeam))
      add(a.target, a.obj.metadata.name, `namespace ${a.obj.metadata.name} is labelled ${TENANT_LABEL}: ${a.obj.metadata.labels[TENANT_LABEL]}`);
  for (const ns of modelNamespaces) add(undefined, ns, `namespace ${ns} is a tenant's in this repository's tenants/`);
  for (const ap of appliers)
    if (ap.id && !CONTROLLER_ACCOUNTS.has(ap.id.name) && !ap.actsOn)
      add(undefined, nsOf(ap.at), `its appliers in namespace ${nsOf(ap.at)} act as ${nsOf(ap.at)}:${ap.id.name}, an account of the namespace`);
  // Parents come before what they apply, so a tenant's own appliers are known when their children are judged.
  const tenantRefs = new Set<string>();
  for (const ap of appliers) {
    const ns = nsOf(ap.at);
    const label = ap.at.obj.metadata?.labels?.[TENANT_LABEL];
    // In a tenant's namespace, an applier is the tenant's when the tenant controls what it does:
    // it acts as an account of the namespace, it reads content outside this repository's review,
    // or a tenant's own applier wrote it. One the platform writes and runs as itself is the
    // platform's (Flux's kustomize-helm example labels its infrastructure namespaces by team).
    const controlled =
      (ap.id !== undefined && !CONTROLLER_ACCOUNTS.has(ap.id.name)) ||
      (isFluxKustomization(ap.at.obj) && !fromRepo.has(ref(ap.at.obj))) ||
      tenantRefs.has(ap.at.appliedBy);
    const own = ap.named !== undefined && !CONTROLLER_ACCOUNTS.has(ap.named);
    const why =
      tenantNamespaces.get("")?.has(ns) && controlled
        ? (reasons.get(ns) ?? `namespace ${ns} is a tenant's`)
        : label && own
          ? `it is labelled ${TENANT_LABEL}: ${label} and acts as ${ns}:${ap.named}`
          : own && !ap.actsOn && isFluxKustomization(ap.at.obj) && !fromRepo.has(ref(ap.at.obj))
            ? `it applies content from outside this repository as ${ns}:${ap.named}, an account of its own`
            : undefined;
    ap.tenant = why !== undefined;
    if (why) {
      ap.why = why;
      tenantRefs.add(ref(ap.at.obj));
    }
  }
  return {
    platformNamespaces,
    tenantNamespaces: new Map([...tenantNamespaces].map(([k, v]) => [k, [...v].sort()])),
    appliers,
  };
}

/** Whether an applier acts with platform authority: as a controller's own account, or as the controller itself. */
export const actsAsPlatform = (ap: Applier, lockdown: Lockdown) =>
  ap.id === undefined || (CONTROLLER_ACCOUNTS.has(ap.id.name) && ap.id.namespace === lockdown.namespace);

/**
 * The tenant reconcilers acting on a target, one per identity (what RBAC judges), plus every
 * tenant applier that acts as no account at all (each is its own finding).
 */
export function tenantReconcilers(t: Tenancy, target: string | undefined): Applier[] {
  const seen = new Set<string>();
  return t.appliers.filter((ap) => {
    if (!ap.tenant || key(ap.actsOn) !== key(target)) return false;
    if (!ap.id) return true;
    const k = `${ap.id.namespace}/${ap.id.name}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
