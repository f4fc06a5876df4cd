/**
 * What the proof before write builds and checks for a change to tenants (new-tenant,
 * remove-tenant, new-env): the environment overlays the change touches, and every tenant with
 * its namespace and the files that are its. Read through the repo model as it is on disk
 * (ctx.model, read before staging) and as it would be, so a tenant being removed and one being
 * added are both known.
 */
import type { ChangeSet } from "../src/changeset/changeset.js";
import type { ProofPlan, ProofTenant } from "../src/changeset/proof.js";
import type { Context } from "../src/core/generator.js";
import { parseAllYaml } from "../src/core/yaml-edit.js";
import { scanTopLevel } from "../src/core/yaml-lists.js";
import { entryTarget, isYamlFile, kustomizationIn } from "../src/model/kustomize.js";
import { unitFiles } from "../src/model/layout.js";
import type { Overlay } from "../src/model/overlays.js";
import { readRepo, type RepoModel } from "../src/model/repo.js";

const under = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);

/**
 * The paths a change touches, and `reached`: each of them and every directory above them, so
 * that whether a change reaches into a directory (or is a file) is one lookup, not a pass over
 * the change for each of a thousand units.
 */
type Touched = { paths: string[]; reached: Set<string> };

function touchedBy(paths: string[]): Touched {
  const reached = new Set<string>();
  for (const p of paths) {
    reached.add(p);
    for (let i = p.indexOf("/"); i !== -1; i = p.indexOf("/", i + 1)) reached.add(p.slice(0, i));
  }
  return { paths, reached };
}

/** A tenant's unit in one overlay and the files of its directory, as the proof needs them. */
type UnitRead = { tenant: string; unit: { file: string; dir: string }; files: string[] };

/**
 * What of one overlay to build, and the units that took reading to say so. Flat: the overlay,
 * when a file in its directory changes or a tenant it includes does. Units: the overlay (its
 * unit objects) when it or a unit file changes, and only the units whose directory or tenant
 * changes: a unit layout proof stays as fast with a thousand tenants as with two, reading only
 * the units the change could touch (listed under a changed tenant's name, or where a touched
 * path is). A tenant of this model whose base changes and that no unit is listed under gets
 * every unit of the overlay read: a unit under another name may apply its base.
 */
function toBuild(o: Overlay, touched: Touched, basesTouched: Set<string>, tenantsHere: Set<string>, cs: ChangeSet): { build: string[]; read: UnitRead[] } {
  if (o.layout === "flat") {
    const build = touched.reached.has(o.dir) || [...o.tenants.keys()].some((t) => basesTouched.has(t)) ? [o.dir] : [];
    return { build, read: [] };
  }
  const listed = [...o.listedUnits];
  const everyUnit = [...basesTouched].some((t) => tenantsHere.has(t) && !o.listedUnits.has(t));
  const read: UnitRead[] = [];
  for (const [name, file] of listed) {
    const presumedDir = `${o.dir}/${name}`;
    if (!everyUnit && !basesTouched.has(name) && !touched.reached.has(file) && !touched.reached.has(presumedDir)) continue;
    const u = o.unitAt(file);
    if (u) read.push({ tenant: u.tenant, unit: { file: u.unit.file, dir: u.unit.dir }, files: u.entries.files });
  }
  const build = touched.reached.has(o.file) || listed.some(([, f]) => touched.reached.has(f)) ? [o.dir] : [];
  for (const r of read) if (basesTouched.has(r.tenant) || touched.reached.has(r.unit.dir)) build.push(r.unit.dir);
  // A touched tenant directory that no unit lists is built too: what is written is proven
  // whether or not anything applies it yet.
  for (const p of touched.paths) {
    const name = p.startsWith(`${o.dir}/`) ? p.slice(o.dir.length + 1).split("/")[0] : undefined;
    if (name === undefined || name === p.slice(o.dir.length + 1)) continue;
    const dir = unitFiles(o.env, name).dir;
    if (!build.includes(dir) && under(p, dir) && kustomizationIn(cs, dir)) build.push(dir);
  }
  return { build, read };
}

/** The manifest files an overlay lists, when it lists nothing else and has no field but apiVersion and kind. */
function listedFiles(dir: string, text: string | undefined): string[] | undefined {
  const scan = text === undefined ? undefined : scanTopLevel(text);
  if (!scan || [...scan.scalars.keys()].some((k) => k !== "apiVersion" && k !== "kind") || [...scan.lists.keys()].some((k) => k !== "resources")) return undefined;
  const items = scan.lists.get("resources")?.items ?? [];
  return items.every((i) => i.mapKey === undefined && isYamlFile(i.value)) ? items.map((i) => entryTarget(dir, i.value)) : undefined;
}

/** The names of the objects a file declares, or undefined when it does not parse. */
function declaredNames(file: string, text: string | undefined): string[] | undefined {
  try {
    return parseAllYaml(file, text ?? "").map((d) => d.getIn(["metadata", "name"])).filter((n): n is string => typeof n === "string");
  } catch {
    return undefined;
  }
}

/**
 * What of a units overlay to build (ProofPlan.parts): the files whose entry the change adds or
 * removes or whose content it changes, and every other listed file that could declare an object
 * of the same name (kustomize refuses two, and a whole build would say so): one that holds the
 * name, or a backslash (a quoted escape could spell it). undefined: build the whole overlay.
 */
function overlayPart(cs: ChangeSet, o: Overlay, touched: Set<string>): string[] | undefined {
  const before = listedFiles(o.dir, cs.readOriginal(o.file));
  const after = listedFiles(o.dir, cs.read(o.file));
  if (!before || !after) return undefined;
  const [was, now] = [new Set(before), new Set(after)];
  const all = [...new Set([...before, ...after])];
  const changed = all.filter((f) => !was.has(f) || !now.has(f) || touched.has(f));
  const names = new Set<string>();
  for (const f of changed)
    for (const text of [cs.readOriginal(f), cs.read(f)]) {
      const declared = declaredNames(f, text);
      if (!declared) return undefined;
      for (const n of declared) names.add(n);
    }
  // Searched as bytes: the thousand unit files that hold none of them are neither decoded nor kept.
  const needles = ["\\", ...names];
  const alike = all.filter((f) => !changed.includes(f) && cs.includes(f, needles));
  return [...changed, ...alike].sort();
}

/** `changed`: the tenants the change adds, edits or removes; "all" when a whole overlay is new. */
export function tenantProof(ctx: Context, changed: string[] | "all"): ProofPlan {
  const models: RepoModel[] = [ctx.model, readRepo(ctx.cs)];
  const touched = touchedBy(
    ctx.cs
      .changes()
      .filter((c) => c.kind !== "unchanged")
      .map((c) => c.path),
  );
  const tenants = new Map<string, ProofTenant>();
  // The namespace as the change leaves it (a tenant being removed: as it was), read when the proof
  // asks: it needs only those of the tenants whose objects it builds, not a thousand bases.
  for (const m of [...models].reverse())
    for (const t of m.tenants)
      if (!tenants.has(t.name))
        tenants.set(t.name, {
          name: t.name,
          get namespace() {
            return t.namespace;
          },
          owns: [],
          units: [],
        });
  const basesTouched = new Set(
    models.flatMap((m) => m.tenants.filter((t) => touched.reached.has(t.base)).map((t) => t.name)),
  );
  // What each tenant owns: its base, its entries in flat overlays, and the units read to plan the
  // builds (or, where an overlay is built whole, all of its units): objects of units left unread are never built.
  const addUnit = (r: UnitRead) => {
    const t = tenants.get(r.tenant);
    if (!t) return;
    t.owns.push(...r.files);
    t.units!.push(r.unit);
  };
  /** An overlay built whole: every tenant's entries and units in it, read. */
  const wholly = (o: Overlay) => {
    for (const [name, entries] of o.tenants) for (const e of entries) tenants.get(name)?.owns.push(...e.files);
    for (const [name, u] of o.units) tenants.get(name)?.units!.push({ file: u.file, dir: u.dir });
  };
  for (const m of models) for (const t of m.tenants) tenants.get(t.name)!.owns.push(t.base);
  const planned = models.map((m) => {
    const here = new Set(m.tenants.map((t) => t.name));
    return m.overlays.map((o) => {
      const { build, read } = toBuild(o, touched, basesTouched, here, ctx.cs);
      if (o.layout === "flat") wholly(o);
      read.forEach(addUnit);
      return { o, build };
    });
  });
  const overlays = [...new Set(planned.flat().flatMap((p) => p.build))].sort();
  // A units overlay lists a thousand unit files that a change to one tenant leaves alone.
  const parts: Record<string, string[]> = {};
  const touchedSet = new Set(touched.paths);
  const units = planned.flat().filter((p) => p.o.layout === "units" && overlays.includes(p.o.dir));
  for (const { o } of units)
    if (!(o.dir in parts)) {
      const part = overlayPart(ctx.cs, o, touchedSet);
      if (part) parts[o.dir] = part;
    }
  for (const { o } of units) {
    // What is built of the overlay's list: its part's unit files, or all of it.
    const part = parts[o.dir];
    if (!part) {
      wholly(o);
      continue;
    }
    const built = new Set(part);
    for (const [, file] of o.listedUnits) {
      const u = built.has(file) ? o.unitAt(file) : undefined;
      if (u) addUnit({ tenant: u.tenant, unit: { file: u.unit.file, dir: u.unit.dir }, files: u.entries.files });
    }
  }
  for (const t of tenants.values()) {
    t.owns = [...new Set(t.owns)].sort();
    t.units = [...new Map(t.units!.map((u) => [u.file, u])).values()];
  }
  return { overlays, changed: changed === "all" ? [...tenants.keys()].sort() : changed, tenants: [...tenants.values()], parts };
}
