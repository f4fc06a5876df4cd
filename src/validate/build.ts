/**
 * Build a path as Flux's kustomize-controller would: with its own kustomization.yaml, or, where
 * it has none, every manifest below it (as the controller generates). Flux's own changes
 * (targetNamespace, spec.patches) go into a wrapping overlay in a temp directory. Like the
 * controller, kustomize runs with LoadRestrictionsNone (a patch at ../../base/p.yaml builds);
 * what it may read is checked first (inputs.ts): nothing outside the repository, nothing remote.
 * Each object keeps the file it came from through an index of the resource files the build reads
 * (kustomize's origin annotations would say it too, but make a build a hundred times slower).
 * Builds run in parallel, as many as there are cores, each within a time limit; independent builds
 * share a kubectl process (batches), and results are cached by content between runs (cache.ts).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execa } from "execa";
import { stringify } from "yaml";
import { BuildCache } from "./cache.js";
import { processTempDir, TEMP_PREFIXES } from "../changeset/temp-dirs.js";
import { parseManifests } from "../core/manifests.js";
import { inspectBuild, kustomizationFileOf, noteRead, realRootOf, recordPaths, remoteRef, resolveInside, type Inputs, type ParseCache, type Remote } from "./inputs.js";
import type { K8sObject } from "./model.js";

export class BuildError extends Error {}
/** kubectl kustomize ran past the time limit and was stopped: the limit, not the overlay, is what failed. */
export class BuildTimeout extends BuildError {}
export class KubectlMissing extends Error {}
/** The build names remote bases or files: kustomize would fetch them, so it does not run. */
export class RemoteBases extends Error {
  constructor(readonly remotes: Remote[]) {
    super(`remote: ${remotes.map((r) => r.ref).join(", ")}`);
  }
}

/** How long one kubectl kustomize may take unless --timeout says otherwise. */
export const DEFAULT_BUILD_TIMEOUT_MS = 5 * 60_000;

export interface BuildRequest {
  root: string;
  /** Repo-relative directory. */
  path: string;
  targetNamespace?: string;
  patches?: unknown[];
  /** Build these repo-relative resources instead of the path's own kustomization. */
  resources?: string[];
  /** A Flux Kustomization's spec.components: kustomize Components, relative to `path`. */
  components?: string[];
  /** spec.ignoreMissingComponents: a component that does not exist is left out. */
  ignoreMissingComponents?: boolean;
}

export interface Built {
  obj: K8sObject;
  file: string;
}

/** kind/name -> the resource files that declare it, for one build root (files parsed once). */
type OriginIndex = Map<string, Array<{ file: string; namespace?: string }>>;
type Declared = Map<string, Array<{ kind: string; name: string; namespace?: string }>>;

function declarations(declared: Declared, file: string): Array<{ kind: string; name: string; namespace?: string }> {
  let list = declared.get(file);
  if (!list) {
    list = [];
    try {
      for (const doc of parseManifests(fs.readFileSync(file, "utf8"))) {
        const o = doc as K8sObject | null;
        if (o?.kind && o.metadata?.name) list.push({ kind: o.kind, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) });
      }
    } catch {
      // kustomize reports files it cannot read; the index just lacks them.
    }
    declared.set(file, list);
  }
  return list;
}

/** Over the resource files a build reads (checked, inside the repository): which declares what. */
function originIndex(declared: Declared, realRoot: string, files: string[]): OriginIndex {
  const index: OriginIndex = new Map();
  for (const file of files) {
    const rel = path.relative(realRoot, file).split(path.sep).join("/");
    for (const d of declarations(declared, file)) {
      const key = `${d.kind}/${d.name}`;
      const list = index.get(key) ?? [];
      list.push({ file: rel, ...(d.namespace ? { namespace: d.namespace } : {}) });
      index.set(key, list);
    }
  }
  return index;
}

/**
 * What kustomize-controller puts in a kustomization.yaml it generates: manifests and
 * subdirectories holding a kustomization, without following symlinked directories.
 */
function generatedResources(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    noteRead(d);
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith(".")) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (kustomizationFileOf(p) !== undefined) out.push(p);
        else walk(p);
      } else if (/\.ya?ml$/.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * spec.components as kustomize-controller takes them (fluxcd/pkg kustomize/kustomize_generator.go,
 * GenerateManifest): each must be local and relative (else the build fails), joined to spec.path,
 * and left out where missing only under ignoreMissingComponents; the controller appends them to
 * the path's own kustomization, after its components. Here they go into the wrapping overlay,
 * with targetNamespace and patches, which then apply to what the components add, as in Flux.
 * Where this differs: in Flux the path's own transformers (its namespace, labels, prefixes) also
 * reach the components' objects and run after the components; here they do not, and run before.
 */
function fluxComponents(req: BuildRequest): string[] {
  const out: string[] = [];
  for (const c of req.components ?? []) {
    const s = String(c);
    if (remoteRef(s, "base") || /^(gh:|file:\/\/)/i.test(s) || path.posix.isAbsolute(s)) throw new BuildError(`spec.components '${s}' must be local and relative: kustomize-controller refuses it`);
    const rel = path.posix.join(req.path, s);
    if (req.ignoreMissingComponents) noteRead(path.join(req.root, rel));
    if (req.ignoreMissingComponents && !fs.existsSync(path.join(req.root, rel))) continue;
    out.push(rel);
  }
  return out;
}

/** A Flux Kustomization's spec.patches as the controller passes them on: a patch and its target, nothing else. */
const SELECTOR = ["group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector"];
function fluxPatches(patches: unknown[]): unknown[] {
  return patches.map((p) => {
    const { patch, target } = (p ?? {}) as { patch?: unknown; target?: Record<string, unknown> };
    const t = target && typeof target === "object" ? Object.fromEntries(SELECTOR.filter((k) => target[k] !== undefined).map((k) => [k, String(target[k])])) : undefined;
    return { patch: String(patch ?? ""), ...(t ? { target: t } : {}) };
  });
}

const duration = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

let tmpRoot: string | undefined;
/** A fresh directory of this run's own, removed when the process ends (or by the next run, after a kill). */
export function tempDir(): string {
  tmpRoot ??= processTempDir(TEMP_PREFIXES.validate);
  return fs.mkdtempSync(path.join(tmpRoot, "b-"));
}
process.on("exit", () => {
  if (tmpRoot) fs.rmSync(tmpRoot, { recursive: true, force: true });
});

/** A build checked and ready to run: what it reads, and the overlay Flux's changes need. */
interface Prepared {
  req: BuildRequest;
  realRoot: string;
  inputs: Inputs;
  /** The directory to build as it is, when Flux changes nothing and the path has its own kustomization. */
  own?: string;
  /** Fields of the wrapping overlay besides its resources (namespace, patches, components). */
  overlay: Record<string, unknown>;
  /** Cache key, when the cache is in use. */
  key?: string;
}

interface Pending {
  p: Prepared;
  resolve: (b: Built[]) => void;
  reject: (e: unknown) => void;
}

/** A build request without its root: what names one build of a repository (the cache keeps what it read by it). */
const requestId = (req: BuildRequest) =>
  JSON.stringify([req.path, req.targetNamespace ?? "", req.patches ?? [], req.resources ?? [], req.components ?? [], !!req.ignoreMissingComponents]);

/**
 * Units per kubectl process. One process costs far more than a small unit's build, but kustomize's
 * work on one build grows faster than its objects: measured on 1,000 units of a tenant each
 * (2 cores), 50 a group took 36 s, 100 took 26 s, 200 took 44 s, 500 took 143 s; one process a
 * unit takes about 0.7 s a unit.
 */
export const BATCH_SIZE = 100;
/** Marks each unit's objects in a batched build, then is taken off again. */
const MARK = "validate.fleet.dev/unit";
/** Kustomization fields kustomize applies to a whole build, not to the kustomization holding them (see batchable). */
const WHOLE_BUILD = new Set(["sortoptions", "vars", "openapi", "crds"]);

/**
 * The builds of one validate run. Builds asked together (one level of a walk, on every cluster)
 * are built in groups, one kubectl per group, each unit through its own wrapping overlay that
 * marks its objects; a group that fails is built again one unit at a time, so that only the
 * broken unit fails. Results are kept for the run, and between runs in the content cache
 * (cache.ts) unless it is turned off.
 */
export class Builder {
  /** Clusters of one environment build the same paths: each distinct build runs once. */
  private readonly builds = new Map<string, Promise<Built[]>>();
  private readonly declared: Declared = new Map();
  private readonly parsed: ParseCache = new Map();
  /** At most one kubectl per core, however many clusters and levels ask at once. */
  private free = os.availableParallelism();
  private readonly waiting: Array<() => void> = [];
  private readonly timeoutMs: number;
  /** Builds asked in this turn of the event loop, not yet grouped. */
  private pending: Pending[] = [];
  private readonly cacheOn: boolean;

  /** `cache`: whether builds are read from and written to the user's cache (off: --no-cache). */
  constructor(opts: { timeoutMs?: number; cache?: boolean } = {}) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS;
    this.cacheOn = opts.cache ?? true;
  }

  /** The cache for one repository root (it is never inside the repository it caches). */
  private readonly stores = new Map<string, Promise<BuildCache | undefined>>();
  private storeFor(root: string): Promise<BuildCache | undefined> {
    if (!this.cacheOn) return Promise.resolve(undefined);
    let s = this.stores.get(root);
    if (!s) {
      s = BuildCache.open(root, { timeoutMs: this.timeoutMs });
      this.stores.set(root, s);
    }
    return s;
  }

  /**
   * What `read` comes to on the repository at `root`, kept in the cache with the repo-relative
   * paths it looked at (cache.ts): while none of them changed, the next run does not read again.
   * `read` must depend on nothing but the paths it returns; without the cache it simply runs.
   */
  async remembered<T>(root: string, id: string, read: () => { value: T; paths?: string[] }): Promise<T> {
    const store = await this.storeFor(root);
    const known = store?.recall(`read:${id}`) as T | undefined;
    if (known !== undefined) return deepFreeze(known);
    const { value, paths } = read();
    if (store && paths) store.remember(`read:${id}`, "", value, paths);
    return deepFreeze(value);
  }

  /** Keep what the caches learnt of each repository's files for the next run (cache.ts). */
  async save(): Promise<void> {
    for (const s of this.stores.values()) (await s)?.saveKnownFiles();
  }

  build(req: BuildRequest): Promise<Built[]> {
    const key = JSON.stringify([req.root, requestId(req)]);
    let p = this.builds.get(key);
    if (!p) {
      p = this.resolve(req);
      this.builds.set(key, p);
    }
    return p;
  }

  /** A build's objects, frozen (see deepFreeze), as every caller of it shares them. */
  private async resolve(req: BuildRequest): Promise<Built[]> {
    return deepFreeze(await this.run(req));
  }

  private async run(req: BuildRequest): Promise<Built[]> {
    const store = await this.storeFor(req.root);
    const id = requestId(req);
    // What this build read last time, unchanged by stat: its entry, without reading its inputs again.
    const known = store?.recall(`build:${id}`);
    const stored = typeof known === "string" ? store!.get(known) : undefined;
    if (stored) return stored;
    const { result: p, paths } = recordPaths(() => this.prepare(req));
    if (store) {
      p.key = store.key(
        p.realRoot,
        [req.path, ...[p.inputs.targets, p.inputs.components].map((l) => l.map((t) => path.relative(p.realRoot, t))), p.overlay, !!p.own],
        [...p.inputs.resourceFiles, ...p.inputs.loaded],
      );
      if (p.key !== undefined && paths)
        store.remember(
          `build:${id}`,
          req.path,
          p.key,
          paths.map((a) => path.relative(p.realRoot, a)),
        );
      const hit = p.key === undefined ? undefined : store.get(p.key);
      if (hit) return hit;
    }
    const built = await new Promise<Built[]>((resolve, reject) => {
      this.pending.push({ p, resolve, reject });
      // Everything asked in this turn of the event loop (a whole level of the walk) is batched together.
      if (this.pending.length === 1) setImmediate(() => this.flush());
    });
    if (store && p.key) store.put(p.key, built);
    return built;
  }

  private async withSlot<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }

  /** Check what the build reads (nothing outside the repository, nothing remote) and what Flux adds to it. */
  private prepare(req: BuildRequest): Prepared {
    const at = resolveInside(req.root, req.path, this.parsed);
    if ("problem" in at) throw new BuildError(`path ${req.path} ${at.problem}`);
    if (!at.dir) throw new BuildError(`path ${req.path} is a file, not a directory`);
    const realRoot = realRootOf(req.root, this.parsed) ?? fs.realpathSync(req.root);
    const own = kustomizationFileOf(at.abs) !== undefined;
    const targets = req.resources ?? (own ? [req.path] : generatedResources(at.abs).map((p) => path.relative(realRoot, p)));
    const components = fluxComponents(req);
    const inputs = inspectBuild(req.root, targets, this.parsed, components);
    if (inputs.problems.length) throw new BuildError(inputs.problems.join("; "));
    if (inputs.remotes.length) throw new RemoteBases(inputs.remotes);
    const overlay: Record<string, unknown> = {};
    if (req.targetNamespace) overlay.namespace = String(req.targetNamespace);
    if (req.patches?.length) overlay.patches = fluxPatches(req.patches);
    // A wrapping overlay only where Flux changes the build or must generate the kustomization.
    const wrapped = !own || req.targetNamespace || req.patches?.length || req.resources || components.length;
    return { req, realRoot, inputs, overlay, ...(wrapped ? {} : { own: at.abs }) };
  }

  /** The overlay that builds `p` as Flux does, written into `dir`; `mark` labels its objects for a batch. */
  private writeOverlay(p: Prepared, dir: string, mark?: string): void {
    const rel = (abs: string) => path.relative(dir, abs);
    const overlay: Record<string, unknown> = {
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      resources: p.inputs.targets.map(rel),
      ...p.overlay,
    };
    if (p.inputs.components.length) overlay.components = p.inputs.components.map(rel);
    // metadata/annotations only (commonAnnotations would reach pod templates too), after Flux's changes.
    if (mark !== undefined)
      overlay.transformers = [
        stringify({ apiVersion: "builtin", kind: "AnnotationsTransformer", metadata: { name: "validate-unit" }, annotations: { [MARK]: mark }, fieldSpecs: [{ path: "metadata/annotations", create: true }] }),
      ];
    fs.writeFileSync(path.join(dir, "kustomization.yaml"), stringify(overlay));
  }

  /**
   * Whether a build comes out of a batch exactly as it would alone. kustomize does a few things
   * once for a whole build rather than per kustomization: it sorts by the top's sortOptions,
   * resolves `vars` across everything built, and reads `openapi` and `crds` schemas into state
   * that every patch of the build sees. A build using any of them is built on its own.
   */
  private batchable(p: Prepared): boolean {
    for (const file of p.inputs.loaded)
      for (const doc of [this.parsed.get(file)].flat())
        if (doc && typeof doc === "object" && !(doc instanceof Error) && Object.keys(doc).some((k) => WHOLE_BUILD.has(k.toLowerCase()))) return false;
    return true;
  }

  /**
   * The objects a build declares, by kind, namespace (Flux's targetNamespace where it sets one) and
   * name: two builds declaring the same object cannot share a kubectl (kustomize refuses a build
   * holding an object twice), as every cluster's flux-system does.
   */
  private ids(p: Prepared): string[] {
    return p.inputs.resourceFiles.flatMap((f) => declarations(this.declared, f).map((d) => `${d.kind}/${p.req.targetNamespace ?? d.namespace ?? ""}/${d.name}`));
  }

  private flush(): void {
    const all = this.pending;
    this.pending = [];
    const alone = all.filter((x) => !this.batchable(x.p));
    const batch = all.filter((x) => this.batchable(x.p));
    // At most BATCH_SIZE a group, and at least one group per core while there are builds to share out.
    const count = Math.max(Math.ceil(batch.length / BATCH_SIZE), Math.min(os.availableParallelism(), batch.length));
    const size = Math.ceil(batch.length / Math.max(1, count));
    const groups: Array<{ items: Pending[]; ids: Set<string> }> = Array.from({ length: count }, () => ({ items: [], ids: new Set() }));
    batch.forEach((x, i) => {
      const ids = this.ids(x.p);
      const fits = (g: { items: Pending[]; ids: Set<string> }) => g.items.length < size && !ids.some((id) => g.ids.has(id));
      let g = [...groups.slice(i % count), ...groups.slice(0, i % count)].find(fits);
      if (!g) groups.push((g = { items: [], ids: new Set() }));
      g.items.push(x);
      for (const id of ids) g.ids.add(id);
    });
    for (const g of groups) if (g.items.length) void this.runGroup(g.items);
    for (const x of alone) void this.runGroup([x]);
  }

  /** Build a group in one kubectl; if it fails, each unit again on its own, so only a broken one fails. */
  private async runGroup(group: Pending[]): Promise<void> {
    if (group.length === 1) {
      const [x] = group;
      return this.withSlot(() => this.runOne(x!.p)).then(x!.resolve, x!.reject);
    }
    let split: Built[][] | undefined;
    try {
      split = await this.withSlot(() => this.runBatch(group.map((x) => x.p)));
    } catch (e) {
      if (!(e instanceof BuildError)) {
        for (const x of group) x.reject(e);
        return;
      }
    }
    if (split) group.forEach((x, i) => x.resolve(split[i]!));
    else await Promise.all(group.map((x) => this.runGroup([x])));
  }

  private async runOne(p: Prepared): Promise<Built[]> {
    if (p.own) return this.objects(p, parseManifests(await this.kustomize(p.own)));
    const tmp = tempDir();
    try {
      this.writeOverlay(p, tmp);
      return this.objects(p, parseManifests(await this.kustomize(tmp)));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  /** One kubectl for several builds; undefined when its output cannot be told apart per build. */
  private async runBatch(ps: Prepared[]): Promise<Built[][] | undefined> {
    const tmp = tempDir();
    let stdout: string;
    try {
      ps.forEach((p, i) => {
        fs.mkdirSync(path.join(tmp, `u${i}`));
        this.writeOverlay(p, path.join(tmp, `u${i}`), String(i));
      });
      fs.writeFileSync(path.join(tmp, "kustomization.yaml"), stringify({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: ps.map((_, i) => `u${i}`) }));
      stdout = await this.kustomize(tmp);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    const docs: unknown[][] = ps.map(() => []);
    for (const doc of parseManifests(stdout)) {
      if (doc === null) continue;
      const meta = (doc as K8sObject).metadata;
      const annotations = meta?.annotations as Record<string, unknown> | undefined;
      const i = Number(annotations?.[MARK]);
      if (!Number.isInteger(i) || !docs[i]) return undefined;
      delete annotations![MARK];
      // kustomize writes no empty annotations: a build of its own would have none.
      if (Object.keys(annotations!).length === 0) delete meta!.annotations;
      docs[i]!.push(doc);
    }
    return ps.map((p, i) => this.objects(p, docs[i]!));
  }

  private async kustomize(target: string): Promise<string> {
    // As Flux builds: no load restriction (a patch at ../../base/p.yaml is fine), reads confined
    // to the source root. The confinement is inspectBuild (prepare): every file this build can
    // load was proven inside the repository, and a build with any other is never run.
    const r = await execa("kubectl", ["kustomize", "--load-restrictor", "LoadRestrictionsNone", target], {
      reject: false,
      stdin: "ignore",
      maxBuffer: 1 << 30,
      // Nothing of fleet's environment (tokens) for kustomize to read: older versions took an env file's bare KEY from it.
      env: { PATH: process.env.PATH ?? "" },
      extendEnv: false,
      timeout: this.timeoutMs,
      killSignal: "SIGKILL",
    });
    if (r.failed && (r as { code?: string }).code === "ENOENT") throw new KubectlMissing("kubectl is not installed or not on PATH");
    if (r.timedOut) throw new BuildTimeout(`kubectl kustomize did not finish within ${duration(this.timeoutMs)}; raise the limit with --timeout`);
    if (r.exitCode !== 0) throw new BuildError(String(r.stderr).replace(/^E\d+ [^\]]*\] /gm, "").trim().split("\n").slice(-3).join(" "));
    return String(r.stdout);
  }

  /** The built objects, each with the resource file that declares it. */
  private objects(p: Prepared, docs: unknown[]): Built[] {
    const index = originIndex(this.declared, p.realRoot, p.inputs.resourceFiles);
    const out: Built[] = [];
    for (const doc of docs) {
      const obj = doc as K8sObject | null;
      if (!obj || typeof obj !== "object") continue;
      const candidates = index.get(`${obj.kind}/${obj.metadata?.name}`) ?? [];
      const ns = obj.metadata?.namespace;
      const origin = candidates.find((c) => c.namespace === ns) ?? candidates.find((c) => !c.namespace) ?? candidates[0];
      out.push({ obj, file: origin?.file ?? p.req.path });
    }
    return out;
  }
}

/**
 * Freeze a value and everything in it. Built objects are shared: the clusters of one environment
 * build the same paths, and a run asks each build once. Copying each for every caller cost a
 * fifth of a cached validate; frozen, a caller that changes one must copy what it changes
 * (substitution does), and one that forgets fails loudly instead of changing another's objects.
 */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Run `fn` over `items` with at most `limit` at once, keeping order. */
export async function pool<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
