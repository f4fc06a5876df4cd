/** `fleet remove-tenant <name>`: the exact reverse of new-tenant; every overlay still builds. */
import type { Context, FleetAction, Generator } from "../src/core/generator.js";
import { detectEnvironments, TENANTS_BASE } from "../src/core/repo.js";
import * as v from "../src/core/validation.js";
import { listValues } from "../src/core/yaml-edit.js";
import { codeownersKeys, tenantFiles } from "./tenant-actions.js";

/**
 * Files of the tenant an overlay references: fleet's own `<name>-patch.yaml` and
 * `<name>-quota.yaml`, and any other `<name>-*.yaml` (Flux's multi-tenancy example names its
 * patches that way).
 */
function overlayFiles(ctx: Context, env: string, name: string): { resources: string[]; patches: string[] } {
  const f = tenantFiles(env, name);
  const text = ctx.cs.read(f.overlay);
  if (text === undefined) return { resources: [], patches: [] };
  // team-a-patch.yaml is team-a's, not team's: a longer tenant name that matches claims it.
  const longer = ctx.tenants.filter((t) => t !== name && t.startsWith(`${name}-`));
  const own = (x: unknown): x is string =>
    typeof x === "string" && x.startsWith(`${name}-`) && /\.ya?ml$/.test(x) && !longer.some((t) => x.startsWith(`${t}-`));
  return {
    resources: listValues(f.overlay, text, "resources").filter(own),
    patches: listValues(f.overlay, text, "patches", "path").filter(own),
  };
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
      choices: (ctx) => ctx.tenants,
      // Any tenant that is there can go, whatever rule named it: a label keeps the path inside tenants/.
      validate: (val) => v.dnsLabel(String(val)),
    },
  ],
  check: (a, ctx) =>
    ctx.tenants.includes(String(a.name))
      ? []
      : [{ field: "<name>", rule: `no tenant '${String(a.name)}' in ${TENANTS_BASE}/`, fix: `existing tenants: ${ctx.tenants.join(", ") || "none"}` }],
  actions: (a, ctx) => {
    const name = String(a.name);
    const actions: FleetAction[] = [{ type: "fleet:delete", path: `${TENANTS_BASE}/${name}` }];
    // Every overlay in the tree, not only those fleet.yaml lists: nothing may keep pointing at the base.
    for (const env of detectEnvironments(ctx.cs)) {
      const f = tenantFiles(env, name);
      const { resources, patches } = overlayFiles(ctx, env, name);
      actions.push({
        type: "fleet:kustomization",
        path: f.overlay,
        removeResources: [`../base/${name}`, ...resources],
        removePatches: patches,
      });
      for (const file of new Set([...resources, ...patches])) actions.push({ type: "fleet:delete", path: `${f.dir}/${file}` });
    }
    const keys = codeownersKeys(name);
    actions.push({ type: "fleet:line", path: ".github/CODEOWNERS", key: keys.rbac });
    actions.push({ type: "fleet:line", path: ".github/CODEOWNERS", key: keys.dir });
    return actions;
  },
  nextSteps: (a) => [
    `Commit and push: Flux prunes the tenant's objects and namespace (prune: true).`,
    `Delete its git-auth secret from each cluster if it outlives the namespace: kubectl -n ${String(a.name)} delete secret git-auth`,
  ],
};

export default removeTenant;
