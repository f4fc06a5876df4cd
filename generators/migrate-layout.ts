/**
 * `fleet migrate-layout [--env E] [--prepare]`: move a flat fleet repo's tenants into per-tenant
 * units (design section 2) in one change, proven to apply the same objects.
 *
 * Why there is a --prepare step first. Flux's garbage collection, as kustomize-controller runs
 * it (internal/controller/kustomization_controller.go, reconcile: apply, then
 * inventory.Diff(old, new), then prune(), then the health checks; prune() calls fluxcd/pkg
 * ssa ResourceManager.DeleteAll): after the move, the Kustomization that applied tenants/<env>
 * (`tenants`) no longer lists a tenant's objects, so they are stale in its inventory and it
 * deletes each one whose live labels still say `kustomize.toolkit.fluxcd.io/name: tenants` and
 * `.../namespace: flux-system` (DeleteOptions.Inclusions, the owner labels) unless the live
 * object has `kustomize.toolkit.fluxcd.io/prune: disabled` (or `reconcile: disabled`) as a
 * label or annotation (DeleteOptions.Exclusions). The new owner tenant-<t> would relabel the
 * objects, and then `tenants` would skip them, but tenant-<t> is created by that very
 * reconcile and applies only after it: the namespace (and every workload in it) would be gone.
 * A `prune: false` on `tenants` in the same commit does not help either: flux-system and
 * `tenants` reconcile the new revision independently, so `tenants` may run with its old spec.
 *
 * So the protection must be on the live objects before the move reaches a cluster:
 * `--prepare` sets spec.commonMetadata.annotations `kustomize.toolkit.fluxcd.io/prune: disabled`
 * on each cluster Kustomization applying a flat overlay (Flux puts commonMetadata on every object
 * it applies); once every cluster applied that, the move is safe whatever order Flux takes:
 * `tenants` skips every stale object, and removes it from its inventory. The move takes the
 * commonMetadata off again: each unit applies its objects without the annotation under the same
 * field manager (kustomize-controller), so server-side apply removes it, and the objects carry
 * tenant-<t>'s owner labels, prunable by their unit as before.
 */
import type { Context, FleetAction, Generator, Answers } from "../src/core/generator.js";
import { readLayout, overlayAppliers, PROTECTION_PATH, PRUNE_DISABLED, unitFiles, unitName, type EnvLayout, type OverlayApplier } from "../src/model/layout.js";
import { proveLayoutMove } from "../src/changeset/layout-proof.js";

const envsOf = (a: Answers, ctx: Context): string[] => (Array.isArray(a.env) && a.env.length ? a.env : ctx.model.overlays.map((o) => o.env));
const layoutOf = (a: Answers, ctx: Context): EnvLayout[] => readLayout(ctx.model, envsOf(a, ctx));
/** The cluster Kustomizations applying an overlay that has tenants to move. */
const appliersOf = (a: Answers, ctx: Context): OverlayApplier[] =>
  overlayAppliers(
    ctx.cs,
    layoutOf(a, ctx)
      .filter((l) => l.flat.length > 0)
      .map((l) => l.env),
  );
const show = (k: OverlayApplier) => `Kustomization ${k.namespace}/${k.name} (${k.file})`;

const PREPARE_FIX =
  "run fleet migrate-layout --prepare, commit and push it, and wait until every cluster has applied it " +
  "(flux get kustomizations -n flux-system shows the new revision applied for each Kustomization named above); then run fleet migrate-layout again";

function moveActions(l: EnvLayout, api: Context["api"]): FleetAction[] {
  return l.flat.flatMap((t): FleetAction[] => {
    const f = unitFiles(l.env, t.name, t.base);
    return [
      { type: "fleet:render", path: f.unit, template: "tenant/unit.yaml", data: { name: t.name, env: l.env, api } },
      { type: "fleet:render", path: f.kustomization, template: "tenant/unit-kustomization.yaml", data: { name: t.name, env: l.env, baseEntry: f.baseEntry } },
      { type: "fleet:move", path: t.patch, to: f.patch },
      { type: "fleet:move", path: t.quota, to: f.quota },
      { type: "fleet:kustomization", path: l.file, removeResources: t.resources, removePatches: t.patches, addResources: [f.entry] },
    ];
  });
}

export const migrateLayout: Generator = {
  name: "migrate-layout",
  description: "Move a flat repo's tenants into per-tenant units (one Flux Kustomization per tenant and environment), proven to apply the same objects",
  needsRepo: true,
  answers: [
    {
      name: "env",
      message: "Environments whose tenant overlay to move (default: every one)",
      multiple: true,
      ask: false,
      choices: (ctx) => ctx.model.overlays.map((o) => o.env),
      default: (ctx) => ctx.model.overlays.map((o) => o.env),
      defaultHelp: "every environment",
    },
    {
      name: "prepare",
      message: "Only protect the tenants' objects from Flux's pruning (the step before the move; see the README)",
      type: "confirm",
      ask: false,
      default: () => false,
    },
  ],
  check: (a, ctx) => {
    if (ctx.model.overlays.length === 0)
      return [{ field: "tenants/", rule: "holds no environment overlay (tenants/<env>/kustomization.yaml), so there is no flat layout to move", fix: "add an environment with fleet new-env <env>" }];
    const layout = layoutOf(a, ctx);
    const out = layout.flatMap((l) => l.blocked.map((rule) => ({ field: l.dir, rule, fix: "fleet moves only overlays in its own flat layout; move this overlay by hand, or leave it flat (every command works on both layouts)" })));
    for (const k of appliersOf(a, ctx)) {
      for (const d of k.differs) out.push({ field: k.file, rule: `${show(k)} applies tenants/${k.env}, and ${d}`, fix: "make it apply tenants/<env> as fleet's tenants Kustomization does, or move this overlay by hand" });
      if (a.prepare !== true && !k.protected)
        out.push({
          field: k.file,
          rule: `${show(k)} would prune every tenant's objects (their namespaces included) once they leave tenants/${k.env}: nothing protects them yet`,
          fix: PREPARE_FIX,
        });
    }
    return out;
  },
  actions: (a, ctx) => {
    const appliers = appliersOf(a, ctx);
    if (a.prepare === true)
      return appliers.filter((k) => !k.protected).map((k): FleetAction => ({ type: "fleet:yaml-put", path: k.file, keyPath: PROTECTION_PATH, value: PRUNE_DISABLED.value }));
    return [
      ...layoutOf(a, ctx).flatMap((l) => moveActions(l, ctx.api)),
      ...appliers.map((k): FleetAction => ({ type: "fleet:yaml-put", path: k.file, keyPath: PROTECTION_PATH, value: null })),
    ];
  },
  // The move's own proof (src/changeset/layout-proof.ts), run where every proof runs, so
  // --no-verify and --timeout reach it; --prepare only adds an annotation and builds nothing.
  proof: (a, ctx) => {
    if (a.prepare === true) return undefined;
    const expected = new Map(
      layoutOf(a, ctx)
        .filter((l) => l.flat.length > 0)
        .map((l) => [l.env, l.flat.map((t) => `Kustomization/flux-system/${unitName(t.name)}`)] as const),
    );
    return {
      prove: async (opts) => {
        const counts = await proveLayoutMove(ctx.cs, expected, opts);
        return {
          notes: [...counts].map(([env, n]) => `proven: tenants/${env} applies the same ${n} objects through its units as it did flat, and adds only the units`),
          json: { proven: Object.fromEntries(counts) },
        };
      },
    };
  },
  // --prepare only adds an annotation; the move is what changes how Flux applies every tenant.
  confirm: (a, ctx) => (a.prepare === true ? undefined : `Move the tenants of ${layoutOf(a, ctx).filter((l) => l.flat.length > 0).map((l) => l.dir).join(", ")} into per-tenant units?`),
  notes: (a, ctx) => {
    if (ctx.cs.hasChanges()) return [];
    const envs = envsOf(a, ctx).join(", ");
    return a.prepare === true
      ? [`nothing to prepare in ${envs}: no cluster Kustomization applies a flat overlay, or each already protects its objects`]
      : [`nothing to do: the tenants of ${envs} are in per-tenant units already`];
  },
  nextSteps: (a, ctx) => {
    if (!ctx.cs.hasChanges()) return [];
    const appliers = appliersOf(a, ctx);
    const ns = ctx.model.tenants[0]?.namespace ?? "<tenant namespace>";
    const names = [...new Set(appliers.map((k) => k.name))].join(", ");
    if (a.prepare === true)
      return [
        `Commit and push this change alone; on each cluster wait until ${names} has applied it (flux get kustomizations -n flux-system).`,
        `Check the protection is live: kubectl get namespace ${ns} -o jsonpath='{.metadata.annotations.kustomize\\.toolkit\\.fluxcd\\.io/prune}' prints disabled.`,
        "Do not offboard a tenant until the move is done: its objects are not pruned meanwhile.",
        "Then run fleet migrate-layout to move the tenants into their units.",
      ];
    const name = ctx.model.tenants[0]?.name ?? "<tenant>";
    return [
      `Commit and push: ${names || "the tenants Kustomization"} applies the units and prunes nothing (the objects it no longer lists are protected); each tenant-<name> Kustomization then applies its tenant's objects and takes them over.`,
      `Check on each cluster: flux get kustomizations -n flux-system lists every tenant-<name> Ready, and kubectl get namespace ${ns} -o jsonpath='{.metadata.labels.kustomize\\.toolkit\\.fluxcd\\.io/name}' prints ${unitName(name)}.`,
    ];
  },
};

export default migrateLayout;
