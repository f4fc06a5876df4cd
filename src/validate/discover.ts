/**
 * Walk a cluster as Flux would: build its sync path, then every Flux Kustomization found in
 * what it applies whose source is this repository (or a directory given with --source), level
 * by level with builds in parallel, and apply postBuild substitution to what each one builds.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { BuildError, pool, RemoteBases, type Builder, type Built } from "./build.js";
import { readInside, remoteRef, type Remote } from "./inputs.js";
import { isFluxKustomization, ref, type Applied, type K8sObject } from "./model.js";
import { substituteObject, variablesFor } from "./substitute.js";
import { fluxPath } from "../model/flux-path.js";

export interface Walked {
  objects: Applied[];
  notChecked: string[];
  buildErrors: Array<{ at: { obj: K8sObject; file: string }; message: string }>;
  /** Builds not run because they name remote bases or files: the path, and who applies it. */
  remotes: Array<{ at: { obj: K8sObject; file: string }; path: string; remote: Remote }>;
  /** Kustomizations whose spec.path leaves their source, and where Flux would resolve it inside. */
  outside: Array<{ at: Applied; path: string; inside: string }>;
  unresolved: Array<{ obj: K8sObject; file: string; names: string[] }>;
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
}

/**
 * Before bootstrap, a cluster's flux-system lacks the files flux writes, and its entrypoint
 * cannot build. What it can build is everything else it lists: the resources to build instead
 * (and those it names remotely), or undefined when the cluster is bootstrapped (or has no
 * kustomization of its own).
 */
function unbootstrapped(root: string, entry: string): { resources: string[]; remotes: Remote[] } | undefined {
  const fluxSystem = path.join(root, entry, "flux-system");
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

/** The source the cluster syncs itself from: what gotk-sync names, flux-system by default. */
const SELF = "GitRepository/flux-system/flux-system";

export async function walkCluster(opts: WalkOptions): Promise<Walked> {
  const out: Walked = { objects: [], notChecked: [], buildErrors: [], remotes: [], outside: [], unresolved: [], missingVarSources: [] };
  const entry = opts.entry;
  const cluster = { obj: { kind: "Cluster", metadata: { name: opts.cluster } }, file: entry };
  const raw: Array<{ built: Built[]; by?: Applied }> = [];
  const pre = unbootstrapped(opts.root, entry);
  if (pre) out.notChecked.push(`flux-system of cluster ${opts.cluster}: not bootstrapped yet (no gotk-components.yaml or gotk-sync.yaml); the controllers' lockdown is checked once it is`);
  try {
    if (pre?.remotes.length) throw new RemoteBases(pre.remotes);
    raw.push({ built: await opts.builder.build({ root: opts.root, path: entry, ...(pre ? { resources: pre.resources } : {}) }) });
  } catch (e) {
    if (e instanceof RemoteBases) for (const remote of e.remotes) out.remotes.push({ at: cluster, path: entry, remote });
    else if (e instanceof BuildError) out.buildErrors.push({ at: cluster, message: `${entry}: ${e.message}` });
    else throw e;
    return out;
  }
  const seen = new Set<string>();
  let frontier: Applied[] = raw[0]!.built.map((b) => ({ obj: b.obj, file: b.file, appliedBy: "" }));
  for (const a of frontier) out.objects.push(a);
  while (frontier.length > 0) {
    const todo: Array<{ ks: Applied; root: string; path: string }> = [];
    for (const ks of frontier.filter((a) => isFluxKustomization(a.obj))) {
      const spec = ks.obj.spec ?? {};
      const src = spec.sourceRef ?? {};
      const srcKey = `${src.kind ?? "GitRepository"}/${src.namespace ?? ks.obj.metadata?.namespace ?? "default"}/${src.name}`;
      const mapped = opts.sources.get(`${src.namespace ?? ks.obj.metadata?.namespace ?? "default"}/${src.name}`);
      const root = srcKey === SELF ? opts.root : mapped;
      if (!root) {
        if (src.name) out.notChecked.push(`${srcKey} (source of ${ref(ks.obj)})`);
        continue;
      }
      const { path, inside } = fluxPath(spec.path);
      if (path === undefined) {
        out.outside.push({ at: ks, path: String(spec.path), inside });
        continue;
      }
      const key = `${srcKey}@${root}@${path}`;
      if (seen.has(key) || (root === opts.root && path.replace(/\/$/, "") === entry)) continue;
      seen.add(key);
      todo.push({ ks, root, path });
    }
    // The builder bounds kubectl to one per core across clusters; here every build is asked at once.
    const results = await pool(todo, todo.length, async (t) => {
      try {
        return {
          t,
          built: await opts.builder.build({
            root: t.root,
            path: t.path,
            targetNamespace: t.ks.obj.spec?.targetNamespace,
            patches: t.ks.obj.spec?.patches,
          }),
        };
      } catch (e) {
        if (e instanceof RemoteBases) for (const remote of e.remotes) out.remotes.push({ at: t.ks, path: t.path, remote });
        else if (e instanceof BuildError) out.buildErrors.push({ at: t.ks, message: `${t.path}: ${e.message}` });
        else throw e;
        return { t, built: [] as Built[] };
      }
    });
    frontier = [];
    for (const { t, built } of results) {
      raw.push({ built, by: t.ks });
      const applied = built.map((b) => ({ obj: b.obj, file: b.file, appliedBy: ref(t.ks.obj) }));
      out.objects.push(...applied);
      frontier.push(...applied);
    }
  }
  // Substitution last: a ConfigMap a Kustomization reads may come from any level.
  const all = out.objects.map((a) => a.obj);
  out.objects = [];
  for (const { built, by } of raw) {
    const post = by?.obj.spec?.postBuild;
    if (!by || !post) {
      out.objects.push(...built.map((b) => ({ obj: b.obj, file: b.file, appliedBy: by ? ref(by.obj) : "" })));
      continue;
    }
    const { vars, absent } = variablesFor(by.obj, all);
    for (const a of absent) out.missingVarSources.push({ ks: by, ...a });
    for (const b of built) {
      const { obj, missing } = substituteObject(b.obj, vars);
      if (missing.length) out.unresolved.push({ obj: b.obj, file: b.file, names: missing });
      out.objects.push({ obj, file: b.file, appliedBy: ref(by.obj) });
    }
  }
  return out;
}
