/**
 * fleet.yaml as the change set has it, and the paths fleet derives from a tenant's settings.
 * What the tree says (tenants, overlays, clusters) is the repo model's: src/model/.
 */
import type { ChangeSet } from "../changeset/changeset.js";
import { CONFIG_FILE, parseConfig, type FleetConfig } from "./config.js";

export { readObjects } from "../model/objects.js";
export { entryTarget } from "../model/kustomize.js";
export { detectEnvironments } from "../model/overlays.js";
export { listTenants, readTenantSync, TENANTS_BASE, type TenantSync } from "../model/tenants.js";
export { findRepoRoot } from "./repo-root.js";

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
