/**
 * What the proof before write builds and checks for a change to tenants (new-tenant,
 * remove-tenant, new-env): the environment overlays the change touches, and every tenant with
 * its namespace and the files that are its. Read through the repo model as it is on disk
 * (ctx.model, read before staging) and as it would be, so a tenant being removed and one being
 * added are both known.
 */
import type { ProofPlan, ProofTenant } from "../src/changeset/proof.js";
import type { Context } from "../src/core/generator.js";
import type { ChangeSet } from "../src/changeset/changeset.js";
import { kustomizationIn } from "../src/model/kustomize.js";
import { unitFiles } from "../src/model/layout.js";
import type { Overlay } from "../src/model/overlays.js";
import { readRepo, tenantPaths, unitPaths, type RepoModel } from "../src/model/repo.js";

const under = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);

/**
 * What of one overlay to build. Flat: the overlay, when a file in its directory changes or a
 * tenant it includes does. Units: the overlay (its unit objects) when it or a unit file changes,
 * and only the units whose directory or tenant changes: a unit layout proof stays as fast with a
 * thousand tenants as with two.
 */
function toBuild(o: Overlay, touched: string[], basesTouched: Set<string>, cs: ChangeSet, names: Iterable<string>): string[] {
  if (o.layout === "flat")
    return touched.some((p) => under(p, o.dir)) || [...o.tenants.keys()].some((t) => basesTouched.has(t)) ? [o.dir] : [];
  const units = [...o.units];
  const out = touched.some((p) => p === o.file || units.some(([, u]) => p === u.file)) ? [o.dir] : [];
  for (const [name, u] of units) if (basesTouched.has(name) || touched.some((p) => under(p, u.dir))) out.push(u.dir);
  // A touched tenant directory that no unit lists is built too: what is written is proven
  // whether or not anything applies it yet.
  for (const t of names) {
    const dir = unitFiles(o.env, t).dir;
    if (!out.includes(dir) && touched.some((p) => under(p, dir)) && kustomizationIn(cs, dir)) out.push(dir);
  }
  return out;
}

/** `changed`: the tenants the change adds, edits or removes; "all" when a whole overlay is new. */
export function tenantProof(ctx: Context, changed: string[] | "all"): ProofPlan {
  const models: RepoModel[] = [ctx.model, readRepo(ctx.cs)];
  const touched = ctx.cs
    .changes()
    .filter((c) => c.kind !== "unchanged")
    .map((c) => c.path);
  const tenants = new Map<string, ProofTenant>();
  // The namespace as the change leaves it (a tenant being removed: as it was).
  for (const m of [...models].reverse())
    for (const t of m.tenants) if (!tenants.has(t.name)) tenants.set(t.name, { name: t.name, namespace: t.namespace, owns: [], units: [] });
  for (const m of models) for (const [name, paths] of tenantPaths(m)) tenants.get(name)!.owns.push(...paths);
  for (const m of models) for (const [name, units] of unitPaths(m)) tenants.get(name)?.units!.push(...units);
  for (const t of tenants.values()) {
    t.owns = [...new Set(t.owns)].sort();
    t.units = [...new Map(t.units!.map((u) => [u.file, u])).values()];
  }
  const basesTouched = new Set(
    models.flatMap((m) => m.tenants.filter((t) => touched.some((p) => under(p, t.base))).map((t) => t.name)),
  );
  const overlays = [...new Set(models.flatMap((m) => m.overlays.flatMap((o) => toBuild(o, touched, basesTouched, ctx.cs, tenants.keys()))))].sort();
  return { overlays, changed: changed === "all" ? [...tenants.keys()].sort() : changed, tenants: [...tenants.values()] };
}
