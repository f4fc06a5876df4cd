/**
 * Which tenant layout each environment overlay is in (design section 2), read through the repo
 * model: flat (the overlay lists `../base/<t>`, `<t>-quota.yaml` and patch `<t>-patch.yaml` for
 * every tenant) or units (it lists `<t>.yaml`, a Flux Kustomization `tenant-<t>` applying
 * `tenants/<env>/<t>/`), what stops fleet moving a flat overlay, and the cluster Kustomizations
 * that apply each overlay. Read-only: migrate-layout stages the moves.
 */
import * as path from "node:path";
import type { ChangeSet } from "../changeset/changeset.js";
import { fluxPath } from "./flux-path.js";
import { entryTarget, isYamlFile } from "./kustomize.js";
import { isFluxKustomization, readObjects, type K8sObject } from "./objects.js";
import type { Overlay } from "./overlays.js";
import type { RepoModel } from "./repo.js";
import { TENANTS_BASE } from "./tenants.js";

/** The Flux Kustomization of a tenant's unit in one environment. */
export const unitName = (tenant: string) => `tenant-${tenant}`;

/**
 * Where a tenant's unit lives in an environment (design section 2). `base`: the repo path of the
 * tenant's base, a directory (fleet's) or one file (adopted repos), which the unit includes.
 */
export const unitFiles = (env: string, tenant: string, base = `${TENANTS_BASE}/${tenant}`) => ({
  /** How the unit's kustomization includes the base. */
  baseEntry: path.posix.relative(`tenants/${env}/${tenant}`, base),
  /** The Flux Kustomization tenant-<t>, as the overlay lists it and as a repo path. */
  entry: `${tenant}.yaml`,
  unit: `tenants/${env}/${tenant}.yaml`,
  dir: `tenants/${env}/${tenant}`,
  kustomization: `tenants/${env}/${tenant}/kustomization.yaml`,
  patch: `tenants/${env}/${tenant}/patch.yaml`,
  quota: `tenants/${env}/${tenant}/quota.yaml`,
});

/**
 * The annotation kustomize-controller's garbage collection skips an object for, read on the
 * object as it is in the cluster (fluxcd/pkg ssa/manager_delete.go: DeleteOptions.Exclusions,
 * set by kustomize-controller's prune() in internal/controller/kustomization_controller.go).
 */
export const PRUNE_DISABLED = { key: "kustomize.toolkit.fluxcd.io/prune", value: "disabled" } as const;
/** Where a cluster's Kustomization sets it on every object it applies (spec.commonMetadata). */
export const PROTECTION_PATH = ["spec", "commonMetadata", "annotations", PRUNE_DISABLED.key];

/** One tenant of a flat overlay, in exactly the shape fleet moves. */
export interface FlatTenant {
  name: string;
  /** Repo path of its base (a directory, or one file). */
  base: string;
  /** The entries of the overlay's kustomization that are the tenant's, spelled as there. */
  resources: string[];
  patches: string[];
  /** Repo paths of its environment patch and quota. */
  patch: string;
  quota: string;
}

export interface EnvLayout {
  env: string;
  dir: string;
  /** The overlay's kustomization file. */
  file: string;
  flat: FlatTenant[];
  /** Tenants already in their own unit. */
  units: string[];
  /** Why fleet cannot move this overlay, one sentence each; empty when it can. */
  blocked: string[];
}

/** A tenant's entries in an overlay, in the flat shape fleet writes, or why they are not. */
function flatTenant(overlay: Overlay, name: string, model: RepoModel): FlatTenant | string | undefined {
  // The overlays model reads each tenant's unit itself: one there is moved already.
  if (overlay.units.has(name)) return undefined;
  const entries = overlay.tenants.get(name) ?? [];
  const base = model.tenants.find((t) => t.name === name)!;
  const resources = entries.flatMap((e) => e.resources);
  const patches = entries.flatMap((e) => e.patches);
  const unit = unitFiles(overlay.env, name).entry;
  if (resources.length === 1 && resources[0] === unit && patches.length === 0) return undefined;
  const shape = `../base/${name}, ${name}-quota.yaml and patch ${name}-patch.yaml`;
  if (entries.some((e) => e.file !== overlay.file || e.strategicMerge.length > 0))
    return `tenant ${name} is included from another kustomization or through patchesStrategicMerge, not in fleet's flat shape (${shape})`;
  const baseEntry = resources.filter((r) => entryTarget(overlay.dir, r) === base.base);
  const quota = resources.filter((r) => entryTarget(overlay.dir, r) === `${overlay.dir}/${name}-quota.yaml`);
  const patch = patches.filter((p) => entryTarget(overlay.dir, p) === `${overlay.dir}/${name}-patch.yaml`);
  if (baseEntry.length !== 1 || quota.length !== 1 || patch.length !== 1 || resources.length !== 2 || patches.length !== 1)
    return `tenant ${name} is listed as ${[...resources, ...patches.map((p) => `patch ${p}`)].join(", ") || "nothing of its own"}, not in fleet's flat shape (${shape})`;
  return { name, base: base.base, resources, patches, patch: `${overlay.dir}/${name}-patch.yaml`, quota: `${overlay.dir}/${name}-quota.yaml` };
}

/** The layout of every environment overlay of the model (`envs`: only these). */
export function readLayout(model: RepoModel, envs?: string[]): EnvLayout[] {
  return model.overlays
    .filter((o) => !envs || envs.includes(o.env))
    .map((o) => {
      const out: EnvLayout = { env: o.env, dir: o.dir, file: o.file, flat: [], units: [], blocked: [] };
      // What kustomize would do to every object the overlay builds: moved into a unit, a tenant
      // would lose it (or keep it only by copying it into each unit, which is another change).
      if (o.transformers.length) out.blocked.push(`${o.file} has transformers (${o.transformers.join(", ")}) that apply to every tenant it includes`);
      if (o.files.length > 1) out.blocked.push(`${o.dir} includes kustomizations of its own directory (${o.files.slice(1).join(", ")}), such as fleet's _transformed sub-overlay`);
      if (o.wholeBase.length) out.blocked.push(`${o.file} includes ${TENANTS_BASE} as a whole (${o.wholeBase.join(", ")}), not each tenant`);
      out.blocked.push(...o.missing);
      for (const name of [...o.tenants.keys()].sort()) {
        const t = flatTenant(o, name, model);
        if (t === undefined) out.units.push(name);
        else if (typeof t === "string") out.blocked.push(t);
        else out.flat.push(t);
      }
      return out;
    });
}

/** A Flux Kustomization in clusters/ that applies one environment's tenant overlay. */
export interface OverlayApplier {
  /** The file declaring it, and its namespace/name. */
  file: string;
  name: string;
  namespace: string;
  env: string;
  /** It sets prune: disabled on everything it applies (spec.commonMetadata). */
  protected: boolean;
  /** Its spec fields that change what it applies, so a unit (which has none of them) would apply other objects. */
  differs: string[];
}

/**
 * What a unit's Flux Kustomization sets that changes the objects it applies (templates/tenant/unit.yaml.hbs):
 * the overlay's own applier must set the same, or the objects would change as they move.
 */
const UNIT_SPEC: Record<string, (v: unknown) => boolean> = {
  serviceAccountName: (v) => v === "kustomize-controller",
  postBuild: (v) => JSON.stringify(v) === JSON.stringify({ substituteFrom: [{ kind: "ConfigMap", name: "cluster-vars" }] }),
  sourceRef: (v) => {
    const s = v as { kind?: unknown; name?: unknown; namespace?: unknown } | undefined;
    return s?.kind === "GitRepository" && s.name === "flux-system" && (s.namespace === undefined || s.namespace === "flux-system");
  },
};
/** Spec fields that change what is applied and that a unit does not set. */
const TRANSFORMING_SPEC = ["targetNamespace", "namePrefix", "nameSuffix", "patches", "images", "components", "commonMetadata", "decryption", "kubeConfig"];

function differences(k: K8sObject): string[] {
  const spec = (k.spec ?? {}) as Record<string, unknown>;
  const out = Object.entries(UNIT_SPEC)
    .filter(([field, same]) => !same(spec[field]))
    .map(([field]) => `spec.${field} is ${spec[field] === undefined ? "unset" : JSON.stringify(spec[field])}, not what a unit sets`);
  for (const field of TRANSFORMING_SPEC) {
    if (spec[field] === undefined) continue;
    if (field === "commonMetadata" && isProtectionOnly(spec[field])) continue;
    out.push(`spec.${field} changes what it applies, and a unit does not set it`);
  }
  if (k.metadata?.namespace !== "flux-system") out.push(`it is in namespace ${k.metadata?.namespace ?? "(none)"}, not flux-system where units are`);
  return out;
}

/** commonMetadata holding nothing but the migration's protection. */
function isProtectionOnly(v: unknown): boolean {
  return JSON.stringify(v) === JSON.stringify({ annotations: { [PRUNE_DISABLED.key]: PRUNE_DISABLED.value } });
}

/** Every Flux Kustomization under clusters/ whose path is one of these environments' tenant overlays. */
export function overlayAppliers(cs: ChangeSet, envs: string[]): OverlayApplier[] {
  const byPath = new Map(envs.map((e) => [`tenants/${e}`, e]));
  const out: OverlayApplier[] = [];
  for (const file of cs.walk("clusters").filter(isYamlFile)) {
    const text = cs.read(file) ?? "";
    if (!/^kind:\s*["']?Kustomization/m.test(text) || !text.includes("kustomize.toolkit.fluxcd.io")) continue;
    let objects: K8sObject[];
    try {
      objects = readObjects(cs, file);
    } catch {
      continue;
    }
    for (const k of objects.filter(isFluxKustomization)) {
      const env = byPath.get(fluxPath(k.spec?.path).path ?? "");
      if (env === undefined) continue;
      const annotations = (k.spec?.commonMetadata as { annotations?: Record<string, unknown> } | undefined)?.annotations;
      out.push({
        file,
        name: k.metadata?.name ?? "",
        namespace: k.metadata?.namespace ?? "",
        env,
        protected: annotations?.[PRUNE_DISABLED.key] === PRUNE_DISABLED.value,
        differs: differences(k),
      });
    }
  }
  return out;
}
