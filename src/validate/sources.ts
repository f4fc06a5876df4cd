/**
 * Which Flux sources are this repository, so that validate builds what they point at from disk:
 * the source the cluster syncs itself from (gotk-sync's, or the one a FluxInstance creates: an
 * OCIRepository there is this repository pushed as an artifact), any GitRepository whose url names
 * the repository's origin, a source mapped with --source, and an ExternalArtifact that an
 * ArtifactGenerator makes by copying directories of one of those. Everything else is not checked.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { tempDir } from "./build.js";
import { resolveInside } from "./inputs.js";
import { sourceAsked } from "./source-flags.js";
import { isFlux, ref, type Applied, type K8sObject } from "./model.js";
import type { SyncSource } from "../model/clusters.js";
import { parseGitUrl, readOrigin, type Origin } from "../model/origin.js";

/** Where a source's content is on disk, and for a generated artifact, where each file came from. */
export type Located =
  /** `files`: artifact-relative path -> path relative to the root it was copied from. */
  | { root: string; files?: Map<string, string> }
  /** A source validate knows but cannot reproduce: why, for "not checked". */
  | { why: string };

export interface SourceContext {
  root: string;
  /** The cluster's own sync source. */
  self?: SyncSource;
  /** `namespace/name` -> directory, from --source. */
  sources: Map<string, string>;
  /** What the cluster applies so far (the objects on this cluster only). */
  objects: Applied[];
  /** The run (its Builder): the origin and generated artifacts are read once per run. */
  run: object;
}

/**
 * The cluster's own sync source: where its sync file puts it (flux bootstrap --namespace, the
 * FluxInstance's namespace), else flux bootstrap's default, flux-system/flux-system.
 */
const FLUX_NS = "flux-system";
export const selfKey = (self: SyncSource | undefined) => `${self?.kind ?? "GitRepository"}/${self?.namespace ?? FLUX_NS}/${self?.name ?? self?.namespace ?? FLUX_NS}`;

const origins = new WeakMap<object, Map<string, Promise<Origin | undefined>>>();
function originOf(root: string, run: object): Promise<Origin | undefined> {
  let byRoot = origins.get(run);
  if (!byRoot) origins.set(run, (byRoot = new Map()));
  let p = byRoot.get(root);
  if (!p) byRoot.set(root, (p = readOrigin(root).then((r) => ("origin" in r ? r.origin : undefined))));
  return p;
}

/** Whether a git URL names the same repository (host, owner, name; any scheme, `.git` or not). */
export function namesRepository(url: unknown, origin: Origin | undefined): boolean {
  const u = typeof url === "string" ? parseGitUrl(url) : undefined;
  return !!u && !!origin && u.host === origin.host && u.owner.toLowerCase() === origin.owner.toLowerCase() && u.repository.toLowerCase() === origin.repository.toLowerCase();
}

const nsOf = (o: K8sObject) => o.metadata?.namespace ?? "default";
/**
 * The objects a walk level asks about, by kind, namespace and name, built once per list (a list
 * is not changed once a level is asked about it): a thousand tenants' Kustomizations each
 * searching every object would be quadratic.
 */
const indexes = new WeakMap<Applied[], Map<string, Applied[]>>();
const keyOf = (kind: unknown, ns: unknown, name: unknown) => JSON.stringify([kind, ns, name]);
function find(objects: Applied[], kind: string, ns: string, name: string, grp?: string): Applied | undefined {
  let index = indexes.get(objects);
  if (!index) {
    index = new Map();
    for (const a of objects) {
      const k = keyOf(a.obj.kind, nsOf(a.obj), a.obj.metadata?.name);
      (index.get(k) ?? index.set(k, []).get(k)!).push(a);
    }
    indexes.set(objects, index);
  }
  return index.get(keyOf(kind, ns, name))?.find((a) => grp === undefined || isFlux(a.obj, kind, grp));
}

/**
 * Where the source `kind/ns/name` is on disk, `{why}` when it is a generated artifact validate
 * cannot reproduce, or undefined when it is not this repository (nor mapped).
 */
export async function locate(kind: string, ns: string, name: string, ctx: SourceContext): Promise<Located | undefined> {
  sourceAsked(ctx.sources, `${ns}/${name}`);
  if (`${kind}/${ns}/${name}` === selfKey(ctx.self)) return { root: ctx.root };
  const mapped = ctx.sources.get(`${ns}/${name}`);
  if (mapped) return { root: mapped };
  if (kind === "GitRepository") {
    const repo = find(ctx.objects, kind, ns, name, "source.toolkit.fluxcd.io");
    if (!repo) return undefined;
    const origin = await originOf(ctx.root, ctx.run);
    if (!namesRepository(repo.obj.spec?.url, origin)) return undefined;
    // Another branch of this repository is other content: what is on disk is not what Flux fetches.
    const branch = repo.obj.spec?.ref?.branch;
    const ours = [...new Set([origin!.branch, ctx.self?.branch].filter((b) => b !== undefined))];
    if (typeof branch === "string" && branch !== "" && ours.length && !ours.includes(branch))
      return { why: `branch ${branch} of this repository, not the one checked out (${ours.join(", ")})` };
    return { root: ctx.root };
  }
  if (kind === "ExternalArtifact") return generated(ns, name, ctx);
  return undefined;
}

interface Copy {
  from?: unknown;
  to?: unknown;
  exclude?: unknown;
  strategy?: unknown;
}

/**
 * An ExternalArtifact made by an ArtifactGenerator (source-watcher) from this repository: its
 * files copied into a temporary directory, as source-watcher's builder copies them.
 */
async function generated(ns: string, name: string, ctx: SourceContext): Promise<Located | undefined> {
  const gen = ctx.objects.find(
    (a) =>
      isFlux(a.obj, "ArtifactGenerator", "source.extensions.fluxcd.io") &&
      nsOf(a.obj) === ns &&
      Array.isArray(a.obj.spec?.artifacts) &&
      (a.obj.spec.artifacts as Array<{ name?: unknown }>).some((x) => x?.name === name),
  );
  if (!gen) return undefined;
  const g = ref(gen.obj);
  const artifact = (gen.obj.spec!.artifacts as Array<{ name?: unknown; copy?: unknown }>).find((x) => x?.name === name)!;
  const copies = (Array.isArray(artifact.copy) ? artifact.copy : []) as Copy[];
  const aliases = new Map<string, { kind: string; ns: string; name: string }>();
  for (const s of (Array.isArray(gen.obj.spec?.sources) ? gen.obj.spec!.sources : []) as Array<Record<string, unknown>>)
    aliases.set(String(s?.alias), { kind: String(s?.kind), ns: typeof s?.namespace === "string" ? s.namespace : ns, name: String(s?.name) });
  const plan: Array<{ root: string; copy: PlainCopy }> = [];
  for (const c of copies) {
    const plain = plainCopy(c);
    if (typeof plain === "string") return { why: `${g}: artifact ${name} copies ${String(c.from)} -> ${String(c.to)}, ${plain}; validate does not reproduce it` };
    const src = aliases.get(plain.alias);
    if (!src) return { why: `${g}: artifact ${name} copies from @${plain.alias}, which is not one of its sources` };
    if (src.kind === "ExternalArtifact") return { why: `${g}: artifact ${name} copies from ExternalArtifact/${src.ns}/${src.name}, another generated artifact` };
    const at = await locate(src.kind, src.ns, src.name, ctx);
    if (!at || "why" in at || at.files) return { why: `${g}: artifact ${name} copies from ${src.kind}/${src.ns}/${src.name}, which is not this repository` };
    plan.push({ root: at.root, copy: plain });
  }
  if (plan.length === 0) return { why: `${g}: artifact ${name} copies nothing` };
  return materialise(plan, ctx.run);
}

/** `@alias/<dir>/**` or `@alias/<dir>/<glob>` into `@artifact/<dir>/`: what validate reproduces. */
interface PlainCopy {
  alias: string;
  /** Directory inside the source ("" for its root). */
  dir: string;
  /** undefined for `**` (everything below dir), else a one-segment file glob. */
  glob?: RegExp;
  /** Directory inside the artifact ("" for its root). */
  to: string;
}

const GLOB_CHARS = /[*?[\]]/;
const cleanDir = (d: string) => d.replace(/^\.\/|\/+$/g, "");
const safeDir = (d: string) => !d.split("/").some((p) => p === ".." || p === ".") && !path.posix.isAbsolute(d) && !/[{}]/.test(d);

function plainCopy(c: Copy): PlainCopy | string {
  if (Array.isArray(c.exclude) && c.exclude.length) return "with excludes";
  if (c.strategy !== undefined && c.strategy !== "Overwrite") return `with strategy ${String(c.strategy)}`;
  const from = /^@([A-Za-z0-9_-]+)\/(.*)$/.exec(String(c.from ?? ""));
  const to = /^@artifact\/(.*)$/.exec(String(c.to ?? ""));
  if (!from || !to) return "which is not @alias/<path> -> @artifact/<path>";
  if (to[1] !== "" && !to[1]!.endsWith("/")) return "into a file rather than a directory";
  const dest = cleanDir(to[1]!);
  const pattern = from[2]!;
  const slash = pattern.lastIndexOf("/");
  const dir = cleanDir(slash < 0 ? "" : pattern.slice(0, slash));
  const last = pattern.slice(slash + 1);
  if (!safeDir(dest) || !safeDir(dir) || GLOB_CHARS.test(dir) || GLOB_CHARS.test(dest)) return "not a plain directory";
  if (last === "**") return { alias: from[1]!, dir, to: dest };
  if (!GLOB_CHARS.test(last) || last.includes("**") || /[[\]{}]/.test(last)) return "not a directory's contents (<dir>/**) or files of one directory (<dir>/*.yaml)";
  const glob = new RegExp(`^${last.replace(/[.+^${}()|\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]")}$`);
  return { alias: from[1]!, dir, glob, to: dest };
}

const artifacts = new WeakMap<object, Map<string, Located>>();

/**
 * The artifact's files in a temporary directory (removed with the run's other temporary files),
 * made once per run. As source-watcher copies: operations in order, later files overwrite
 * earlier ones; `<dir>/**` strips `<dir>/` (dotfiles included: doublestar matches them); a glob
 * of one directory keeps the matched path, `<dir>/<file>`, below the destination
 * (calculateGlobDestination in internal/builder/builder.go; its docs' example shows the file
 * name alone, its code joins the whole match). Nothing is read outside the source's root: a
 * symlink is followed only where it resolves inside it.
 */
function materialise(plan: Array<{ root: string; copy: PlainCopy }>, run: object): Located {
  let cache = artifacts.get(run);
  if (!cache) artifacts.set(run, (cache = new Map()));
  const key = JSON.stringify(plan.map((p) => [p.root, p.copy.dir, p.copy.glob?.source ?? "**", p.copy.to]));
  const hit = cache.get(key);
  if (hit) return hit;
  const out = tempDir();
  const files = new Map<string, string>();
  let origin: string | undefined;
  for (const { root, copy } of plan) {
    if (origin !== undefined && origin !== root) return remember(cache, key, { why: "the artifact copies from more than one source" });
    origin = root;
    const at = copy.dir === "" ? { abs: fs.realpathSync(root), dir: true } : resolveInside(root, copy.dir);
    if ("problem" in at || !at.dir) return remember(cache, key, { why: `@${copy.alias}/${copy.dir} ${"problem" in at ? at.problem : "is a file"}` });
    const picked: string[] = [];
    const walk = (rel: string, depth: number) => {
      if (depth > 64) return;
      const abs = path.join(at.abs, rel);
      for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
        // A GitRepository's artifact holds the tree, not git's own directory.
        if (e.name === ".git") continue;
        const r = rel ? `${rel}/${e.name}` : e.name;
        const top = rel === "";
        if (copy.glob && top && !copy.glob.test(e.name)) continue;
        let isDir = e.isDirectory();
        if (e.isSymbolicLink()) {
          const t = resolveInside(root, path.posix.join(copy.dir, r));
          if ("problem" in t) continue;
          isDir = t.dir;
        } else if (!isDir && !e.isFile()) continue;
        if (isDir) walk(r, depth + 1);
        else picked.push(r);
      }
    };
    walk("", 0);
    for (const r of picked) {
      const dest = path.posix.join(copy.to, copy.glob ? path.posix.join(copy.dir, r) : r);
      const from = path.posix.join(copy.dir, r);
      const real = resolveInside(root, from);
      if ("problem" in real || real.dir) continue;
      fs.mkdirSync(path.join(out, path.posix.dirname(dest)), { recursive: true });
      fs.copyFileSync(real.abs, path.join(out, dest));
      files.set(dest, from);
    }
  }
  return remember(cache, key, { root: out, files });
}

function remember(cache: Map<string, Located>, key: string, v: Located): Located {
  cache.set(key, v);
  return v;
}
