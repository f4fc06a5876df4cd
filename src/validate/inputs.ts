/**
 * What a kustomize build reads, found and checked before kubectl runs.
 *
 * Flux's kustomize-controller builds with LoadRestrictionsNone (a patch at ../../base/p.yaml
 * builds), confined by a file system rooted at the source artifact: nothing outside the source
 * can be read (fluxcd/pkg kustomize SecureBuild, filesys.MakeFsOnDiskSecure). fleet builds the
 * same way, so that what Flux builds builds, and confines reads here instead: every path a
 * kustomization can load (resources, components, patches, generators' files and envs,
 * replacements, crds, openapi, configurations, and the builtin plugin configs of generators,
 * transformers and validators) must resolve, symlinks followed, to a regular file or a directory
 * inside the repository. Remote bases and files are returned for the caller to report: they
 * never reach kubectl. A shape this module does not know is refused, never built.
 *
 * kustomize parses kustomizations with Go's encoding/json, which matches field names without
 * regard to case, and with go-yaml, which honours merge keys and tags such as !!binary. So field
 * names are compared folded, and merge keys and explicit tags are refused: what this module reads
 * must be what kustomize reads.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { isScalar, parseAllDocuments, visit } from "yaml";
import { realpathOr, within } from "../core/inside-repo.js";
import { KUSTOMIZATION_FILES } from "../model/kustomize.js";
import { parseSimple } from "../core/manifests.js";

/** A directory's kustomization on disk, by the names kustomize recognises. */
export const kustomizationFileOf = (dir: string): string | undefined => KUSTOMIZATION_FILES.find((f) => lexists(path.join(dir, f)));

/** A base or file kustomize would fetch: `file` is the kustomization naming it, repo-relative. */
export interface Remote {
  file: string;
  ref: string;
}

export interface Inputs {
  /** Where each target resolved to: real absolute paths inside the repository. */
  targets: string[];
  /** Where each component resolved to (real absolute directories inside the repository). */
  components: string[];
  /** Every resource file the build reads (real absolute paths), for finding where objects came from. */
  resourceFiles: string[];
  /** Every other file the build loads (kustomizations, patches, generator and plugin files): real absolute paths. */
  loaded: string[];
  remotes: Remote[];
  /** Why the build must not run, each naming the kustomization file and the entry. */
  problems: string[];
}

/** Parsed kustomizations and plugin configs by real path, kept by the caller for one run. */
export type ParseCache = Map<string, unknown[] | Error>;

/**
 * Whether kustomize would fetch `ref`. A path it loads as a file is fetched when it is an HTTP
 * URL; a base (resources, components) also when it is a git URL, scheme-less forms included
 * (github.com/org/repo//dir, git@host:org/repo). Any other `scheme://` is treated as remote too:
 * it is never a path in the repository.
 */
export function remoteRef(ref: string, as: "base" | "file"): "http" | "git" | undefined {
  if (/^https?:/i.test(ref)) return "http";
  if (as === "base" && [/^git::/i, /^[a-z][a-z0-9+.-]*:\/\//i, /^[a-z][a-z0-9-]*@/i, /^github\.com[/:]/i].some((r) => r.test(ref))) return "git";
  return undefined;
}

/**
 * The paths a build's preparation looks at, while one is recorded (recordPaths): with their
 * directories, everything its inputs were found from. `linked` when one resolved through a
 * symlink, whose target is not among them.
 */
let recording: { paths: Set<string>; linked: boolean } | undefined;

/**
 * Run `fn` (synchronous: nothing else runs meanwhile) and return every absolute path it resolved
 * or looked for, so that a later run can tell from their stat that its result still holds; no
 * paths when that cannot be told: a symlink was followed, or names are not what lstat finds.
 */
export function recordPaths<T>(fn: () => T): { result: T; paths?: string[] } {
  const outer = recording;
  const rec = (recording = { paths: new Set<string>(), linked: false });
  try {
    const result = fn();
    return rec.linked || !BY_NAME ? { result } : { result, paths: [...rec.paths] };
  } finally {
    recording = outer;
  }
}

/** A path looked at outside this module's walk (a directory listed, a path asked to exist), for recordPaths. */
export function noteRead(p: string): void {
  recording?.paths.add(p);
}

function lexists(p: string): boolean {
  recording?.paths.add(p);
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * A repo-relative path resolved inside `root`, symlinks followed: its real path and whether it is
 * a directory, or why it may not be read. Nothing outside the root is opened.
 */
export function resolveInside(root: string, rel: string, run?: ParseCache): { abs: string; dir: boolean } | { problem: string } {
  const realRoot = realRootOf(root, run);
  return realRoot ? resolveFrom(realRoot, realRoot, rel, run) : { problem: `is in ${root}, which does not exist` };
}

/** Real paths of the roots built in one run (see resolvedIn): asked once for each of its builds. */
const rootsIn = new WeakMap<ParseCache, Map<string, string | undefined>>();

/** The real path of a repository root (undefined when it does not exist), once a run when `run` is given. */
export function realRootOf(root: string, run?: ParseCache): string | undefined {
  if (!run) return realpathOr(root);
  let memo = rootsIn.get(run);
  if (!memo) rootsIn.set(run, (memo = new Map()));
  if (!memo.has(root)) memo.set(root, realpathOr(root));
  return memo.get(root);
}

type Resolved = { abs: string; dir: boolean } | { problem: string };

/**
 * Paths resolved in one run, kept with its parse cache: every environment's unit of a tenant
 * reads the same base, so a thousand tenants' bases would be resolved once per environment.
 */
const resolvedIn = new WeakMap<ParseCache, Map<string, Resolved>>();

function resolveFrom(realRoot: string, base: string, entry: string, run?: ParseCache): Resolved {
  if (path.isAbsolute(entry)) return { problem: "is an absolute path; Flux builds a copy of the repository in a temporary directory, where it cannot point" };
  const lexical = path.resolve(base, entry);
  if (!within(realRoot, lexical)) return { problem: "leaves the repository" };
  const r = run ? resolveMemo(realRoot, lexical, resolvedOf(run)) : resolveLexical(realRoot, lexical);
  if (recording) {
    recording.paths.add(lexical);
    if ("abs" in r && r.abs !== lexical) recording.linked = true;
  }
  return r;
}

function resolvedOf(run: ParseCache): Map<string, Resolved> {
  let memo = resolvedIn.get(run);
  if (!memo) resolvedIn.set(run, (memo = new Map()));
  return memo;
}

function resolveMemo(realRoot: string, lexical: string, memo: Map<string, Resolved>): Resolved {
  const key = `${realRoot}\0${lexical}`;
  let r = memo.get(key);
  if (!r) memo.set(key, (r = resolveLexical(realRoot, lexical, memo)));
  return r;
}

/**
 * Where a name in a directory already resolved leads, by one lstat: itself, when it is no link.
 * Only where names are compared as spelled (Linux): elsewhere realpath may respell them.
 */
function underResolved(realRoot: string, lexical: string, memo: Map<string, Resolved>): Resolved | undefined {
  if (!BY_NAME || lexical === realRoot) return undefined;
  const parent = path.dirname(lexical);
  if (!within(realRoot, parent)) return undefined;
  const up = resolveMemo(realRoot, parent, memo);
  if (!("abs" in up) || !up.dir) return undefined;
  const type = entriesOf(memo, up.abs)?.get(path.basename(lexical));
  if (type === undefined) return { problem: "does not exist" };
  if (type === "link") return undefined;
  if (type === "other") return { problem: "is neither a regular file nor a directory" };
  return { abs: path.join(up.abs, path.basename(lexical)), dir: type === "dir" };
}

/** Whether names in a directory listing are the names lstat finds (Linux), so that a listing can answer for lstat. */
export const BY_NAME = process.platform === "linux";
type EntryType = "file" | "dir" | "link" | "other";
/** Directory listings, once a run: one readdir answers for every name in it (a thousand tenants' paths are most of a run). */
const listingsIn = new WeakMap<object, Map<string, Map<string, EntryType> | undefined>>();
function entriesOf(run: object, dir: string): Map<string, EntryType> | undefined {
  let memo = listingsIn.get(run);
  if (!memo) listingsIn.set(run, (memo = new Map()));
  if (memo.has(dir)) return memo.get(dir);
  let entries: Map<string, EntryType> | undefined;
  try {
    // Node lstats an entry whose type the file system does not give, so each type is lstat's.
    entries = new Map(
      fs.readdirSync(dir, { withFileTypes: true }).map((e) => [e.name, e.isSymbolicLink() ? "link" : e.isFile() ? "file" : e.isDirectory() ? "dir" : "other"] as const),
    );
  } catch {
    entries = undefined;
  }
  memo.set(dir, entries);
  return entries;
}

function resolveLexical(realRoot: string, lexical: string, memo?: Map<string, Resolved>): Resolved {
  const known = memo && underResolved(realRoot, lexical, memo);
  if (known) return known;
  let abs: string;
  try {
    // One realpath(3) call: the JavaScript realpathSync lstats every component of every path.
    abs = fs.realpathSync.native(lexical);
  } catch {
    return { problem: "does not exist" };
  }
  if (!within(realRoot, abs)) return { problem: "resolves through a symlink to a path outside the repository" };
  const st = fs.statSync(abs);
  if (!st.isFile() && !st.isDirectory()) return { problem: "is neither a regular file nor a directory" };
  return { abs, dir: st.isDirectory() };
}

/** The text of a regular file inside the repository, or undefined (missing, outside it, not a file). */
export function readInside(root: string, rel: string): string | undefined {
  const r = resolveInside(root, rel);
  if ("problem" in r || r.dir) return undefined;
  try {
    return fs.readFileSync(r.abs, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * Check what building these repo-relative targets (kustomization directories or resource files)
 * and components (a Flux Kustomization's spec.components, repo-relative) reads, following every
 * kustomization they reach.
 */
export function inspectBuild(root: string, targets: string[], cache: ParseCache = new Map(), components: string[] = []): Inputs {
  const realRoot = realRootOf(root, cache);
  if (!realRoot) return { targets: [], components: [], resourceFiles: [], loaded: [], remotes: [], problems: [`${root} does not exist`] };
  const w: Walk = { root: realRoot, cache, done: new Set(), out: { targets: [], components: [], resourceFiles: [], loaded: [], remotes: [], problems: [] } };
  for (const c of components) {
    const r = resolveFrom(realRoot, realRoot, c, cache);
    if ("problem" in r) w.out.problems.push(`spec.components: ${c} ${r.problem}`);
    else if (!r.dir) w.out.problems.push(`spec.components: ${c} is a file; a component is a directory`);
    else {
      w.out.components.push(r.abs);
      kustomizationDir(w, r.abs, { file: "spec.components", field: "" }, c);
    }
  }
  for (const t of targets) {
    const r = resolveFrom(realRoot, realRoot, t, cache);
    if ("problem" in r) {
      w.out.problems.push(`${t} ${r.problem}`);
      continue;
    }
    w.out.targets.push(r.abs);
    if (r.dir) kustomizationDir(w, r.abs, { file: "", field: "" }, t);
    else w.out.resourceFiles.push(r.abs);
  }
  return w.out;
}

interface Walk {
  root: string;
  cache: ParseCache;
  /** Kustomization directories already followed in this build. */
  done: Set<string>;
  out: Inputs;
}

/** Where a value was found: the file holding it and the field it is in. */
interface At {
  file: string;
  field: string;
  /** The directory relative paths resolve from (the kustomization's, real). */
  dir?: string;
}

type Field = (w: Walk, value: unknown, at: At) => void;

const rel = (w: Walk, abs: string) => path.relative(w.root, abs).split(path.sep).join("/") || ".";
const problem = (w: Walk, at: At, entry: string, why: string) =>
  w.out.problems.push(at.field ? `${at.file}: ${at.field} '${entry}' ${why}` : `${entry} ${why}`);
const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
/** Field names as Go's encoding/json matches them: case-insensitively, with ſ as s and the Kelvin sign as k. */
const fold = (s: string) => s.replace(/\u017f/g, "s").replace(/\u212a/g, "k").toLowerCase();

/** The kustomization files a directory holds, looked for once a run (see resolvedIn). */
const namesIn = new WeakMap<ParseCache, Map<string, string[]>>();
function kustomizationNames(run: ParseCache, dir: string): string[] {
  let memo = namesIn.get(run);
  if (!memo) namesIn.set(run, (memo = new Map()));
  let names = memo.get(dir);
  recording?.paths.add(dir);
  if (!names) {
    const entries = BY_NAME ? entriesOf(resolvedOf(run), dir) : undefined;
    names = KUSTOMIZATION_FILES.filter((f) => (entries ? entries.has(f) : lexists(path.join(dir, f))));
    memo.set(dir, names);
  }
  return names;
}

function kustomizationDir(w: Walk, dir: string, at: At, entry: string): void {
  if (w.done.has(dir)) return;
  w.done.add(dir);
  const names = kustomizationNames(w.cache, dir);
  if (names.length !== 1)
    return void problem(w, at, entry, names.length ? `holds more than one kustomization file (${names.join(", ")})` : "is a directory without a kustomization.yaml");
  const file = resolveFrom(w.root, dir, names[0]!, w.cache);
  const where: At = { file: `${rel(w, dir)}/${names[0]}`, field: "", dir };
  if ("problem" in file || file.dir) return void w.out.problems.push(`${where.file} ${"problem" in file ? file.problem : "is a directory"}`);
  w.out.loaded.push(file.abs);
  const docs = load(w, file.abs, where)?.filter((d) => d !== null && d !== undefined);
  if (!docs) return;
  if (docs.length > 1) return void w.out.problems.push(`${where.file}: holds more than one YAML document; kustomize reads only the first`);
  KUSTOMIZATION(w, docs[0] ?? {}, where);
}

/** A file's YAML documents, parsed strictly; undefined (and a problem) when kustomize could read it differently. */
function load(w: Walk, abs: string, at: At): unknown[] | undefined {
  let got = w.cache.get(abs);
  if (!got) {
    try {
      got = parseStrict(new TextDecoder("utf-8", { fatal: true }).decode(fs.readFileSync(abs)));
    } catch (e) {
      got = e instanceof Error ? e : new Error(String(e));
    }
    w.cache.set(abs, got);
  }
  if (got instanceof Error) {
    w.out.problems.push(`${at.file}: ${got.message}`);
    return undefined;
  }
  return got;
}

/**
 * Block YAML of plain keys and plain values only (lines of `key: value`, `- value`, `- key: value`,
 * comments and document markers; no quotes, flow collections, tags, anchors, aliases, merge keys,
 * tabs or text that spans lines): what kustomization files almost always are. In it there is
 * nothing the checks below refuse, and js-yaml reads it as `yaml` does (manifests.ts), ten times
 * as fast, which tells with a thousand tenants' kustomizations. Anything else is read by `yaml`.
 */
const PLAIN = "[A-Za-z0-9_./-]+";
const SIMPLE_LINE = new RegExp(`^(?:---| *(?:#.*)?| *(?:- )?(?:${PLAIN}:(?: +${PLAIN})?|- +${PLAIN})(?: +#.*)?)$`);
const isSimple = (text: string) => text.split("\n").every((line) => SIMPLE_LINE.test(line));

function parseStrict(text: string): unknown[] {
  if (text.includes("\u0000")) throw new Error("holds a NUL character; it is not a text file");
  if (isSimple(text)) {
    const docs = parseSimple(text);
    // An empty document is one js-yaml and `yaml` count differently: `yaml` reads those.
    if (docs && !docs.includes(null)) return docs;
  }
  const docs = parseAllDocuments(text, { merge: false, uniqueKeys: true });
  return docs.map((doc) => {
    if (doc.errors.length) throw new Error(`does not parse as YAML: ${doc.errors[0]!.message.split("\n")[0]}`);
    visit(doc, {
      Node(_key, node) {
        if (node.tag) throw new Error(`uses the YAML tag ${node.tag}, which kustomize and fleet could read differently; remove it`);
      },
      Pair(_key, pair) {
        if (!isScalar(pair.key)) throw new Error("has a mapping key that is not a plain string");
        if (typeof pair.key.value === "symbol" || pair.key.source === "<<")
          throw new Error("uses a YAML merge key (<<), which kustomize and fleet could read differently; write the fields out");
      },
    });
    return doc.toJS({ maxAliasCount: 100 }) as unknown;
  });
}

/** Text kustomize may take as inline YAML rather than as a path. */
const looksInline = (s: string) => /[\n{}[\]]|:(\s|$)|^\s*[?-](\s|$)/.test(s);

/**
 * Whether kustomize could read `v` as a path: anything that does not look like inline YAML, and
 * inline-looking text that names an existing path, an absolute one or one out of the repository
 * (refused then, though kustomize might have taken it as inline).
 */
function mayBePath(w: Walk, v: string, dir: string): boolean {
  if (!looksInline(v) || path.isAbsolute(v)) return true;
  const lexical = path.resolve(dir, v);
  return !within(w.root, lexical) || lexists(lexical);
}

// ---- what each field loads ----

const data: Field = () => {};
const refuse =
  (why: string): Field =>
  (w, _v, at) =>
    w.out.problems.push(`${at.file}: ${at.field} ${why}`);

function str(w: Walk, v: unknown, at: At): v is string {
  if (typeof v === "string") return true;
  problem(w, at, JSON.stringify(v) ?? String(v), "is not a string");
  return false;
}

const each =
  (f: Field): Field =>
  (w, v, at) => {
    if (v === null || v === undefined) return;
    if (!Array.isArray(v)) return void w.out.problems.push(`${at.file}: ${at.field} is not a list`);
    for (const x of v) f(w, x, at);
  };

/** A mapping whose fields (matched as kustomize matches them) load what `table` says; other fields are data. */
const fields =
  (table: Record<string, Field>, other: Field = data): Field =>
  (w, v, at) => {
    if (v === null || v === undefined) return;
    if (!isMapping(v)) return void w.out.problems.push(`${at.file}: ${at.field || "the document"} is not a mapping`);
    for (const [k, x] of Object.entries(v)) (table[fold(k)] ?? other)(w, x, { ...at, field: at.field ? `${at.field}.${k}` : k });
  };

/** A file kustomize loads (ldr.Load): local and regular, or fetched when it is an HTTP URL. */
const file: Field = (w, v, at) => {
  if (!str(w, v, at)) return;
  if (remoteRef(v, "file")) return void w.out.remotes.push({ file: at.file, ref: v });
  const r = resolveFrom(w.root, at.dir!, v, w.cache);
  if ("problem" in r) problem(w, at, v, r.problem);
  else if (r.dir) problem(w, at, v, "is a directory, not a file");
  else w.out.loaded.push(r.abs);
};

/** A generator's `files` entry: `path` or `key=path`. */
const fileSource: Field = (w, v, at) => {
  if (!str(w, v, at)) return;
  const parts = v.split("=");
  if (parts.length > 2 || (parts.length === 2 && (!parts[0] || !parts[1]))) return void problem(w, at, v, "is neither path nor key=path");
  file(w, parts[parts.length - 1], at);
};

/** A base: a kustomization directory, or for resources a file of objects too. */
const base =
  (files: boolean): Field =>
  (w, v, at) => {
    if (!str(w, v, at)) return;
    if (remoteRef(v, "base")) return void w.out.remotes.push({ file: at.file, ref: v });
    const r = resolveFrom(w.root, at.dir!, v, w.cache);
    if ("problem" in r) problem(w, at, v, r.problem);
    else if (r.dir) kustomizationDir(w, r.abs, at, v);
    else if (files) w.out.resourceFiles.push(r.abs);
    else problem(w, at, v, "is a file; a component is a directory");
  };

/** An inline patch, or the path of one: whichever kustomize takes it for, it must be safe. */
const patchOrPath: Field = (w, v, at) => {
  if (!str(w, v, at)) return;
  if (remoteRef(v, "file") || mayBePath(w, v, at.dir!)) file(w, v, at);
};

/** A generator, transformer or validator: inline configs, or a file of them. */
const plugin: Field = (w, v, at) => {
  if (!str(w, v, at)) return;
  if (remoteRef(v, "base")) return void w.out.remotes.push({ file: at.file, ref: v });
  const inline = looksInline(v);
  if (inline) {
    try {
      for (const doc of parseStrict(v)) config(w, doc, at);
    } catch (e) {
      problem(w, at, v, `is inline YAML that ${(e as Error).message}`);
    }
  }
  if (!mayBePath(w, v, at.dir!)) return;
  const r = resolveFrom(w.root, at.dir!, v, w.cache);
  if ("problem" in r) return void problem(w, at, v, r.problem);
  if (r.dir) return void problem(w, at, v, "is a directory: fleet cannot check the plugin configs it would build before building them; list the config files instead");
  const where: At = { file: rel(w, r.abs), field: "", dir: path.dirname(r.abs) };
  w.out.loaded.push(r.abs);
  for (const doc of load(w, r.abs, where) ?? []) config(w, doc, { ...where, dir: at.dir });
};

const generatorArgs = fields({ files: each(fileSource), envs: each(file), env: file });
const replacement = fields({ path: file });
const noHelm = refuse("is a Helm chart: Flux's kustomize-controller builds without Helm, so it does not build there (use a HelmRelease)");

/** kustomize's builtin plugins (the only ones Flux and kubectl run) and what their configs load. */
const PLUGINS: Record<string, Field> = {
  configmapgenerator: generatorArgs,
  secretgenerator: generatorArgs,
  patchtransformer: fields({ path: file }),
  patchjson6902transformer: fields({ path: file }),
  patchstrategicmergetransformer: fields({ paths: each(patchOrPath) }),
  replacementtransformer: fields({ replacements: each(replacement) }),
  helmchartinflationgenerator: noHelm,
  ...Object.fromEntries(
    [
      "annotationstransformer",
      "hashtransformer",
      "iampolicygenerator",
      "imagetagtransformer",
      "labeltransformer",
      "legacyordertransformer",
      "namespacetransformer",
      "prefixsuffixtransformer",
      "prefixtransformer",
      "suffixtransformer",
      "replicacounttransformer",
      "sortordertransformer",
      "valueaddtransformer",
    ].map((k) => [k, data]),
  ),
};

/** One plugin config; kustomize expands `kind: SomethingList` into its items first. */
function config(w: Walk, doc: unknown, at: At): void {
  if (doc === null || doc === undefined) return;
  const where = at.field ? `${at.file}: ${at.field}` : at.file;
  if (!isMapping(doc)) return void w.out.problems.push(`${where} holds a plugin config that is not a mapping`);
  const kind = typeof doc.kind === "string" ? doc.kind : "";
  if (fold(kind).endsWith("list")) {
    for (const [k, items] of Object.entries(doc)) if (fold(k) === "items") each((w2, x, a) => config(w2, x, a))(w, items, at);
    return;
  }
  const run = PLUGINS[fold(kind)];
  if (!run) return void w.out.problems.push(`${where} holds a config of kind '${kind}': only kustomize's builtin generators and transformers build (Flux runs no plugins)`);
  run(w, doc, { ...at, field: at.field ? `${at.field}[${kind}]` : kind });
}

/** Every field of a Kustomization or Component (kustomize's types.Kustomization) and what it loads. */
const KUSTOMIZATION = fields(
  {
    apiversion: data,
    kind: data,
    metadata: data,
    openapi: fields({ path: file }),
    nameprefix: data,
    namesuffix: data,
    namespace: data,
    commonlabels: data,
    labels: data,
    commonannotations: data,
    patchesstrategicmerge: each(patchOrPath),
    patchesjson6902: each(fields({ path: file })),
    patches: each(fields({ path: file })),
    images: data,
    imagetags: data,
    replacements: each(replacement),
    replicas: data,
    vars: data,
    sortoptions: data,
    resources: each(base(true)),
    bases: each(base(true)),
    components: each(base(false)),
    crds: each(file),
    configmapgenerator: each(generatorArgs),
    secretgenerator: each(generatorArgs),
    helmglobals: noHelm,
    helmcharts: noHelm,
    helmchartinflationgenerator: noHelm,
    generatoroptions: data,
    configurations: each(file),
    generators: each(plugin),
    transformers: each(plugin),
    validators: each(plugin),
    inventory: data,
    buildmetadata: data,
  },
  (w, _v, at) => w.out.problems.push(`${at.file}: unknown field '${at.field}'`),
);
