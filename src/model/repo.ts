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

/** The repo paths that are each tenant's: its base, and its own files in every overlay. */
export function tenantPaths(model: RepoModel): Map<string, string[]> {
  const out = new Map(model.tenants.map((t) => [t.name, [t.base]]));
  for (const o of model.overlays) for (const [name, entries] of o.tenants) for (const e of entries) out.get(name)?.push(...e.files);
  return out;
}

/** Each tenant's units (tenants/<env>/<t>.yaml): platform Kustomizations that apply only the tenant's unit directory. */
export function unitPaths(model: RepoModel): Map<string, Array<{ file: string; dir: string }>> {
  const out = new Map<string, Array<{ file: string; dir: string }>>();
  for (const o of model.overlays) for (const [name, u] of o.units) out.set(name, [...(out.get(name) ?? []), { file: u.file, dir: u.dir }]);
  return out;
}

/**
 * `before`: the repo as it is before this run's changes, however late a detail is asked for
 * (generators' context); otherwise as the change set has it now (staged changes included).
 */
export function readRepo(cs: ChangeSet, opts: { before?: boolean } = {}): RepoModel {
  const tenants = readTenants(cs, opts);
  return { tenants, overlays: readOverlays(cs, tenants, opts) };
}
