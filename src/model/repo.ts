/**
 * THE model of a Flux repo (design section 3), read the way Flux reads it and through the change
 * set, so staged edits are seen. Every command reads the repo through here.
 */
import type { ChangeSet } from "../changeset/changeset.js";
import { readOverlays, type Overlay } from "./overlays.js";
import { readTenants, type Tenant } from "./tenants.js";

export interface RepoModel {
  tenants: Tenant[];
  /** Environment overlays of tenants/, in tree order. */
  overlays: Overlay[];
}

/**
 * `before`: the repo as it is before this run's changes, however late a detail is asked for
 * (generators' context); otherwise as the change set has it now (staged changes included).
 */
export function readRepo(cs: ChangeSet, opts: { before?: boolean } = {}): RepoModel {
  const tenants = readTenants(cs, opts);
  return { tenants, overlays: readOverlays(cs, tenants) };
}
