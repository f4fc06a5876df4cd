/**
 * Walk a cluster as Flux would: build clusters/<name>, then every Flux Kustomization found in
 * what it applies whose source is this repository (or a directory given with --source), level
 * by level with builds in parallel, and apply postBuild substitution to what each one builds.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { BuildError, pool, type Builder, type Built } from "./build.js";
import { isFluxKustomization, ref, type Applied, type K8sObject } from "./model.js";
import { substituteObject, variablesFor } from "./substitute.js";

export interface Walked {
  objects: Applied[];
  notChecked: string[];
  buildErrors: Array<{ at: { obj: K8sObject; file: string }; message: string }>;
  unresolved: Array<{ obj: K8sObject; file: string; names: string[] }>;
  missingVarSources: Array<{ ks: Applied; kind: string; name: string }>;
}

export interface WalkOptions {
  root: string;
  cluster: string;
  /** `namespace/name` of a source -> local directory holding its content. */
  sources: Map<string, string>;
  builder: Builder;
}

/**
 * Before bootstrap, a cluster's flux-system lacks the files flux writes, and its entrypoint
 * cannot build. What it can build is everything else it lists: the resources to build instead,
 * or undefined when the cluster is bootstrapped (or has no kustomization of its own).
 */
function unbootstrapped(root: string, entry: string): string[] | undefined {
  const fluxSystem = path.join(root, entry, "flux-system");
  const missing = ["gotk-components.yaml", "gotk-sync.yaml"].filter((f) => !fs.existsSync(path.join(fluxSystem, f)));
  const own = path.join(root, entry, "kustomization.yaml");
  if (missing.length === 0 || !fs.existsSync(own)) return undefined;
  const list = (file: string): string[] => {
    try {
      const r = (parse(fs.readFileSync(file, "utf8")) as { resources?: unknown })?.resources;
      return Array.isArray(r) ? r.map(String) : [];
    } catch {
      return [];
    }
  };
  return list(own).flatMap((r) =>
    r.replace(/\/$/, "") === "flux-system"
      ? list(path.join(fluxSystem, "kustomization.yaml"))
          .filter((f) => !missing.includes(f) && fs.existsSync(path.join(fluxSystem, f)))
          .map((f) => `${entry}/flux-system/${f}`)
      : [`${entry}/${r}`],
  );
}

/** The source the cluster syncs itself from: what gotk-sync names, flux-system by default. */
const SELF = "GitRepository/flux-system/flux-system";

export async function walkCluster(opts: WalkOptions): Promise<Walked> {
  const out: Walked = { objects: [], notChecked: [], buildErrors: [], unresolved: [], missingVarSources: [] };
  const entry = `clusters/${opts.cluster}`;
  const raw: Array<{ built: Built[]; by?: Applied }> = [];
  const resources = unbootstrapped(opts.root, entry);
  if (resources) out.notChecked.push(`flux-system of cluster ${opts.cluster}: not bootstrapped yet (no gotk-components.yaml or gotk-sync.yaml); the controllers' lockdown is checked once it is`);
  try {
    raw.push({ built: await opts.builder.build({ root: opts.root, path: entry, ...(resources ? { resources } : {}) }) });
  } catch (e) {
    if (!(e instanceof BuildError)) throw e;
    out.buildErrors.push({ at: { obj: { kind: "Cluster", metadata: { name: opts.cluster } }, file: entry }, message: e.message });
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
      const path = String(spec.path ?? "./").replace(/^\.\//, "") || ".";
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
        if (!(e instanceof BuildError)) throw e;
        out.buildErrors.push({ at: t.ks, message: `${t.path}: ${e.message}` });
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
