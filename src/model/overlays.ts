/**
 * The environment overlays of tenants/ (tenants/<env>/kustomization.yaml), read with what makes
 * kustomize change whatever they include: their transformers. An overlay may include
 * kustomizations of its own directory (fleet's `_transformed` sub-overlay, a team's grouping);
 * each tenant's entries are found wherever in that tree they are, as they are spelled there.
 *
 * Two layouts (design section 2), read from the tree, never from a flag: "flat" (the seed's and
 * adopted repos': the overlay lists `../base/<t>` and `<t>-patch.yaml` itself) and "units" (the
 * overlay lists one Flux Kustomization per tenant, `<t>.yaml`, which applies `<t>/`, the tenant's
 * base with this environment's patch and quota). A unit is what it is: a Flux Kustomization
 * listed by the overlay whose path is a kustomization directory inside it. For the layout, and
 * until a unit is asked about, an entry `<t>.yaml` beside a directory `<t>/` is taken for one
 * without being read (a thousand unit files a run otherwise); a unit listed any other way is
 * read to be known.
 */
import * as path from "node:path";
import { isMap, isScalar, isSeq, type Document } from "yaml";
import type { ChangeSet, RepoView } from "../changeset/changeset.js";
import { parseYaml } from "../core/yaml-edit.js";
import { readFast } from "../core/manifests.js";
import { isFluxKustomization, readObjects, type K8sObject } from "./objects.js";
import { scanTopLevel } from "../core/yaml-lists.js";
import { entryTarget, isYamlFile, kustomizationIn } from "./kustomize.js";
import { TENANTS_BASE, type Tenant } from "./tenants.js";

/** Where fleet moves an overlay's entries when its transformers would capture a new tenant. */
export const ISOLATED_DIR = "_transformed";

/**
 * Fields that leave a tenant added beside the others as it is: lists of what to include, and
 * and patches that name their objects (a strategic-merge patch applies to the object it names).
 * Everything else (namespace, namePrefix, labels, annotations (Flux reads
 * `kustomize.toolkit.fluxcd.io/reconcile: disabled` off them), replacements, a patch with a target,
 * components, ...) applies to every object the kustomization builds, a new tenant's too.
 */
const INERT = new Set(["apiVersion", "kind", "metadata", "resources", "patchesStrategicMerge", "configMapGenerator", "secretGenerator", "generatorOptions", "sortOptions"]);

/** One kustomization file's entries for one tenant. */
export interface TenantEntries {
  /** The kustomization file holding them. */
  file: string;
  /** Entries of `resources`, `patches[].path` and `patchesStrategicMerge`, spelled as there. */
  resources: string[];
  patches: string[];
  strategicMerge: string[];
  /** Repo-relative files those entries name that are the tenant's alone (its patch, its quota). */
  files: string[];
}

/** A tenant's reconciliation unit in one environment. */
export interface Unit {
  /** The Flux Kustomization's file (tenants/<env>/<t>.yaml), platform-owned: not the tenant's files. */
  file: string;
  /** How the overlay's kustomization lists it. */
  entry: string;
  /** The directory it applies (tenants/<env>/<t>) and that directory's kustomization file. */
  dir: string;
  kustomization: string;
}

/** "flat": tenants listed in the overlay itself; "units": one Flux Kustomization per tenant. */
export type Layout = "flat" | "units";

/** What a repo with no tenant anywhere gets: fleet writes new repos in units. */
export const DEFAULT_LAYOUT: Layout = "units";

export interface Overlay {
  env: string;
  /**
   * As its entries say; an overlay holding no tenant has the layout of the others (the first
   * that has tenants), or DEFAULT_LAYOUT in a repo without tenants.
   */
  layout: Layout;
  /**
   * Each tenant's unit (units layout); its unit directory's entries are in `tenants` too. Read
   * when first asked (with `tenants`): a thousand unit files that most commands never need.
   */
  units: Map<string, Unit>;
  /**
   * The unit files the overlay lists, by the tenant each is taken for, known without reading
   * them: an entry `<t>.yaml` beside a directory `<t>/` is taken for tenant <t>'s unit (that is
   * how fleet writes them); a unit listed any other way was read to be known. `unitAt` says
   * what one of them is.
   */
  listedUnits: Map<string, string>;
  /** The unit a listed file is, with its tenant and entries, read once; undefined when it is no unit of this overlay. */
  unitAt(file: string): ReadUnit | undefined;
  dir: string;
  file: string;
  /** The overlay's own fields that would change a tenant added to it, as `namespace: apps`. */
  transformers: string[];
  /** Kustomization files inside the overlay's directory that it includes, itself first. */
  files: string[];
  /** Each tenant the overlay includes, with its entries (none when it comes through `../base`); read with `units`. */
  tenants: Map<string, TenantEntries[]>;
  /** Entries that include tenants/base as a whole (`../base`): the tenants its kustomization lists. */
  wholeBase: string[];
  /** Entries naming a tenant base that is not there, as `tenants/prod/kustomization.yaml lists ../base/x`. */
  missing: string[];
}

const strings = (node: unknown): Array<{ value: string }> =>
  isSeq(node) ? node.items.filter((i) => isScalar(i) && typeof i.value === "string").map((i) => ({ value: (i as { value: string }).value })) : [];

/** How a transformer field reads in a message: its value when it is one scalar. */
function describe(doc: Document, key: string): string {
  const node = doc.get(key, true);
  return isScalar(node) ? `${key}: ${String(node.value)}` : key;
}

/** The fields of a kustomization that would change anything added to it. */
export function transformersOf(doc: Document): string[] {
  if (!isMap(doc.contents)) return [];
  const out: string[] = [];
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : "";
    if (key === "patches") {
      if (isSeq(pair.value) && pair.value.items.some((p) => isMap(p) && p.has("target"))) out.push("patches with a target");
      continue;
    }
    if (!INERT.has(key)) out.push(describe(doc, key));
  }
  return out;
}

/**
 * What fleet reads of a kustomization: its transformers and the paths it lists. Overlays of a
 * thousand tenants have the simple shape the fast scanner proves; anything else is parsed.
 */
function readKustomization(file: string, text: string): { transformers: string[]; resources: string[]; patches: string[]; strategicMerge: string[] } {
  const fast = scanTopLevel(text);
  if (fast) {
    const transformers = [
      ...[...fast.scalars].filter(([k]) => !INERT.has(k)).map(([k, v]) => `${k}: ${v}`),
      // A scanned patch is `- path: x` alone: it names its object, so it is no transformer.
      ...[...fast.lists.keys()].filter((k) => !INERT.has(k) && k !== "patches"),
    ];
    const values = (key: string, mapKey?: string) => (fast.lists.get(key)?.items ?? []).filter((i) => i.mapKey === mapKey).map((i) => i.value);
    return { transformers, resources: values("resources"), patches: values("patches", "path"), strategicMerge: values("patchesStrategicMerge") };
  }
  const doc = parseYaml(file, text);
  const patches: string[] = [];
  const node = doc.get("patches", true);
  if (isSeq(node))
    for (const p of node.items) {
      const at = isMap(p) ? p.get("path") : undefined;
      if (typeof at === "string" && !(isMap(p) && p.has("target"))) patches.push(at);
    }
  return {
    transformers: transformersOf(doc),
    resources: strings(doc.get("resources", true)).map((r) => r.value),
    patches,
    strategicMerge: strings(doc.get("patchesStrategicMerge", true)).map((p) => p.value).filter((p) => !/[\n:]/.test(p)),
  };
}

/** The environments of tenants/: each directory beside the base holding a kustomization. */
export function detectEnvironments(cs: ChangeSet): string[] {
  return cs.list("tenants").dirs.filter((d) => `tenants/${d}` !== TENANTS_BASE && !d.startsWith("_") && kustomizationIn(cs, `tenants/${d}`) !== undefined);
}

/** A file of the overlay is a tenant's when its name says so (`<t>-patch.yaml`), the longest name winning. */
function ownerByName(file: string, byName: Map<string, Tenant>): Tenant | undefined {
  const base = path.posix.basename(file).replace(/\.ya?ml$/, "");
  if (byName.has(base)) return byName.get(base);
  for (let at = base.lastIndexOf("-"); at > 0; at = base.lastIndexOf("-", at - 1)) {
    const t = byName.get(base.slice(0, at));
    if (t) return t;
  }
  return undefined;
}

/** Otherwise its objects say: every one of them names an object of one tenant's base, or sits in a namespace only that tenant has. */
function ownerByContent(cs: RepoView, file: string, tenants: Tenant[]): Tenant | undefined {
  let objs: Array<{ kind: string; name: string; namespace: string }>;
  try {
    objs = readObjects(cs, file)
      .filter((o) => typeof o.kind === "string" && typeof o.metadata?.name === "string")
      .map((o) => ({ kind: o.kind!, name: o.metadata!.name!, namespace: typeof o.metadata?.namespace === "string" ? o.metadata.namespace : "" }));
  } catch {
    return undefined;
  }
  if (objs.length === 0) return undefined;
  const owners = new Set<Tenant>();
  for (const o of objs) {
    const named = tenants.filter((t) => t.objects.some((d) => d.kind === o.kind && d.name === o.name && (d.namespace === o.namespace || o.namespace === "")));
    const inNs = tenants.filter((t) => o.namespace !== "" && t.namespace === o.namespace);
    const candidates = named.length === 1 ? named : inNs.length === 1 ? inNs : [];
    if (candidates.length !== 1) return undefined;
    owners.add(candidates[0]!);
  }
  return owners.size === 1 ? [...owners][0] : undefined;
}

function entriesFor(map: Map<string, TenantEntries[]>, tenant: string, file: string): TenantEntries {
  const list = map.get(tenant) ?? [];
  let e = list.find((x) => x.file === file);
  if (!e) {
    e = { file, resources: [], patches: [], strategicMerge: [], files: [] };
    list.push(e);
    map.set(tenant, list);
  }
  return e;
}

/**
 * What fluxKustomizationPath found in a text, by the text: a command reads the model before and
 * after staging, and the thousand unit files it stages nothing into read the same both times.
 * Bounded, for long-lived processes (tests) that read many repos.
 */
const unitTexts = new Map<string, { path: string; name: string } | undefined>();
const UNIT_TEXTS_MAX = 20_000;

/** A Flux Kustomization's path as a repo-relative directory, when the file holds exactly one. */
function fluxKustomizationPath(cs: RepoView, file: string): { path: string; name: string } | undefined {
  const text = cs.read(file) ?? "";
  // Most manifests are no Flux Kustomization: only those that could be are parsed.
  if (!text.includes("kustomize.toolkit.fluxcd.io")) return undefined;
  if (unitTexts.has(text)) return unitTexts.get(text);
  let objs: K8sObject[];
  try {
    // A thousand unit files a run: read without the full parser where that gives the same data.
    const fast = readFast(text)?.filter((d) => d !== null) as K8sObject[] | undefined;
    objs = fast ?? readObjects(cs, file);
  } catch {
    return undefined;
  }
  const [o] = objs;
  const found = objs.length !== 1 || !o || !isFluxKustomization(o) || typeof o.spec?.path !== "string" ? undefined : { path: entryTarget(".", o.spec.path), name: o.metadata?.name ?? "" };
  if (unitTexts.size >= UNIT_TEXTS_MAX) unitTexts.clear();
  unitTexts.set(text, found);
  return found;
}

/**
 * The unit a listed file is, with its tenant: the one whose base its directory lists, else the
 * one its directory is named after. undefined when the file is no unit of this overlay.
 */
export interface ReadUnit {
  unit: Unit;
  tenant: string;
  entries: TenantEntries;
}

function readUnit(cs: RepoView, dir: string, file: string, entry: string, byBase: Map<string, Tenant>, byName: Map<string, Tenant>): ReadUnit | undefined {
  const k = fluxKustomizationPath(cs, file);
  if (!k || path.posix.dirname(k.path) !== dir) return undefined;
  const kfile = kustomizationIn(cs, k.path);
  if (!kfile) return undefined;
  const listed = readKustomization(kfile, cs.read(kfile) ?? "");
  const entries: TenantEntries = { file: kfile, resources: [], patches: listed.patches, strategicMerge: listed.strategicMerge, files: [] };
  let tenant: string | undefined;
  for (const r of listed.resources) {
    const t = byBase.get(entryTarget(k.path, r));
    if (t) {
      tenant ??= t.name;
      entries.resources.push(r);
    }
  }
  tenant ??= byName.get(path.posix.basename(k.path))?.name ?? path.posix.basename(k.path);
  // Everything in the unit's directory is the tenant's: its patch, its quota.
  entries.files = cs.walk(k.path).filter((f) => f !== kfile);
  return { unit: { file, entry, dir: k.path, kustomization: kfile }, tenant, entries };
}

/**
 * Read one environment's overlay and every kustomization of its directory it includes. What
 * it lists is classified at once (its layout, transformers, included files); the unit files it
 * lists are read only when `units` or `tenants` is first asked for, or one of them through
 * `unitAt`: a change to one tenant of a thousand reads that tenant's unit alone.
 */
export function readOverlay(cs: RepoView, env: string, tenants: Tenant[]): Overlay | undefined {
  const dir = `tenants/${env}`;
  const file = kustomizationIn(cs, dir);
  if (!file) return undefined;
  const byBase = new Map(tenants.map((t) => [t.base, t]));
  const byName = new Map(tenants.map((t) => [t.name, t]));
  const read = new Map<string, ReadUnit | undefined>();
  /** How the overlay spells each unit it lists. */
  const spelled = new Map<string, string>();
  const unitAt = (target: string): ReadUnit | undefined => {
    if (!read.has(target)) read.set(target, readUnit(cs, dir, target, spelled.get(target) ?? path.posix.relative(dir, target), byBase, byName));
    return read.get(target);
  };
  // The unit directories beside the listed files, from one listing of the overlay's directory.
  let beside: Set<string> | undefined;
  const below = `${dir}/`;
  const presumedUnit = (target: string) => {
    // A thousand entries an overlay: string tests, not path parsing.
    if (!target.startsWith(below) || !target.endsWith(".yaml")) return undefined;
    const name = target.slice(below.length, -".yaml".length);
    if (name === "" || name.includes("/")) return undefined;
    beside ??= new Set(cs.list(dir).dirs);
    return beside.has(name) ? name : undefined;
  };
  const base: Omit<Overlay, "units" | "tenants"> = { env, dir, file, layout: DEFAULT_LAYOUT, listedUnits: new Map(), unitAt: (f) => unitAt(f), transformers: [], files: [], wholeBase: [], missing: [] };
  // First the cheap reading: every entry classified, each `<t>.yaml` beside `<t>/` taken for a unit unread.
  const cheap = visitOverlay(cs, base, tenants, byBase, byName, (target, entry) => {
    if (!spelled.has(target)) spelled.set(target, entry);
    const presumed = presumedUnit(target);
    if (presumed !== undefined) {
      base.listedUnits.set(presumed, target);
      return { presumed };
    }
    const unit = unitAt(target);
    if (unit) base.listedUnits.set(unit.tenant, target);
    return unit;
  });
  if (cheap.flat) base.layout = "flat";
  else if (base.listedUnits.size > 0) base.layout = "units";
  if (cheap.holds) holding.add(base as Overlay);
  let full: { units: Map<string, Unit>; tenants: Map<string, TenantEntries[]> } | undefined;
  const details = () => {
    if (!full) {
      // The cheap reading's lists stay as they are: this one fills a copy of its own.
      const copy = { env, dir, file, layout: base.layout, listedUnits: base.listedUnits, unitAt: base.unitAt, transformers: [], files: [], wholeBase: [], missing: [] };
      const r = visitOverlay(cs, copy, tenants, byBase, byName, (target) => unitAt(target));
      full = { units: r.units, tenants: r.tenants };
    }
    return full;
  };
  return Object.defineProperties(base, {
    units: { get: () => details().units, enumerable: true },
    tenants: { get: () => details().tenants, enumerable: true },
  }) as Overlay;
}

const BASE_BELOW = `${TENANTS_BASE}/`;

/** Overlays whose own entries hold a tenant (a unit, a tenant's entry, or tenants/base whole). */
const holding = new WeakSet<Overlay>();

/**
 * One reading of an overlay's tree: what `unit` says of each manifest its own kustomization
 * lists (a unit read, one taken for a unit unread, or none), every other entry by its target.
 */
function visitOverlay(
  cs: RepoView,
  overlay: Omit<Overlay, "units" | "tenants">,
  tenants: Tenant[],
  byBase: Map<string, Tenant>,
  byName: Map<string, Tenant>,
  unit: (target: string, entry: string) => ReadUnit | { presumed: string } | undefined,
): { flat: boolean; holds: boolean; units: Map<string, Unit>; tenants: Map<string, TenantEntries[]> } {
  const { dir, file } = overlay;
  const units = new Map<string, Unit>();
  const owned = new Map<string, TenantEntries[]>();
  let flat = false;
  let presumed = false;
  const below = `${dir}/`;
  const inside = (p: string) => p === dir || p.startsWith(below);
  const visit = (kfile: string) => {
    if (overlay.files.includes(kfile)) return;
    overlay.files.push(kfile);
    const kdir = path.posix.dirname(kfile);
    const { transformers, resources, patches, strategicMerge } = readKustomization(kfile, cs.read(kfile) ?? "");
    if (kfile === file) overlay.transformers = transformers;
    const own = (entry: string, field: "resources" | "patches" | "strategicMerge") => {
      const target = entryTarget(kdir, entry);
      const base = byBase.get(target);
      if (base && field === "resources") {
        entriesFor(owned, base.name, kfile).resources.push(entry);
        flat = true;
        return;
      }
      if (target === TENANTS_BASE && field === "resources") {
        overlay.wholeBase.push(entry);
        flat = true;
        return;
      }
      if (field === "resources" && target.startsWith(BASE_BELOW) && !cs.exists(target) && !kustomizationIn(cs, target)) {
        overlay.missing.push(`${kfile} lists ${entry}, which has no kustomization.yaml`);
        return;
      }
      if (!inside(target)) return;
      // A manifest is a file; anything else a resource names may be a kustomization directory.
      if (!isYamlFile(target)) {
        const nested = field === "resources" ? kustomizationIn(cs, target) : undefined;
        if (nested) visit(nested);
        return;
      }
      const u = field === "resources" && kfile === file ? unit(target, entry) : undefined;
      if (u && "presumed" in u) {
        presumed = true;
        return;
      }
      if (u) {
        units.set(u.tenant, u.unit);
        owned.set(u.tenant, [...(owned.get(u.tenant) ?? []), u.entries]);
        return;
      }
      const owner = ownerByName(target, byName) ?? ownerByContent(cs, target, tenants);
      if (!owner) return;
      flat = true;
      const e = entriesFor(owned, owner.name, kfile);
      e[field].push(entry);
      if (!e.files.includes(target)) e.files.push(target);
    };
    for (const r of resources) own(r, "resources");
    for (const p of patches) own(p, "patches");
    for (const p of strategicMerge) own(p, "strategicMerge");
  };
  visit(file);
  // ../base: the tenants its own kustomization lists.
  if (overlay.wholeBase.length > 0) {
    const baseFile = kustomizationIn(cs, TENANTS_BASE);
    const doc = baseFile ? parseYaml(baseFile, cs.read(baseFile) ?? "") : undefined;
    for (const r of doc ? strings(doc.get("resources", true)) : []) {
      const t = byBase.get(entryTarget(TENANTS_BASE, r.value));
      if (t && !owned.has(t.name)) owned.set(t.name, []);
    }
  }
  return { flat, holds: presumed || owned.size > 0 || overlay.wholeBase.length > 0, units, tenants: owned };
}

/** Whether an overlay's own entries said its layout (it holds a tenant, or lists tenants/base whole). */
const decided = (o: Overlay) => holding.has(o);

/**
 * `before`: as the repo was before this run, however late a unit is read (generators' context);
 * otherwise as the change set has it when read.
 */
export function readOverlays(cs: ChangeSet, tenants: Tenant[], opts: { before?: boolean } = {}): Overlay[] {
  const view = opts.before ? cs.asBefore() : cs;
  const overlays = detectEnvironments(cs)
    .map((env) => readOverlay(view, env, tenants))
    .filter((o): o is Overlay => o !== undefined);
  const layout = repoLayout(overlays);
  for (const o of overlays) if (!decided(o)) o.layout = layout;
  return overlays;
}

/**
 * The layout a repo's overlays say, for what is added to it (a new environment, an overlay
 * emptied by offboarding): the first overlay holding tenants, else DEFAULT_LAYOUT.
 */
export function repoLayout(overlays: Overlay[]): Layout {
  return overlays.find(decided)?.layout ?? DEFAULT_LAYOUT;
}
