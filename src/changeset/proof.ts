/**
 * Proof before write (design section 3): every overlay a change touches is built with the real
 * `kubectl kustomize` as it is on disk and as it would be, and the two are compared. The changed
 * tenants must keep every object in their own namespace and their reconciler bound only there;
 * every other object must come out byte for byte the same; no tenant's files may carry platform
 * authority. On a repo fleet did not write, an overlay's transformers (`namespace: apps`) would
 * otherwise silently move or rename what fleet adds to it.
 *
 * "As it would be" is a shadow tree in a temp directory: the repo's files (hard links where the
 * file system allows) with the staged changes on top, built by validate's Builder with Flux's
 * semantics, which also says which file each object came from: that is how objects are a tenant's.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { ProofError, ToolError } from "../core/errors.js";
import { realpathOr, within } from "../core/inside-repo.js";
import { entryTarget, kustomizationIn } from "../model/kustomize.js";
import { isFluxKustomization, readObjects, ref, type K8sObject } from "../model/objects.js";
import { isClusterScoped, outOfBounds } from "../model/tenant-bounds.js";
import type { BuildRequest, Built } from "../validate/build.js";
import type { ChangeSet } from "./changeset.js";
import { shadowInputs, type ShadowInputs } from "./shadow-inputs.js";
import { onInterrupt } from "./signals.js";
import { processTempDir, TEMP_PREFIXES } from "./temp-dirs.js";

export interface ProofTenant {
  name: string;
  /** The namespace its objects must all be in. */
  namespace: string;
  /** Repo-relative files and directories whose objects are this tenant's (its base dir or single file, its files in each overlay). */
  owns: string[];
  /**
   * Its reconciliation units (units layout): platform Kustomizations (tenants/<env>/<t>.yaml)
   * that apply `dir`. Not the tenant's files (they run as kustomize-controller by design), but
   * its objects for "nothing else changes", each checked to apply only the tenant's directory.
   */
  units?: Array<{ file: string; dir: string }>;
}

export interface ProofPlan {
  /** Repo-relative kustomization directories the change touches: built as they are on disk and as they would be. An overlay that does not exist yet has no "before". */
  overlays: string[];
  /** Names of the tenants this change adds, edits or removes. */
  changed: string[];
  /** Every tenant known before or after the change. */
  tenants: ProofTenant[];
  /**
   * Overlays of `overlays` built in part: only these manifest files (repo-relative) of the ones
   * the overlay lists. For an overlay that lists nothing but manifest files and has no other
   * field, before and after: kustomize passes each such file's objects through as they are, so
   * the files the change leaves alone build the same and need no building.
   */
  parts?: Record<string, string[]>;
}

export interface ProofResult {
  overlays: Array<{ path: string; before?: number; after: number }>;
}

export interface ProofOptions {
  timeoutMs?: number;
  progress?: (line: string) => void;
}

/**
 * A proof that is not "build each touched overlay before and after" (migrate-layout follows the
 * units a move creates): run by proveChange like any plan, so --no-verify and --timeout reach it.
 * What it proved is reported with the command's notes and in --json.
 */
export interface CustomProof {
  prove: (opts: ProofOptions) => Promise<{ notes: string[]; json: Record<string, unknown> }>;
}


/** Per overlay, at most this many objects are named; the rest are counted. */
const SHOWN = 5;
/** A build still running after this long gets a progress line saying it is slow, and why. */
const SLOW_MS = 5_000;

/** One kubectl kustomize, as data: its objects or what kustomize said. */
type Outcome = { built: Built[] } | { error: string } | undefined;

/** Overlay transformers that reach the objects of the resources they list, and what each would do to a tenant's. */
const TRANSFORMERS: Record<string, (value: unknown, t: ProofTenant, file: string) => string | undefined> = {
  namespace: (v, t, f) => (v !== t.namespace ? `namespace: ${String(v)} in ${f} would move ${t.name}'s objects into ${String(v)}` : undefined),
  namePrefix: (v, t, f) => `namePrefix: ${String(v)} in ${f} would rename ${t.name}'s objects`,
  nameSuffix: (v, t, f) => `nameSuffix: ${String(v)} in ${f} would rename ${t.name}'s objects`,
  commonLabels: (_v, t, f) => `commonLabels in ${f} would relabel ${t.name}'s objects and their selectors`,
  labels: (_v, t, f) => `labels in ${f} would relabel ${t.name}'s objects`,
  commonAnnotations: (_v, t, f) => `commonAnnotations in ${f} would annotate ${t.name}'s objects`,
  replacements: (_v, t, f) => `replacements in ${f} may rewrite fields of ${t.name}'s objects`,
  patches: (v, t, f) => (targeted(v) ? `patches with a target in ${f} may patch ${t.name}'s objects` : undefined),
  patchesJson6902: (v, t, f) => (targeted(v) ? `patchesJson6902 in ${f} may patch ${t.name}'s objects` : undefined),
  components: (_v, t, f) => `components in ${f} run over ${t.name}'s objects`,
  transformers: (_v, t, f) => `transformers in ${f} run over ${t.name}'s objects`,
  images: (_v, t, f) => `images in ${f} would change image references in ${t.name}'s objects`,
  replicas: (_v, t, f) => `replicas in ${f} would change replica counts in ${t.name}'s objects`,
};
const targeted = (v: unknown) => Array.isArray(v) && v.some((p) => p && typeof p === "object" && "target" in p);

const TRANSFORMER_FIX =
  "move the overlay's existing entries and its transformers into a sub-overlay (a directory of its own that the overlay lists), " +
  "so the tenant is added beside them instead of under them, or add the tenant to an overlay without transformers; --no-verify skips this proof";
const BROKEN_FIX = "make the overlay build (kubectl kustomize <overlay>) and run again; --no-verify skips this proof";
const CHANGE_FIX =
  "correct the overlay or the objects named above by hand so that the change touches only the tenant's own objects, then run again; --no-verify skips this proof";
const AUTHORITY_FIX =
  "a tenant's files are applied with platform authority: take the object out of the tenant's files (or put it in its namespace, " +
  "with the tenant's serviceAccountName), then run again; --no-verify skips this proof";

// ---------------------------------------------------------------------------------------------
// The shadow tree

/**
 * The repo as it would be, in a temp directory: its files hard-linked (copied where the file
 * system does not allow links), `.git` left out, the staged changes written on top as new files
 * (never into a linked file, which is the repo's own). A link is kept as a link when it resolves
 * inside the repository, and left out when it does not: nothing outside is ever read.
 */
function materialise(cs: ChangeSet, dir: string, only?: ShadowInputs): void {
  const real = realpathOr(cs.root) ?? path.resolve(cs.root);
  let link = true;
  const place = (src: string, dst: string) => {
    if (link)
      try {
        fs.linkSync(src, dst);
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK" && code !== "ENOTSUP") throw e;
        link = false;
      }
    fs.copyFileSync(src, dst);
  };
  const walk = (rel: string) => {
    for (const ent of fs.readdirSync(path.join(cs.root, rel), { withFileTypes: true })) {
      if (rel === "" && ent.name === ".git") continue;
      const r = rel ? `${rel}/${ent.name}` : ent.name;
      const src = path.join(cs.root, r);
      const dst = path.join(dir, r);
      if (ent.isSymbolicLink()) {
        const target = realpathOr(src);
        if (!target || !within(real, target)) continue;
        fs.symlinkSync(path.relative(path.dirname(dst), path.join(dir, path.relative(real, target))) || ".", dst);
      } else if (ent.isDirectory()) {
        fs.mkdirSync(dst);
        walk(r);
      } else if (ent.isFile()) place(src, dst);
    }
  };
  if (!only) walk("");
  else {
    // What the builds read, and nothing else (shadow-inputs.ts): no link on its way.
    for (const d of only.dirs) fs.mkdirSync(path.join(dir, ...d.split("/")), { recursive: true });
    for (const f of only.files) {
      const src = path.join(cs.root, ...f.split("/"));
      if (!fs.statSync(src, { throwIfNoEntry: false })?.isFile()) continue;
      const dst = path.join(dir, ...f.split("/"));
      fs.mkdirSync(path.dirname(dst), { recursive: true });
      place(src, dst);
    }
  }
  for (const c of cs.changes()) {
    if (c.kind === "unchanged") continue;
    let abs = path.join(dir, ...c.path.split("/"));
    // A staged edit of a file that is a link inside the repository lands where the link points, as apply does.
    if (c.after !== undefined && fs.lstatSync(abs, { throwIfNoEntry: false })?.isSymbolicLink()) abs = realpathOr(abs) ?? abs;
    fs.rmSync(abs, { force: true });
    if (c.after === undefined) continue;
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, c.after);
  }
}

/**
 * Run `fn` with a shadow tree of the staged repo holding what building `targets` reads, removed
 * afterwards: on success, on error, on exit and on Ctrl-C.
 */
async function withShadow<T>(cs: ChangeSet, targets: string[], fn: (root: string) => Promise<T>): Promise<T> {
  const dir = fs.realpathSync(processTempDir(TEMP_PREFIXES.proof));
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  const forget = onInterrupt(remove);
  process.on("exit", remove);
  try {
    materialise(cs, dir, shadowInputs(cs, targets));
    return await fn(dir);
  } finally {
    forget();
    process.off("exit", remove);
    remove();
  }
}

// ---------------------------------------------------------------------------------------------
// Reading builds

/** Which tenant declared each file: a file is a tenant's when it is, or is below, one of its owns. */
function owners(tenants: ProofTenant[]): (file: string) => ProofTenant | undefined {
  const byPath = new Map<string, ProofTenant>();
  for (const t of tenants) for (const o of t.owns) byPath.set(o.replace(/\/+$/, ""), t);
  return (file) => {
    for (let p = file; p !== "." && p !== ""; p = path.posix.dirname(p)) {
      const t = byPath.get(p);
      if (t) return t;
    }
    return undefined;
  };
}

/** An object as one spelling (keys sorted), computed once per object: flat overlays hold thousands. */
const canonicalText = new WeakMap<K8sObject, string>();
function canonical(o: K8sObject): string {
  let text = canonicalText.get(o);
  if (text === undefined) canonicalText.set(o, (text = stringify(o, { sortMapEntries: true })));
  return text;
}
const isNamespaced = (o: K8sObject) => !isClusterScoped(o);
const shownRef = (o: K8sObject) => (isNamespaced(o) ? `${o.kind}/${o.metadata?.namespace ?? "(no namespace)"}/${o.metadata?.name}` : ref(o));

/** What is wrong with one of a tenant's objects, as sentences; empty when it is where it belongs. */
const misplaced = (o: K8sObject, t: ProofTenant): string[] => outOfBounds(o, t.namespace);

/** Which tenant's unit each unit file is. */
function unitOwners(tenants: ProofTenant[]): Map<string, ProofTenant> {
  return new Map(tenants.flatMap((t) => (t.units ?? []).map((u) => [u.file, t] as const)));
}

/**
 * What is wrong with a tenant's unit object: it may be only a Flux Kustomization in flux-system
 * that applies one of the tenant's own unit directories (anything else in that file would be
 * platform authority beside the tenant's name).
 */
function unitMisplaced(o: K8sObject, t: ProofTenant): string[] {
  const dirs = (t.units ?? []).map((u) => u.dir);
  if (!isFluxKustomization(o)) return [`${shownRef(o)} is in ${t.name}'s unit file, which may hold only its Flux Kustomization`];
  const out: string[] = [];
  if (o.metadata?.namespace !== "flux-system") out.push(`${shownRef(o)}: a tenant's unit lives in flux-system, beside the platform's Kustomizations`);
  const at = typeof o.spec?.path === "string" ? entryTarget(".", o.spec.path) : "";
  if (!dirs.includes(at)) out.push(`${shownRef(o)} applies ${at || "no path"}, not ${t.name}'s unit directory (${dirs.join(", ")})`);
  return out;
}

/**
 * Where a tenant this change leaves alone lives in this overlay: the Namespace it declares, else
 * where most of its objects are. A repo may share one namespace among tenants through the
 * overlay's `namespace:` (their bases name none); that is the repo's layout, not authority.
 */
function effectiveNamespaces(built: Built[], ownerOf: (file: string) => ProofTenant | undefined): Map<string, string> {
  const counts = new Map<string, Map<string, number>>();
  const declared = new Map<string, string[]>();
  for (const b of built) {
    const t = ownerOf(b.file);
    if (!t) continue;
    if (b.obj.kind === "Namespace" && b.obj.metadata?.name) declared.set(t.name, [...(declared.get(t.name) ?? []), b.obj.metadata.name]);
    const ns = b.obj.metadata?.namespace;
    if (!ns) continue;
    const c = counts.get(t.name) ?? new Map<string, number>();
    c.set(ns, (c.get(ns) ?? 0) + 1);
    counts.set(t.name, c);
  }
  const out = new Map<string, string>();
  // The platform's namespaces are never a tenant's, however many of its objects are there.
  const platform = (ns: string) => ns === "flux-system" || ns === "default" || ns.startsWith("kube-");
  for (const [name, c] of counts) {
    const [ns] = [...c].sort((a, b) => b[1] - a[1])[0]!;
    if (!platform(ns)) out.set(name, ns);
  }
  for (const [name, list] of declared) if (list.length === 1) out.set(name, list[0]!);
  return out;
}

/** Of the build's bindings, those that give one of the tenant namespace's accounts power outside it. */
function boundOutside(bindings: Built[], t: ProofTenant): string[] {
  const out: string[] = [];
  for (const { obj, file } of bindings) {
    const at = obj.kind === "RoleBinding" ? obj.metadata?.namespace : undefined;
    if (at === t.namespace) continue;
    for (const s of obj.subjects ?? []) {
      const account = s.kind === "ServiceAccount" && (s.namespace ?? at) === t.namespace;
      const group = s.kind === "Group" && (s.name === `system:serviceaccounts:${t.namespace}` || s.name === "system:serviceaccounts");
      if (account || group)
        out.push(`${s.kind} ${account ? `${t.namespace}/${s.name}` : s.name} is bound by ${shownRef(obj)} (${file}), outside ${t.namespace}`);
    }
  }
  return out;
}

/**
 * The Builder knows an object's file by its kind and name as declared; one an overlay renamed
 * (a Namespace under `namespace:`, anything under namePrefix) comes back with the overlay as its
 * file. Such an object is a changed tenant's when that tenant declares an object of its kind
 * that the build lacks under the declared name and whose name the new one contains.
 */
function renamedOwners(
  cs: ChangeSet,
  overlay: string,
  built: Built[],
  tenants: ProofTenant[],
  ownerOf: (file: string) => ProofTenant | undefined,
): Map<Built, ProofTenant & { file: string }> {
  const out = new Map<Built, ProofTenant & { file: string }>();
  const orphans = built.filter((b) => !ownerOf(b.file) && b.file === overlay);
  if (!orphans.length) return out;
  const present = new Set(built.map((b) => `${b.obj.kind}/${b.obj.metadata?.name}`));
  for (const t of tenants) {
    const files = t.owns.flatMap((o) => (cs.exists(o) ? [o] : cs.walk(o))).filter((f) => /\.ya?ml$/.test(f) && !/(^|\/)kustomization\.ya?ml$/.test(f));
    for (const file of files) {
      let declared: K8sObject[] = [];
      try {
        declared = readObjects(cs, file);
      } catch {
        continue;
      }
      for (const d of declared) {
        const name = d.metadata?.name ?? "";
        if (!name || present.has(`${d.kind}/${name}`)) continue;
        const match = orphans.find((b) => !out.has(b) && b.obj.kind === d.kind && (d.kind === "Namespace" || (b.obj.metadata?.name ?? "").includes(name)));
        if (match) out.set(match, { ...t, file });
      }
    }
  }
  return out;
}

/** How an object differs between two builds, in a few words: its labels and annotations, else "changes". */
function howChanged(before: K8sObject, after: K8sObject): string {
  const words: string[] = [];
  for (const field of ["labels", "annotations"] as const) {
    const a = before.metadata?.[field] ?? {};
    const b = after.metadata?.[field] ?? {};
    const one = field.slice(0, -1);
    for (const k of Object.keys(b)) if (!(k in a)) words.push(`gains ${one} ${k}=${b[k]}`);
    for (const k of Object.keys(a)) if (!(k in b)) words.push(`loses ${one} ${k}`);
    for (const k of Object.keys(a)) if (k in b && a[k] !== b[k]) words.push(`${one} ${k}: ${a[k]} -> ${b[k]}`);
  }
  return words.length ? words.join(", ") : "changes";
}

/** Every object that is no changed tenant's must be the same before and after: what differs. */
function othersChanged(before: Built[], after: Built[], mine: (b: Built) => boolean): string[] {
  const index = (list: Built[]) => {
    const m = new Map<string, Array<{ b: Built; text: string }>>();
    for (const b of list) {
      if (mine(b)) continue;
      const key = ref(b.obj);
      const l = m.get(key) ?? [];
      l.push({ b, text: canonical(b.obj) });
      m.set(key, l);
    }
    return m;
  };
  const was = index(before);
  const now = index(after);
  const out: string[] = [];
  for (const [key, a] of was) {
    const b = now.get(key) ?? [];
    const left = b.map((x) => x.text);
    const gone = a.filter((x) => {
      const i = left.indexOf(x.text);
      if (i === -1) return true;
      left.splice(i, 1);
      return false;
    });
    const added = b.filter((x) => left.includes(x.text));
    gone.forEach((g, i) => {
      const n = added[i];
      out.push(n ? `${key}: ${howChanged(g.b.obj, n.b.obj)}` : `${key} (${g.b.file}) would vanish`);
    });
    for (const n of added.slice(gone.length)) out.push(`${key} (${n.b.file}) would appear`);
  }
  for (const [key, b] of now) if (!was.has(key)) for (const n of b) out.push(`${key} (${n.b.file}) would appear`);
  return out;
}

/**
 * The overlay transformers that reach a tenant's files: those of the overlay and of every
 * kustomization it includes on the way to them (the tenant's own base excluded: its settings
 * are the tenant's). As far as is cheap: a few levels, a bounded number of kustomizations.
 */
function transformerCauses(cs: ChangeSet, overlay: string, t: ProofTenant): string[] {
  const owned = (p: string) => t.owns.some((o) => p === o || p.startsWith(`${o}/`) || o.startsWith(`${p}/`));
  const seen = new Set<string>();
  const causes: string[] = [];
  const visit = (dir: string, depth: number): boolean => {
    if (seen.has(dir) || seen.size > 50 || depth > 4) return false;
    seen.add(dir);
    const file = kustomizationIn(cs, dir);
    if (!file) return false;
    let k: Record<string, unknown> | undefined;
    try {
      k = readObjects(cs, file)[0] as Record<string, unknown> | undefined;
    } catch {
      return false;
    }
    if (!k) return false;
    const entries = [...(Array.isArray(k.resources) ? k.resources : []), ...(Array.isArray(k.bases) ? k.bases : [])].filter(
      (e): e is string => typeof e === "string" && !/^[a-z]+:\/\//i.test(e),
    );
    let leads = false;
    for (const e of entries) {
      const target = entryTarget(dir, e);
      if (owned(target)) leads = true;
      else if (visit(target, depth + 1)) leads = true;
    }
    if (leads)
      for (const [field, say] of Object.entries(TRANSFORMERS)) {
        if (k[field] === undefined) continue;
        const cause = say(k[field], t, file);
        if (cause) causes.push(cause);
      }
    return leads;
  };
  visit(overlay, 0);
  return causes;
}

// ---------------------------------------------------------------------------------------------
// The proof

const short = (msg: string) => {
  // kustomize's ID conflict lists both objects as JSON: the sentence before it says it.
  const m = msg
    .replace(/: \[\{.*$/s, "")
    .replace(/^"command failed" err="/, "")
    .replace(/"$/, "")
    .trim();
  return m.length > 400 ? `${m.slice(0, 400)}...` : m;
};

type BuildModule = typeof import("../validate/build.js");

/**
 * A build's outcome. kubectl missing or too slow stops the whole proof: the tool failed, not
 * the overlay, and the fix is the person's.
 */
function settle(p: Promise<Built[]> | undefined, overlay: string, b: BuildModule): Promise<Outcome> {
  if (!p) return Promise.resolve(undefined);
  return p.then(
    (built) => ({ built }),
    (e: unknown) => {
      if (e instanceof b.KubectlMissing)
        throw new ToolError(
          "kubectl is not installed or not on PATH; fleet proves every change by building the overlays it touches with kubectl kustomize, and wrote nothing\n" +
            "  fix: install kubectl (it includes kustomize), or run again with --no-verify to write without the proof",
        );
      if (e instanceof b.BuildTimeout)
        throw new ToolError(
          `${overlay}: ${e.message} (fleet builds it before and after to prove the change); nothing was written\n` +
            "  fix: run again with a longer --timeout, or with --no-verify to write without the proof",
        );
      return { error: e instanceof Error ? e.message : String(e) };
    },
  );
}

const exists = (root: string, dir: string) => fs.statSync(path.join(root, ...dir.split("/")), { throwIfNoEntry: false })?.isDirectory() === true;

/** Entries an overlay lists: what makes a flat overlay slow to build. */
function entryCount(cs: ChangeSet, overlay: string): number {
  try {
    const k = readObjects(cs, `${overlay}/kustomization.yaml`)[0] as { resources?: unknown[]; patches?: unknown[] } | undefined;
    return (k?.resources?.length ?? 0) + (k?.patches?.length ?? 0);
  } catch {
    return 0;
  }
}

/** The changed tenants by name, or by count when there are many (new-env changes every tenant). */
const who = (names: string[]) => (names.length === 0 ? "the repository" : names.length <= 3 ? names.join(", ") : `${names.length} tenants`);

/** Whether any file of the tenant is there after the change. */
const present = (cs: ChangeSet, t: ProofTenant | undefined) => t !== undefined && t.owns.some((o) => cs.exists(o) || cs.walk(o).length > 0);

/** One overlay's findings, or nothing when it passes. */
function judge(
  cs: ChangeSet,
  overlay: string,
  before: Outcome,
  after: Outcome,
  plan: ProofPlan,
  ownerOf: (file: string) => ProofTenant | undefined,
): string[] {
  const changed = new Set(plan.changed);
  const tenantsHere = plan.tenants.filter((t) => changed.has(t.name));
  const causes = () => [...new Set(tenantsHere.flatMap((t) => transformerCauses(cs, overlay, t)))];
  const withCause = (problems: string[], fix: string): string[] => {
    const c = causes();
    return [...problems, ...c.map((x) => `cause: ${x}`), `fix: ${c.length ? TRANSFORMER_FIX : fix}`];
  };
  // A broken overlay gives nothing to compare with, unless the change removes what broke it: an
  // offboarding left half done (the base gone, the entries not) is finished, and the result proven on its own.
  const removal = plan.changed.every((name) => !present(cs, plan.tenants.find((t) => t.name === name)));
  if (before && "error" in before && !(removal && after && !("error" in after)))
    return [`does not build as it is on disk, before this change, so there is nothing to compare with: ${short(before.error)}`, `fix: ${BROKEN_FIX}`];
  if (after && "error" in after) return withCause([`would not build after this change: ${short(after.error)}`], BROKEN_FIX);
  if (!after) return [];
  if (before && "error" in before) before = undefined;

  const renamed = renamedOwners(cs, overlay, after.built, tenantsHere, ownerOf);
  const unitOf = unitOwners(plan.tenants);
  const ownerOfBuilt = (b: Built) => ownerOf(b.file) ?? renamed.get(b) ?? unitOf.get(b.file);
  const mine = (b: Built) => changed.has(ownerOfBuilt(b)?.name ?? "");
  const problems: string[] = [];
  // b. The changed tenants stay in their namespace, their reconciler bound only there.
  // Grouped once: new-env changes every tenant of an overlay that holds thousands of objects.
  const byOwner = new Map<string, Built[]>();
  for (const b of after.built) {
    const name = ownerOfBuilt(b)?.name;
    if (name === undefined || !changed.has(name)) continue;
    const list = byOwner.get(name) ?? [];
    list.push(b);
    byOwner.set(name, list);
  }
  const bindings = after.built.filter((b) => b.obj.kind === "RoleBinding" || b.obj.kind === "ClusterRoleBinding");
  for (const t of tenantsHere) {
    for (const b of byOwner.get(t.name) ?? [])
      problems.push(...(unitOf.has(b.file) ? unitMisplaced(b.obj, t) : misplaced(b.obj, t)).map((m) => `${m} (${renamed.has(b) ? renamed.get(b)!.file : b.file})`));
    problems.push(...boundOutside(bindings, t));
  }
  // c. Everything else is the same, byte for byte.
  const others = before ? othersChanged(before.built, after.built, mine) : [];
  const shown = [...problems.slice(0, SHOWN * 2), ...others.slice(0, SHOWN).map((o) => `an object that is not ${who(plan.changed)}'s changes: ${o}`)];
  const hidden = Math.max(0, problems.length - SHOWN * 2) + Math.max(0, others.length - SHOWN);
  if (hidden) shown.push(`and ${hidden} more`);
  const out = shown.length ? withCause(shown, CHANGE_FIX) : [];
  // d. No tenant's files carry platform authority, whoever added them.
  const wasThere = new Set(before?.built.map((b) => canonical(b.obj)) ?? []);
  const authority: string[] = [];
  const where = effectiveNamespaces(after.built, ownerOf);
  for (const b of after.built) {
    const t = ownerOf(b.file);
    if (!t || changed.has(t.name)) continue;
    for (const m of misplaced(b.obj, { ...t, namespace: where.get(t.name) ?? t.namespace }))
      authority.push(`${b.file} (tenant ${t.name}): ${m}${wasThere.has(canonical(b.obj)) ? "; already in the repo, not added by this change" : ""}`);
  }
  if (authority.length) {
    out.push(...authority.slice(0, SHOWN * 2));
    if (authority.length > SHOWN * 2) out.push(`and ${authority.length - SHOWN * 2} more`);
    out.push(`fix: ${AUTHORITY_FIX}`);
  }
  return out;
}

/**
 * Build every overlay of the plan before and after the change and check it. Returns what was
 * built; throws ProofError naming each failing overlay, check, cause and fix (nothing is
 * written), or ToolError when kubectl is missing.
 */
export async function prove(cs: ChangeSet, plan: ProofPlan, opts: ProofOptions = {}): Promise<ProofResult> {
  // Loaded here: --no-verify and commands without a plan never pay for kubectl's plumbing.
  const build = await import("../validate/build.js");
  const builder = new build.Builder(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs });
  const n = plan.overlays.length;
  opts.progress?.(`proving: building ${n} overlay${n === 1 ? "" : "s"} before and after (kubectl kustomize) ...`);
  /** The build of an overlay (or of its part the plan names) in one tree, when there is anything to build there. */
  const request = (root: string, overlay: string): BuildRequest | undefined => {
    const part = plan.parts?.[overlay];
    if (!part) return exists(root, overlay) ? { root, path: overlay } : undefined;
    const files = part.filter((f) => fs.statSync(path.join(root, ...f.split("/")), { throwIfNoEntry: false })?.isFile());
    return files.length ? { root, path: overlay, resources: files } : undefined;
  };
  const targets = plan.overlays.flatMap((o) => plan.parts?.[o] ?? [o]);
  return withShadow(cs, targets, async (shadow) => {
    const outcomes = plan.overlays.map((overlay) => {
      const [was, will] = [request(cs.root, overlay), request(shadow, overlay)];
      const pair = Promise.allSettled([
        settle(was ? builder.build(was) : undefined, overlay, build),
        settle(will ? builder.build(will) : undefined, overlay, build),
      ]).then((both) => {
        for (const o of both) if (o.status === "rejected") throw o.reason;
        return both.map((o) => (o as PromiseFulfilledResult<Outcome>).value) as [Outcome, Outcome];
      });
      if (opts.progress) {
        const timer = setTimeout(
          () => opts.progress?.(`proving: ${overlay} is slow to build (${entryCount(cs, overlay)} entries in one overlay: kustomize's cost grows faster than the entries); still building ...`),
          SLOW_MS,
        );
        timer.unref();
        void pair.finally(() => clearTimeout(timer)).catch(() => undefined);
      }
      return pair;
    });
    // Every build ends before the shadow tree goes, even when one of them stops the proof.
    const all = await Promise.allSettled(outcomes);
    const stopped = all.find((o) => o.status === "rejected");
    if (stopped) throw stopped.reason;
    const settled = all.map((o) => (o as PromiseFulfilledResult<[Outcome, Outcome]>).value);
    const ownerOf = owners(plan.tenants);
    const failures: string[] = [];
    const result: ProofResult = { overlays: [] };
    settled.forEach(([before, after], i) => {
      const overlay = plan.overlays[i]!;
      const found = judge(cs, overlay, before, after, plan, ownerOf);
      if (found.length) failures.push(`${overlay}:\n${found.map((f) => `    ${f.startsWith("cause:") || f.startsWith("fix:") ? f : `- ${f}`}`).join("\n")}`);
      else if (after && "built" in after)
        result.overlays.push({ path: overlay, after: after.built.length, ...(before && "built" in before ? { before: before.built.length } : {}) });
    });
    if (failures.length)
      throw new ProofError(
        `the change to ${who(plan.changed)} fails the proof before write, so nothing was written (each overlay was built as it is and as it would be):\n  ${failures.join("\n  ")}`,
      );
    return result;
  });
}

/**
 * What a writing command runs before it writes: the proof when the change has a plan, or one
 * warning line under --no-verify. The plan is only worked out when it is proven.
 */
export async function proveChange(
  cs: ChangeSet,
  plan: (() => ProofPlan | CustomProof | undefined) | undefined,
  opts: ProofOptions & { verify: boolean; warn: (line: string) => void },
): Promise<{ notes: string[]; json: Record<string, unknown> } | undefined> {
  if (!plan || !cs.hasChanges()) return undefined;
  if (!opts.verify) {
    opts.warn("warning: not proven: --no-verify skipped building the touched overlays before and after this change; run fleet validate before you commit");
    return undefined;
  }
  const p = plan();
  if (p && "prove" in p) return p.prove(opts);
  if (p && p.overlays.length) await prove(cs, p, opts);
  return undefined;
}
