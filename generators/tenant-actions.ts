/**
 * The files of one tenant, shared by new-tenant, new-env and init's example tenants, so a tenant
 * looks the same whichever command wrote it. remove-tenant undoes exactly these.
 */
import { sharedPin, type EnvConfig, type FleetConfig, type Quota } from "../src/core/config.js";
import { NETWORK_POLICY_FILE, NETWORK_POLICY_NAME, type PodSecurityLevel } from "../src/core/tenant-policies.js";
import { apiVersions, type FluxKind } from "../src/flux/index.js";
import type { FleetAction } from "../src/core/generator.js";
import { entryFrom } from "../src/model/kustomize.js";
import { unitFiles } from "../src/model/layout.js";
import { DEFAULT_LAYOUT, type Layout } from "../src/model/overlays.js";
import { TENANTS_BASE, type TenantSync } from "../src/model/tenants.js";
import { refEntries, type GitRef } from "../src/flux/git-ref.js";
import { RECONCILER } from "../src/model/tenant-bounds.js";

export interface Tenant {
  name: string;
  url: string;
  /** What its GitRepository checks out: one of branch, tag, semver or commit. */
  ref: GitRef;
  /** The Secret its GitRepository reads credentials from; empty for a public repository. */
  secretRef: string;
  path: string;
  interval: string;
  role: string;
  environments: string[];
  /** Quota keys to override, for every environment ("cpu") or one ("prod.cpu"). */
  quota: string[];
  /** Why the tenant's binding is flagged (a forced cluster-admin), or empty. */
  flagged: string;
  /** The Pod Security Standard its namespace enforces (when fleet.yaml's tenantPolicies.podSecurity is on). */
  podSecurity: PodSecurityLevel;
}

export const QUOTA_KEYS = ["cpu", "memory", "pods"] as const;

/** The Secret a tenant's GitRepository reads credentials from unless told otherwise; fleet's runbook names it too. */
export const DEFAULT_SECRET = "git-auth";

/** The quota of a tenant in one environment: the environment's default with overrides on top. */
export function quotaFor(env: EnvConfig, overrides: string[]): Quota {
  const q: Quota = { ...env.quota };
  // Environment-wide overrides first, then ones naming this environment, whatever the order given.
  const entries = overrides.map((o) => o.split("=") as [string, string]);
  for (const [k, v] of entries) if (!k.includes(".")) q[k as keyof Quota] = v;
  for (const [k, v] of entries) if (k.startsWith(`${env.name}.`)) q[k.slice(env.name.length + 1) as keyof Quota] = v;
  return q;
}

/** Where each environment's tenant overlay reads its path from: <base path>/<env>. */
export function envPath(basePath: string, env: string): string {
  const trimmed = basePath.replace(/\/+$/, "");
  return trimmed === "." || trimmed === "" ? `./${env}` : `${trimmed}/${env}`;
}

/**
 * Where a tenant's files go in one environment, by the overlay's layout (src/model/overlays.ts):
 * flat lists its base, patch and quota in the overlay; units gives it a Flux Kustomization
 * (`unit`) applying a directory of its own that holds its base entry, patch and quota.
 */
export const tenantFiles = (env: string, name: string, layout: Layout = DEFAULT_LAYOUT) => {
  const dir = `tenants/${env}`;
  const overlay = `${dir}/kustomization.yaml`;
  if (layout === "flat") return { overlay, dir, unit: undefined, unitDir: undefined, patch: `${dir}/${name}-patch.yaml`, quota: `${dir}/${name}-quota.yaml` };
  const u = unitFiles(env, name);
  return { overlay, dir, unit: u.unit, unitDir: u.dir, patch: u.patch, quota: u.quota };
};

/** What a tenant's overlay files need to know of it; new tenants name everything after themselves. */
export type TenantRef = Pick<Tenant, "name" | "path" | "ref" | "quota"> &
  Partial<Omit<TenantSync, "path" | "ref" | "url">> & {
    /** The apiVersions its base's objects are at: a patch at another version finds no target. */
    apiVersions?: Partial<Record<FluxKind, string>>;
    /** How the overlay includes its base (`../base/<name>`); null when the overlay includes it already (`../base`). Flat layout only. */
    baseEntry?: string | null;
    /** Repo path of its base, when not fleet's `tenants/base/<name>` directory (one file, in adopted repos): what a unit includes. */
    base?: string;
  };

/**
 * A tenant's files in one environment: its patch, its quota, and the references to them and its
 * base, in the overlay's layout. `overlayFile`: the environment's kustomization as the repo
 * spells it (kustomization.yml, ...).
 */
export function tenantEnvActions(t: TenantRef, env: EnvConfig, config: FleetConfig, overlayFile?: string, layout: Layout = DEFAULT_LAYOUT): FleetAction[] {
  const f = { ...tenantFiles(env.name, t.name, layout), ...(overlayFile ? { overlay: overlayFile } : {}) };
  const api = { ...apiVersions(sharedPin(config)), ...t.apiVersions };
  const names = {
    name: t.name,
    namespace: t.namespace ?? t.name,
    kustomization: t.kustomization ?? t.name,
    gitRepository: t.gitRepository ?? t.name,
  };
  const files: FleetAction[] = [
    {
      type: "fleet:render",
      path: f.patch,
      template: "tenant/env-patch.yaml",
      data: { ...names, env: env.name, api, ...refData(t.ref), interval: env.interval, path: envPath(t.path, env.name) },
    },
    {
      type: "fleet:render",
      path: f.quota,
      template: "tenant/quota.yaml",
      data: { ...names, env: env.name, quota: quotaFor(env, t.quota), limitRange: env.limitRange },
    },
  ];
  if (f.unit === undefined)
    return [
      ...files,
      {
        type: "fleet:kustomization",
        path: f.overlay,
        addResources: [...(t.baseEntry === null ? [] : [t.baseEntry ?? `../base/${t.name}`]), entryFrom(f.dir, f.quota)],
        addPatches: [entryFrom(f.dir, f.patch)],
      },
    ];
  return [
    ...files,
    { type: "fleet:render", path: `${f.unitDir}/kustomization.yaml`, template: "tenant/unit-kustomization.yaml", data: { name: t.name, env: env.name, baseEntry: unitFiles(env.name, t.name, t.base).baseEntry } },
    { type: "fleet:render", path: f.unit, template: "tenant/unit.yaml", data: { name: t.name, env: env.name, api } },
    { type: "fleet:kustomization", path: f.overlay, addResources: [entryFrom(f.dir, f.unit)] },
  ];
}

/**
 * The CODEOWNERS lines fleet wrote per tenant before it knew better (the team owning its base
 * directory, the platform its rbac.yaml). A tenant's base is applied as kustomize-controller, so
 * the platform team owns all of it (its `*` line says so) and fleet writes none; remove-tenant
 * still takes these out of repos older fleet wrote them into.
 */
export const legacyCodeownersKeys = (name: string) => [`/${TENANTS_BASE}/${name}/rbac.yaml`, `/${TENANTS_BASE}/${name}/`];

/**
 * A ref as the sync and patch templates take it: its fields in the API's order, and `branch` as
 * well where it follows one (what templates overridden in .fleet/templates/ were written for).
 */
export const refData = (ref: GitRef) => ({ ref: refEntries(ref), ...(ref.branch !== undefined ? { branch: ref.branch } : {}) });

/** `overlays`: each environment's kustomization file as the repo spells it, and its layout. */
export function tenantActions(t: Tenant, config: FleetConfig, overlays: Record<string, { file?: string; layout: Layout }> = {}): FleetAction[] {
  const api = apiVersions(sharedPin(config));
  const base = `${TENANTS_BASE}/${t.name}`;
  const policies = config.tenantPolicies;
  const data = { ...t, ...refData(t.ref), api, podSecurity: policies.podSecurity ? t.podSecurity : "", networkPolicy: policies.networkPolicy ? NETWORK_POLICY_FILE : "", networkPolicyName: NETWORK_POLICY_NAME };
  return [
    { type: "fleet:render", path: `${base}/namespace.yaml`, template: "tenant/namespace.yaml", data },
    { type: "fleet:render", path: `${base}/rbac.yaml`, template: "tenant/rbac.yaml", data: { ...data, account: RECONCILER, namespace: t.name, tenant: t.name } },
    { type: "fleet:render", path: `${base}/sync.yaml`, template: "tenant/sync.yaml", data },
    ...(policies.networkPolicy ? [{ type: "fleet:render" as const, path: `${base}/${NETWORK_POLICY_FILE}`, template: "tenant/network-policy.yaml", data }] : []),
    { type: "fleet:render", path: `${base}/kustomization.yaml`, template: "tenant/kustomization.yaml", data },
    ...config.environments
      .filter((e) => t.environments.includes(e.name))
      .flatMap((env) => tenantEnvActions(t, env, config, overlays[env.name]?.file, overlays[env.name]?.layout)),
  ];
}
