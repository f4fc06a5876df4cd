/**
 * `fleet remove-tenant <name>`: the exact reverse of new-tenant; every overlay still builds.
 *
 * Offboarding is idempotent: a runbook that retries it must not fail. When nothing of the tenant
 * is left (its base, any overlay entry or file, CODEOWNERS), the run changes nothing, says so and
 * exits 0, as any second identical run does. fleet cannot tell a tenant removed earlier from a
 * name that was never there, so the note names the tenants the repo has: a typo shows.
 */
import type { Context, FleetAction, Generator } from "../src/core/generator.js";
import { entryTarget } from "../src/model/kustomize.js";
import { ISOLATED_DIR, readOverlays } from "../src/model/overlays.js";
import { defaultSync, TENANTS_BASE, type Tenant } from "../src/model/tenants.js";
import * as v from "../src/core/validation.js";
import { listValues } from "../src/core/yaml-edit.js";
import { legacyCodeownersKeys } from "./tenant-actions.js";
import { tenantProof } from "./tenant-proof.js";

const BASE_KUSTOMIZATION = `${TENANTS_BASE}/kustomization.yaml`;
/** Where older fleet wrote the tenant's lines. */
const CODEOWNERS = ".github/CODEOWNERS";

/**
 * Take out the tenant's lines older fleet wrote. A file that held nothing else (older fleet
 * created it in an adopted repo) goes with them: no empty CODEOWNERS is left that was not there.
 */
function codeownersActions(ctx: Context, name: string): FleetAction[] {
  const text = ctx.cs.read(CODEOWNERS);
  if (text === undefined) return [];
  const keys = legacyCodeownersKeys(name);
  const others = text.split(/\r?\n/).filter((l) => l.trim() !== "" && !keys.includes(l.trim().split(/\s+/)[0]!));
  if (others.length === 0 && text.trim() !== "") return [{ type: "fleet:delete", path: CODEOWNERS }];
  return keys.map((key): FleetAction => ({ type: "fleet:line", path: CODEOWNERS, key }));
}

const strings = (values: unknown[]) => values.filter((x): x is string => typeof x === "string");

/**
 * The tenant as the repo has it, or, when its base is gone (a half-done offboarding), what its
 * name alone still claims in the overlays: `../base/<name>` and `<name>-*.yaml` files.
 */
function tenantOrRemains(ctx: Context, name: string): { tenants: Tenant[]; base: string } {
  const found = ctx.model.tenants.find((t) => t.name === name);
  if (found) return { tenants: ctx.model.tenants, base: found.base };
  const base = `${TENANTS_BASE}/${name}`;
  const remains: Tenant = { name, base, single: false, files: [], namespace: name, sync: defaultSync(name), objects: [], apiVersions: {} };
  return { tenants: [...ctx.model.tenants, remains], base };
}

/** The entries of tenants/base/kustomization.yaml (a layout whose overlays list ../base) that are the tenant's. */
function baseEntries(ctx: Context, base: string): string[] {
  const text = ctx.cs.read(BASE_KUSTOMIZATION);
  if (text === undefined) return [];
  return strings(listValues(BASE_KUSTOMIZATION, text, "resources")).filter((r) => entryTarget(TENANTS_BASE, r) === base);
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
    const { tenants, base } = tenantOrRemains(ctx, name);
    const actions: FleetAction[] = [{ type: "fleet:delete", path: base }];
    const inBase = baseEntries(ctx, base);
    if (inBase.length > 0) actions.push({ type: "fleet:kustomization", path: BASE_KUSTOMIZATION, removeResources: inBase });
    // Every overlay in the tree, not only those fleet.yaml lists, and every kustomization of its
    // directory (a `_transformed` sub-overlay): nothing may keep pointing at the base.
    for (const overlay of readOverlays(ctx.cs, tenants)) {
      for (const e of overlay.tenants.get(name) ?? []) {
        actions.push({ type: "fleet:kustomization", path: e.file, removeResources: e.resources, removePatches: e.patches, removeStrategicMerge: e.strategicMerge });
        for (const file of e.files) actions.push({ type: "fleet:delete", path: file });
      }
      // new-tenant moved the overlay's transformers into a sub-overlay; alone again, it moves back.
      if (ctx.cs.exists(`${overlay.dir}/${ISOLATED_DIR}/kustomization.yaml`)) actions.push({ type: "fleet:merge-isolated", path: overlay.file, into: ISOLATED_DIR });
    }
    actions.push(...codeownersActions(ctx, name));
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
  nextSteps: (a, ctx) => {
    // The namespace as the repo had it (Flux's multi-tenancy example keeps dev-team in apps).
    const namespace = ctx.model.tenants.find((t) => t.name === String(a.name))?.namespace ?? String(a.name);
    return [
      `Commit and push: Flux prunes the tenant's objects and namespace (prune: true).`,
      `Delete its git-auth secret from each cluster if it outlives the namespace: kubectl -n ${namespace} delete secret git-auth`,
    ];
  },
};

export default removeTenant;
