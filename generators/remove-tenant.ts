/**
 * `fleet remove-tenant <name>`: the exact reverse of new-tenant, in two steps; every overlay
 * still builds after each.
 *
 * Why two steps. The tenant's Kustomization carries a finalizer; when it is deleted,
 * kustomize-controller prunes what it applied by impersonating its serviceAccountName (or the
 * --default-service-account) in the tenant namespace. fluxcd/kustomize-controller,
 * internal/controller/kustomization_controller.go, func finalize: when
 * `impersonation.CanImpersonate` fails because the account is gone, it logs "unable to prune
 * objects", emits a warning event, skips pruning and removes the finalizer (releases before that
 * check returned the client error and retried forever, leaving the namespace Terminating). So a
 * single prune that deletes the Kustomization, its ServiceAccount and RoleBinding together races:
 * the tenant's workloads are either left behind unpruned or Flux is stuck. Removing the sync
 * first, while the reconciler still exists, lets the finalizer prune as the reconciler; the
 * namespace and RBAC go in the second step, once that is done.
 *
 * Which step is due is read from the tree, nothing else is recorded: a base that still declares
 * Flux objects is on step 1; a base without them (step 1 happened), or none left, is on step 2.
 *
 * Offboarding is idempotent: a runbook that retries it must not fail. When nothing of the tenant
 * is left (its base, any overlay entry or file, CODEOWNERS), the run changes nothing, says so and
 * exits 0, as any second identical run does. fleet cannot tell a tenant removed earlier from a
 * name that was never there, so the note names the tenants the repo has: a typo shows.
 */
import * as path from "node:path";
import type { Answers, Context, FleetAction, Generator } from "../src/core/generator.js";
import { entryFrom, entryTarget, kustomizationIn } from "../src/model/kustomize.js";
import { readObjects } from "../src/model/objects.js";
import { ISOLATED_DIR, readOverlays } from "../src/model/overlays.js";
import { defaultSync, TENANTS_BASE, type Declared, type Tenant } from "../src/model/tenants.js";
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

/**
 * The tenant's sync: every Flux object of its base (its Kustomization and HelmReleases, which
 * run as its reconciler, their sources, its image automation). What stays for step 2 is what
 * the reconciler needs to prune: its namespace, ServiceAccount, RoleBinding, quota.
 */
const FLUX_GROUPS = ".toolkit.fluxcd.io";
const isSync = (o: { apiVersion?: string }) => (o.apiVersion ?? "").includes("/") && o.apiVersion!.split("/")[0]!.endsWith(FLUX_GROUPS);

/** Step 1 is due while the tenant's base still declares its sync; otherwise step 2 (or nothing is left). */
function stepDue(ctx: Context, name: string): 1 | 2 {
  const t = ctx.model.tenants.find((x) => x.name === name);
  return t && t.objects.some((o: Declared) => isSync(o)) ? 1 : 2;
}

/** A file's objects are all sync objects (and it has some). */
function allSync(ctx: Context, file: string): boolean {
  try {
    const objs = readObjects(ctx.cs, file);
    return objs.length > 0 && objs.every(isSync);
  } catch {
    return false;
  }
}

/** Step 1: the tenant's sync out of its base and the environment patches that patch only it. */
function syncActions(ctx: Context, t: Tenant): FleetAction[] {
  const actions: FleetAction[] = [];
  const kfile = t.single ? undefined : kustomizationIn(ctx.cs, t.base);
  for (const file of t.files) {
    if (file === kfile) continue;
    if (!readObjects(ctx.cs, file).some(isSync)) continue;
    if (kfile && allSync(ctx, file)) {
      actions.push({ type: "fleet:delete", path: file });
      actions.push({ type: "fleet:kustomization", path: kfile, removeResources: [entryFrom(t.base, file)] });
    } else actions.push({ type: "fleet:remove-documents", path: file, groupSuffix: FLUX_GROUPS });
  }
  // A patch of objects that are gone would fail the build: those that patch only the sync go too.
  for (const overlay of ctx.model.overlays)
    for (const e of overlay.tenants.get(t.name) ?? []) {
      const dir = path.posix.dirname(e.file);
      const only = (entry: string) => allSync(ctx, entryTarget(dir, entry));
      const patches = e.patches.filter(only);
      const strategicMerge = e.strategicMerge.filter(only);
      if (!patches.length && !strategicMerge.length) continue;
      actions.push({ type: "fleet:kustomization", path: e.file, removePatches: patches, removeStrategicMerge: strategicMerge });
      for (const entry of [...patches, ...strategicMerge]) actions.push({ type: "fleet:delete", path: entryTarget(dir, entry) });
    }
  return actions;
}

/** Step 2: everything else of the tenant, its units included; nothing may keep pointing at its base. */
function restActions(ctx: Context, name: string): FleetAction[] {
  const { tenants, base } = tenantOrRemains(ctx, name);
  const actions: FleetAction[] = [{ type: "fleet:delete", path: base }];
  const inBase = baseEntries(ctx, base);
  if (inBase.length > 0) actions.push({ type: "fleet:kustomization", path: BASE_KUSTOMIZATION, removeResources: inBase });
  // Every overlay in the tree, not only those fleet.yaml lists, and every kustomization of its
  // directory (a `_transformed` sub-overlay).
  for (const overlay of readOverlays(ctx.cs, tenants)) {
    const unit = overlay.units.get(name);
    if (unit) {
      // Its unit goes whole: kustomize-controller, which applied it, prunes the namespace and RBAC.
      actions.push({ type: "fleet:kustomization", path: overlay.file, removeResources: [unit.entry] });
      actions.push({ type: "fleet:delete", path: unit.file }, { type: "fleet:delete", path: unit.dir });
    }
    for (const e of overlay.tenants.get(name) ?? []) {
      if (unit && (e.file === unit.kustomization || e.file.startsWith(`${unit.dir}/`))) continue;
      actions.push({ type: "fleet:kustomization", path: e.file, removeResources: e.resources, removePatches: e.patches, removeStrategicMerge: e.strategicMerge });
      for (const file of e.files) actions.push({ type: "fleet:delete", path: file });
    }
    // new-tenant moved the overlay's transformers into a sub-overlay; alone again, it moves back.
    if (ctx.cs.exists(`${overlay.dir}/${ISOLATED_DIR}/kustomization.yaml`)) actions.push({ type: "fleet:merge-isolated", path: overlay.file, into: ISOLATED_DIR });
  }
  actions.push(...codeownersActions(ctx, name));
  return actions;
}

const nameOf = (a: Answers) => String(a.name);
/** The step this run takes: the one due, or both at once when asked for and step 1 is due. */
const runs = (a: Answers, ctx: Context): "sync" | "rest" | "both" => (stepDue(ctx, nameOf(a)) === 2 ? "rest" : a.allAtOnce === true ? "both" : "sync");

export const removeTenant: Generator = {
  name: "remove-tenant",
  description: "Offboard a tenant in two steps: first its sync (Flux prunes its workloads as its reconciler), then its namespace, RBAC and everything else",
  needsRepo: true,
  answers: [
    {
      name: "name",
      positional: true,
      message: "Tenant to remove",
      offer: (ctx) => ctx.tenants,
      // Any tenant that is there can go, whatever rule named it: a label keeps the path inside tenants/.
      validate: (val) => v.dnsLabel(String(val)),
    },
    {
      name: "allAtOnce",
      message: "Remove sync, namespace and RBAC in one step (only for a tenant that never reconciled: Flux could not prune its workloads)",
      type: "confirm",
      ask: false,
      default: () => false,
    },
  ],
  actions: (a, ctx) => {
    const name = nameOf(a);
    const t = ctx.model.tenants.find((x) => x.name === name);
    return runs(a, ctx) === "sync" && t ? syncActions(ctx, t) : restActions(ctx, name);
  },
  proof: (a, ctx) => tenantProof(ctx, [nameOf(a)]),
  confirm: (a, ctx) => `Remove ${{ sync: "the sync (step 1 of 2)", rest: "the rest (step 2 of 2)", both: "everything, in one step," }[runs(a, ctx)]} of tenant '${nameOf(a)}'?`,
  notes: (a, ctx) => {
    const name = nameOf(a);
    if (!ctx.cs.hasChanges())
      return [
        `nothing of tenant '${name}' is left in ${TENANTS_BASE}/, the environment overlays or CODEOWNERS; ` + `tenants in this repo: ${ctx.tenants.join(", ") || "none"}`,
      ];
    const step = runs(a, ctx);
    if (step === "sync")
      return [
        `step 1 of 2: removing tenant '${name}''s sync (its Flux objects and the patches of them); its namespace, reconciler and RoleBinding stay, so Flux can prune what the tenant deployed while the reconciler it impersonates still exists`,
      ];
    if (step === "both")
      return [
        `WARNING: --all-at-once removes sync, namespace and RBAC of '${name}' in one step. If the tenant ever reconciled, its Kustomization's finalizer may find its reconciler gone and leave its workloads behind unpruned; use it only for a tenant that never reconciled`,
      ];
    return [`step 2 of 2: removing the rest of tenant '${name}' (namespace, reconciler, RoleBinding, quota${ctx.model.overlays.some((o) => o.units.has(name)) ? ", its units" : ""}); every overlay still builds`];
  },
  nextSteps: (a, ctx) => {
    const name = nameOf(a);
    // The namespace as the repo had it (Flux's multi-tenancy example keeps dev-team in apps).
    const namespace = ctx.model.tenants.find((t) => t.name === name)?.namespace ?? name;
    if (runs(a, ctx) === "sync")
      return [
        `Step 1 of 2 is written. Commit and push; Flux prunes the tenant's Kustomization, whose finalizer prunes its workloads as its reconciler.`,
        `Before step 2, on each cluster, check the tenant's sync is gone:`,
        `  flux get kustomizations -n ${namespace}     # lists none`,
        `  kubectl get kustomization -n ${namespace}   # "No resources found"`,
        `Then run step 2 of 2, the same command: fleet remove-tenant ${name}`,
      ];
    return [
      `${runs(a, ctx) === "both" ? "Done in one step" : "Step 2 of 2 is written"}. Commit and push: Flux prunes the tenant's namespace, reconciler and RoleBinding (prune: true).`,
      `Delete its git-auth secret from each cluster if it outlives the namespace: kubectl -n ${namespace} delete secret git-auth`,
    ];
  },
};

export default removeTenant;
