/**
 * Walk a cluster as Flux would: build its sync path, then every Flux Kustomization found in
 * what it applies whose source is this repository (sources.ts; or a directory given with
 * --source), level by level with builds in parallel. Each level's postBuild substitution is
 * applied before its Kustomizations are followed (a child's path may hold `${var}`), with the
 * variables the cluster applies so far; once the walk is done, every level is substituted again
 * with everything the cluster applies, for the findings (a ConfigMap may come from a later level).
 * What lands on another cluster (spec.kubeConfig) is marked with its target and not followed
 * there; ResourceSets are listed as not expanded.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { BuildError, pool, RemoteBases, type Builder, type Built } from "./build.js";
import { readInside, remoteRef, type Remote } from "./inputs.js";
import { isFlux, isFluxKustomization, ref, type Applied, type K8sObject } from "./model.js";
import { locate } from "./sources.js";
import { ObjectIndex, substituteObject, variablesFor } from "./substitute.js";
import type { SyncSource } from "../model/clusters.js";
import { fluxPath } from "../model/flux-path.js";

export interface Walked {
  objects: Applied[];
  notChecked: string[];
  buildErrors: Array<{ at: { obj: K8sObject; file: string }; message: string }>;
  /** Builds not run because they name remote bases or files: the path, and who applies it. */
  remotes: Array<{ at: { obj: K8sObject; file: string }; path: string; remote: Remote }>;
  /** Kustomizations whose spec.path leaves their source, and where Flux would resolve it inside. */
  outside: Array<{ at: Applied; path: string; inside: string }>;
  /** `literal`: no variable was defined, so Flux does not substitute and the text lands as written. */
  unresolved: Array<{ obj: K8sObject; file: string; names: string[]; literal?: boolean }>;
  /** The Kustomizations whose source is this repository (or an artifact made from it): content the platform's review holds. */
  fromRepo: Set<string>;
  missingVarSources: Array<{ ks: Applied; kind: string; name: string }>;
}

export interface WalkOptions {
  root: string;
  cluster: string;
  /** The path the cluster's sync object points at (clusters/<name> in fleet's layout). */
  entry: string;
  /** `namespace/name` of a source -> local directory holding its content. */
  sources: Map<string, string>;
  builder: Builder;
  /** The cluster's own sync source (Cluster.source): this repository, whatever its kind. */
  self?: SyncSource;
}

/**
 * Before bootstrap, a cluster's flux-system lacks the files flux writes, and its entrypoint
 * cannot build. What it can build is everything else it lists: the resources to build instead
 * (and those it names remotely), or undefined when the cluster is bootstrapped (or has no
 * kustomization of its own).
 */
function unbootstrapped(root: string, entry: string): { resources: string[]; remotes: Remote[] } | undefined {
  const fluxSystem = path.join(root, entry, "flux-system");
  // The Flux Operator installs from a FluxInstance: there are no gotk files to wait for.
  if (["flux-instance.yaml", "flux-instance.yml"].some((f) => fs.existsSync(path.join(fluxSystem, f)))) return undefined;
  const missing = ["gotk-components.yaml", "gotk-sync.yaml"].filter((f) => !fs.existsSync(path.join(fluxSystem, f)));
  const own = `${entry}/kustomization.yaml`;
  if (missing.length === 0 || !fs.existsSync(path.join(root, own))) return undefined;
  const remotes: Remote[] = [];
  const list = (file: string): string[] => {
    try {
      const r = (parse(readInside(root, file) ?? "") as { resources?: unknown })?.resources;
      const entries = Array.isArray(r) ? r.map(String) : [];
      for (const e of entries) if (remoteRef(e, "base")) remotes.push({ file, ref: e });
      return entries.filter((e) => !remoteRef(e, "base"));
    } catch {
      return [];
    }
  };
  const resources = list(own).flatMap((r) =>
    r.replace(/\/$/, "") === "flux-system"
      ? list(`${entry}/flux-system/kustomization.yaml`)
          .filter((f) => !missing.includes(f) && fs.existsSync(path.join(fluxSystem, f)))
          .map((f) => `${entry}/flux-system/${f}`)
      : [`${entry}/${r}`],
  );
  return { resources, remotes };
}

/** What validate does not expand, and why: listed as not checked wherever the cluster applies one. */
const NOT_EXPANDED: Array<{ kind: string; group: string; why: string }> = [
  { kind: "ResourceSet", group: "fluxcd.controlplane.io", why: "not expanded; its templates are not checked" },
  { kind: "ResourceSetInputProvider", group: "fluxcd.controlplane.io", why: "not expanded; the inputs it provides are not checked" },
];

/** The cluster a Kustomization or HelmRelease applies to when spec.kubeConfig names another one. */
export function kubeConfigTarget(ks: K8sObject): string | undefined {
  const kc = ks.spec?.kubeConfig as { secretRef?: { name?: string }; configMapRef?: { name?: string }; provider?: string } | undefined;
  if (!kc || typeof kc !== "object") return undefined;
  const ns = ks.metadata?.namespace ?? "default";
  if (kc.secretRef?.name) return `${ns}/${kc.secretRef.name}`;
  if (kc.provider) return `provider:${kc.provider}`;
  if (kc.configMapRef?.name) return `${ns}/${kc.configMapRef.name}`;
  return `${ns}/${ks.metadata?.name ?? "?"}`;
}

/** One Kustomization's build (or the entrypoint's), as built, and the objects made of it. */
interface Level {
  built: Built[];
  by?: Applied;
  applied: Applied[];
  /** The variables it was last substituted with, and what they left unresolved. */
  used?: string;
  missing?: Walked["unresolved"];
}

/** The objects on each cluster (by target; "" for this one), as variable sources. */
function byTarget(objects: Applied[]): Map<string, ObjectIndex> {
  const m = new Map<string, K8sObject[]>();
  for (const a of objects) {
    const list = m.get(a.target ?? "") ?? [];
    list.push(a.obj);
    m.set(a.target ?? "", list);
  }
  return new Map([...m].map(([t, list]) => [t, new ObjectIndex(list)]));
}

export async function walkCluster(opts: WalkOptions): Promise<Walked> {
  const out: Walked = { objects: [], notChecked: [], buildErrors: [], remotes: [], outside: [], unresolved: [], missingVarSources: [], fromRepo: new Set() };
  const entry = opts.entry;
  const cluster = { obj: { kind: "Cluster", metadata: { name: opts.cluster } }, file: entry };
  const levels: Level[] = [];
  const pre = unbootstrapped(opts.root, entry);
  if (pre) out.notChecked.push(`flux-system of cluster ${opts.cluster}: not bootstrapped yet (no gotk-components.yaml or gotk-sync.yaml); the controllers' lockdown is checked once it is`);
  let first: Built[];
  try {
    if (pre?.remotes.length) throw new RemoteBases(pre.remotes);
    first = await opts.builder.build({ root: opts.root, path: entry, ...(pre ? { resources: pre.resources } : {}) });
  } catch (e) {
    if (e instanceof RemoteBases) for (const remote of e.remotes) out.remotes.push({ at: cluster, path: entry, remote });
    else if (e instanceof BuildError) out.buildErrors.push({ at: cluster, message: `${entry}: ${e.message}` });
    else throw e;
    return out;
  }
  const seen = new Set<string>();
  const listed = new Set<string>();
  const notChecked = (line: string) => {
    if (!listed.has(line)) out.notChecked.push(line);
    listed.add(line);
  };
  const admit = (level: Level) => {
    levels.push(level);
    out.objects.push(...level.applied);
    for (const a of level.applied) {
      const n = NOT_EXPANDED.find((x) => isFlux(a.obj, x.kind, x.group));
      if (n) notChecked(`${ref(a.obj)}: ${n.why}`);
    }
  };
  const entryLevel: Level = { built: first, applied: first.map((b) => ({ obj: b.obj, file: b.file, appliedBy: "" })) };
  // The cluster's own sync Kustomization applies the entry path, itself included: its postBuild
  // substitutes what the entry builds before anything there is followed (a child's path may be
  // ./clusters/${TENANT}/${ENVIRONMENT}).
  const sync = entryLevel.applied.find((a) => isFluxKustomization(a.obj) && fluxPath(a.obj.spec?.path).path?.replace(/\/$/, "") === entry);
  if (sync) entryLevel.by = sync;
  admit(entryLevel);
  if (sync) substitute(entryLevel, byTarget(out.objects));
  let frontier = levels[0]!.applied;
  while (frontier.length > 0) {
    const todo: Array<{ ks: Applied; root: string; path: string; files?: Map<string, string> }> = [];
    const here = out.objects.filter((a) => !a.target);
    for (const ks of frontier.filter((a) => isFluxKustomization(a.obj))) {
      if (ks.target) {
        notChecked(`${ref(ks.obj)}: applied to cluster ${ks.target}, whose own Flux reconciles it; not followed`);
        continue;
      }
      const spec = ks.obj.spec ?? {};
      const src = spec.sourceRef ?? {};
      const kind = String(src.kind ?? "GitRepository");
      const ns = String(src.namespace ?? ks.obj.metadata?.namespace ?? "default");
      const srcKey = `${kind}/${ns}/${src.name}`;
      const at = src.name ? await locate(kind, ns, String(src.name), { root: opts.root, self: opts.self, sources: opts.sources, objects: here, run: opts.builder }) : undefined;
      if (!at || "why" in at) {
        if (src.name) notChecked(`${srcKey} (source of ${ref(ks.obj)})${at ? `: ${at.why}` : ""}`);
        continue;
      }
      if (at.root === opts.root || at.files) out.fromRepo.add(ref(ks.obj));
      const { path, inside } = fluxPath(spec.path);
      if (path === undefined) {
        out.outside.push({ at: ks, path: String(spec.path), inside });
        continue;
      }
      // Each Kustomization is followed once (a cycle stops here); two that apply the same path are
      // both followed, as Flux applies both: on two clusters, or twice on one (a duplicate).
      const key = `${ks.target ?? ""}|${ref(ks.obj)}`;
      if (seen.has(key) || (at.root === opts.root && path.replace(/\/$/, "") === entry)) continue;
      seen.add(key);
      todo.push({ ks, root: at.root, path, ...(at.files ? { files: at.files } : {}) });
    }
    // The builder bounds kubectl to one per core across clusters; here every build is asked at once.
    const results = await pool(todo, todo.length, async (t) => {
      const spec = t.ks.obj.spec ?? {};
      try {
        return {
          t,
          built: await opts.builder.build({
            root: t.root,
            path: t.path,
            targetNamespace: spec.targetNamespace,
            patches: spec.patches,
            ...(Array.isArray(spec.components) ? { components: spec.components.map(String), ignoreMissingComponents: spec.ignoreMissingComponents === true } : {}),
          }),
        };
      } catch (e) {
        if (e instanceof RemoteBases) for (const remote of e.remotes) out.remotes.push({ at: t.ks, path: t.path, remote });
        else if (e instanceof BuildError) out.buildErrors.push({ at: t.ks, message: `${t.path}: ${e.message}` });
        else throw e;
        return { t, built: [] as Built[] };
      }
    });
    const fresh: Level[] = [];
    for (const { t, built } of results) {
      const target = kubeConfigTarget(t.ks.obj) ?? t.ks.target;
      // A generated artifact's files are named by where they were copied from.
      const file = (f: string) => t.files?.get(f) ?? f;
      const level: Level = { built, by: t.ks, applied: built.map((b) => ({ obj: b.obj, file: file(b.file), appliedBy: ref(t.ks.obj), ...(target ? { target } : {}) })) };
      admit(level);
      fresh.push(level);
    }
    // Substituted before the next level is followed: with what the cluster applies so far.
    const sources = byTarget(out.objects);
    for (const level of fresh) substitute(level, sources);
    frontier = fresh.flatMap((l) => l.applied);
  }
  // Again with everything the cluster applies, for the findings: nothing is followed anew.
  const sources = byTarget(out.objects);
  for (const level of levels) {
    const { missing, absent } = substitute(level, sources, true);
    for (const a of absent) out.missingVarSources.push({ ks: level.by!, ...a });
    out.unresolved.push(...missing);
  }
  return out;
}

/**
 * Substitute a level's objects as its Kustomization's postBuild says, with the variables the
 * objects on its own cluster give; unchanged variables leave the level as it is.
 */
function substitute(level: Level, sources: Map<string, ObjectIndex>, final = false): { missing: Walked["unresolved"]; absent: Array<{ kind: string; name: string }> } {
  const post = level.by?.obj.spec?.postBuild;
  if (!level.by || !post) return { missing: [], absent: [] };
  const { vars, absent, active } = variablesFor(level.by.obj, sources.get(level.by.target ?? "") ?? new ObjectIndex([]));
  // Once the whole cluster is known, a source that is not there (and not optional) fails the
  // Kustomization before it substitutes: substitution-source-missing's finding, nothing else.
  // Before that it may yet appear a level below, so the level is substituted with what there is.
  if (final && absent.length) return { missing: [], absent };
  const used = JSON.stringify([active, vars]);
  if (level.used === used) return { missing: level.missing!, absent };
  const missing: Walked["unresolved"] = [];
  level.built.forEach((b, i) => {
    const { obj, missing: names } = substituteObject(b.obj, vars, active);
    if (names.length) missing.push({ obj: b.obj, file: level.applied[i]!.file, names, ...(active ? {} : { literal: true }) });
    level.applied[i]!.obj = obj;
  });
  level.used = used;
  level.missing = missing;
  return { missing, absent };
}
