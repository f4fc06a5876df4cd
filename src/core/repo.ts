/**
 * The repo model: fleet.yaml plus what the tree says (which tenants, which environments,
 * which clusters), all read through the change set so staged edits are seen.
 */
import * as path from "node:path";
import type { ChangeSet } from "../changeset/changeset.js";
import { CONFIG_FILE, parseConfig, type FleetConfig } from "./config.js";
import { readObjects } from "../model/objects.js";

export { readObjects } from "../model/objects.js";

export { findRepoRoot } from "./repo-root.js";

/**
 * A tenant's sync objects as its base has them. fleet names them all after the tenant; an
 * adopted repo may not (Flux's multi-tenancy example puts tenant dev-team in namespace apps).
 */
export interface TenantSync {
  namespace: string;
  /** Name of the tenant's Flux Kustomization and its spec.path. */
  kustomization: string;
  path: string;
  /** Name of the tenant's GitRepository (empty when its source is another kind) and its branch. */
  gitRepository: string;
  branch: string;
  url: string;
}

export const TENANTS_BASE = "tenants/base";

/**
 * What a kustomization in `dir` means by an entry of its resources or patches: the repo-relative
 * path, however it is spelled (`../base/t/`, `./../base/t` and `../base/./t` from tenants/prod
 * all mean tenants/base/t).
 */
export function entryTarget(dir: string, entry: string): string {
  return path.posix.normalize(path.posix.join(dir, entry)).replace(/\/+$/, "");
}

/** Tenants are the directories of tenants/base that hold a kustomization. */
export function listTenants(cs: ChangeSet): string[] {
  return cs.list(TENANTS_BASE).dirs.filter((d) => cs.exists(`${TENANTS_BASE}/${d}/kustomization.yaml`));
}

/** Environments as the tree has them: tenants/<env>/ with a kustomization, besides base. */
export function detectEnvironments(cs: ChangeSet): string[] {
  return cs.list("tenants").dirs.filter((d) => d !== "base" && cs.exists(`tenants/${d}/kustomization.yaml`));
}

/** Read a tenant's sync settings back from its base, whichever file holds them. */
export function readTenantSync(cs: ChangeSet, tenant: string): TenantSync {
  const sync: TenantSync = { namespace: tenant, kustomization: tenant, path: "./", gitRepository: "", branch: "main", url: "" };
  const dir = `${TENANTS_BASE}/${tenant}`;
  // A namespace set in the base kustomization overrides what the objects say.
  const kz = readObjects(cs, `${dir}/kustomization.yaml`)[0] as { namespace?: string } | undefined;
  for (const f of cs.list(dir).files.filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml")) {
    for (const o of readObjects(cs, `${dir}/${f}`)) {
      const spec = o.spec ?? {};
      const ns = kz?.namespace ?? o.metadata?.namespace;
      if (o.kind === "Kustomization" && o.apiVersion?.startsWith("kustomize.toolkit.fluxcd.io/")) {
        sync.kustomization = o.metadata?.name ?? tenant;
        if (ns) sync.namespace = ns;
        if (typeof spec.path === "string") sync.path = spec.path;
      }
      if (o.kind === "GitRepository") {
        sync.gitRepository = o.metadata?.name ?? tenant;
        const ref = spec.ref as { branch?: string } | undefined;
        if (ref?.branch) sync.branch = ref.branch;
        if (typeof spec.url === "string") sync.url = spec.url;
      }
    }
  }
  return sync;
}

/** Where each environment's tenant overlay reads its path from: <base path>/<env>. */
export function envPath(basePath: string, env: string): string {
  const trimmed = basePath.replace(/\/+$/, "");
  return trimmed === "." || trimmed === "" ? `./${env}` : `${trimmed}/${env}`;
}

export function loadConfig(cs: ChangeSet): FleetConfig {
  const text = cs.read(CONFIG_FILE);
  if (text === undefined) throw new Error(`${CONFIG_FILE} is missing`);
  return parseConfig(text).config;
}
