/**
 * `fleet remove-tenant <name>`: the exact reverse of new-tenant; every overlay still builds.
 *
 * Offboarding is idempotent: a runbook that retries it must not fail. When nothing of the tenant
 * is left (its base, any overlay entry or file, CODEOWNERS), the run changes nothing, says so and
 * exits 0, as any second identical run does. fleet cannot tell a tenant removed earlier from a
 * name that was never there, so the note names the tenants the repo has: a typo shows.
 */
import * as path from "node:path";
import type { Context, FleetAction, Generator } from "../src/core/generator.js";
import { detectEnvironments, entryTarget, TENANTS_BASE } from "../src/core/repo.js";
import * as v from "../src/core/validation.js";
import { listValues } from "../src/core/yaml-edit.js";
import { codeownersKeys, tenantFiles } from "./tenant-actions.js";
import { tenantProof } from "./tenant-proof.js";

const BASE_KUSTOMIZATION = `${TENANTS_BASE}/kustomization.yaml`;

const strings = (values: unknown[]) => values.filter((x): x is string => typeof x === "string");

/**
 * The tenant's entries in one overlay, as they are spelled there (`../base/t/`, `./t-quota.yaml`),
 * and its files they name in the overlay's directory: fleet's own `<name>-patch.yaml` and
 * `<name>-quota.yaml`, and any other `<name>-*.yaml` (Flux's multi-tenancy example names its
 * patches that way).
 */
function overlayEntries(ctx: Context, env: string, name: string): { resources: string[]; patches: string[]; files: string[] } {
  const f = tenantFiles(env, name);
  const text = ctx.cs.read(f.overlay);
  if (text === undefined) return { resources: [], patches: [], files: [] };
  // team-a-patch.yaml is team-a's, not team's: a longer tenant name that matches claims it.
  const longer = ctx.tenants.filter((t) => t !== name && t.startsWith(`${name}-`));
  const ownFile = (entry: string): string | undefined => {
    const target = entryTarget(f.dir, entry);
    const file = path.posix.basename(target);
    const own = path.posix.dirname(target) === f.dir && file.startsWith(`${name}-`) && /\.ya?ml$/.test(file);
    return own && !longer.some((t) => file.startsWith(`${t}-`)) ? file : undefined;
  };
  const resources = strings(listValues(f.overlay, text, "resources"));
  const patches = strings(listValues(f.overlay, text, "patches", "path"));
  return {
    resources: resources.filter((r) => entryTarget(f.dir, r) === `${TENANTS_BASE}/${name}` || ownFile(r)),
    patches: patches.filter((p) => ownFile(p)),
    files: [...new Set([...resources, ...patches].map(ownFile).filter((x): x is string => x !== undefined))],
  };
}

/** The entries of tenants/base/kustomization.yaml (a layout whose overlays list ../base) that are the tenant's. */
function baseEntries(ctx: Context, name: string): string[] {
  const text = ctx.cs.read(BASE_KUSTOMIZATION);
  if (text === undefined) return [];
  return strings(listValues(BASE_KUSTOMIZATION, text, "resources")).filter((r) => entryTarget(TENANTS_BASE, r) === `${TENANTS_BASE}/${name}`);
}

export const removeTenant: Generator = {
  name: "remove-tenant",
  description: "Offboard a tenant: remove it from base, every environment overlay and CODEOWNERS",
  needsRepo: true,
  answers: [
    {
      name: "name",
      positional: true,
      message: "Tenant to remove",
      // Any tenant that is there can go, whatever rule named it: a label keeps the path inside tenants/.
      validate: (val) => v.dnsLabel(String(val)),
    },
  ],
  actions: (a, ctx) => {
    const name = String(a.name);
    const actions: FleetAction[] = [{ type: "fleet:delete", path: `${TENANTS_BASE}/${name}` }];
    const inBase = baseEntries(ctx, name);
    if (inBase.length > 0) actions.push({ type: "fleet:kustomization", path: BASE_KUSTOMIZATION, removeResources: inBase });
    // Every overlay in the tree, not only those fleet.yaml lists: nothing may keep pointing at the base.
    for (const env of detectEnvironments(ctx.cs)) {
      const f = tenantFiles(env, name);
      const { resources, patches, files } = overlayEntries(ctx, env, name);
      actions.push({ type: "fleet:kustomization", path: f.overlay, removeResources: resources, removePatches: patches });
      for (const file of files) actions.push({ type: "fleet:delete", path: `${f.dir}/${file}` });
    }
    const keys = codeownersKeys(name);
    actions.push({ type: "fleet:line", path: ".github/CODEOWNERS", key: keys.rbac });
    actions.push({ type: "fleet:line", path: ".github/CODEOWNERS", key: keys.dir });
    return actions;
  },
  proof: (a, ctx) => tenantProof(ctx, [String(a.name)]),
  notes: (a, ctx) =>
    ctx.cs.hasChanges()
      ? []
      : [
          `nothing of tenant '${String(a.name)}' is left in ${TENANTS_BASE}/, the environment overlays or CODEOWNERS; ` +
            `tenants in this repo: ${ctx.tenants.join(", ") || "none"}`,
        ],
  nextSteps: (a) => [
    `Commit and push: Flux prunes the tenant's objects and namespace (prune: true).`,
    `Delete its git-auth secret from each cluster if it outlives the namespace: kubectl -n ${String(a.name)} delete secret git-auth`,
  ],
};

export default removeTenant;
