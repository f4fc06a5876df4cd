/**
 * The tenants of a repo, as their bases declare them. A tenant is a directory of tenants/base
 * holding a kustomization (fleet's layout, Flux's multi-tenancy example) or a single manifest
 * file there (`tenants/base/team1.yaml`). Each is read for what Flux will apply: the namespace
 * its objects land in (a `namespace:` in its kustomization wins over the objects'), its sync
 * objects and the API versions they are written at, so an edit patches them at those versions.
 */
import * as path from "node:path";
import { isMap, isScalar, type Document } from "yaml";
import type { ChangeSet } from "../changeset/changeset.js";
import { fluxGroup, type FluxKind } from "../flux/index.js";
import { REF_KINDS, type GitRef } from "../flux/git-ref.js";
import { readFast } from "../core/manifests.js";
import { parseAllYaml } from "../core/yaml-edit.js";
import { isYamlFile, KUSTOMIZATION_FILES, kustomizationIn, type RepoReader } from "./kustomize.js";

export const TENANTS_BASE = "tenants/base";

/** A tenant's sync objects as its base has them (an adopted repo may not name them after it). */
export interface TenantSync {
  namespace: string;
  /** Name of the tenant's Flux Kustomization and its spec.path. */
  kustomization: string;
  path: string;
  /** Name of the tenant's GitRepository (empty when its source is another kind). */
  gitRepository: string;
  /** Its spec.ref as written (empty without one: source-controller then checks out master). */
  ref: GitRef;
  url: string;
  /** Its spec.secretRef.name; empty for a repository read without credentials. */
  secretRef: string;
}

/** What fleet names a tenant's sync objects after it: all that is known of a tenant with no base left. */
export const defaultSync = (name: string): TenantSync => ({ namespace: name, kustomization: name, path: "./", gitRepository: "", ref: {}, url: "", secretRef: "" });

/** One object a tenant's base declares, where Flux would apply it. */
export interface Declared {
  kind: string;
  name: string;
  /** Empty for cluster-scoped kinds and objects the base leaves unset. */
  namespace: string;
  apiVersion: string;
}

export interface Tenant {
  name: string;
  /** tenants/base/<name> (a directory) or tenants/base/<name>.yaml (one file). */
  base: string;
  single: boolean;
  /** Repo-relative files of its base. */
  files: string[];
  namespace: string;
  sync: TenantSync;
  objects: Declared[];
  /** The apiVersion its base's Flux objects use, by kind: a patch must match it to apply. */
  apiVersions: Partial<Record<FluxKind, string>>;
}

/** A document's scalars as the file spells them (never retyped: `tag: 1.10` stays "1.10"); undefined for none, a null or a collection. */
type Fields = (keys: string[]) => string | undefined;

function text(doc: Document, keys: string[]): string | undefined {
  const node = doc.getIn(keys, true);
  if (!isScalar(node) || node.value === null) return undefined;
  return typeof node.source === "string" ? node.source : String(node.value);
}

/** What plain data holds at `keys`: a string is spelled as read; anything but a string, a null or a collection is not (`1.10` read as 1.1). */
function plainAt(data: unknown, keys: string[]): { value: string | undefined } | undefined {
  let at = data;
  for (const k of keys) at = at !== null && typeof at === "object" && !Array.isArray(at) ? (at as Record<string, unknown>)[k] : undefined;
  if (typeof at === "string") return { value: at };
  return at === undefined || at === null || typeof at === "object" ? { value: undefined } : undefined;
}

/**
 * A file's documents that are maps, as their fields; one that does not parse holds none here
 * (kustomize reports it when it is built). Read as plain data (a thousand bases a run) unless a
 * field is asked for that plain data does not spell as the file does: then the whole file is
 * read again with the Document API, which keeps every scalar's source.
 */
function docs(cs: RepoReader, file: string): Fields[] {
  const body = cs.read(file);
  if (body === undefined) return [];
  const full = (): Fields[] => {
    try {
      return parseAllYaml(file, body)
        .filter((d) => isMap(d.contents))
        .map((d) => (keys: string[]) => text(d, keys));
    } catch {
      return [];
    }
  };
  const fast = readFast(body)?.filter((d) => d !== null && typeof d === "object" && !Array.isArray(d));
  if (!fast) return full();
  let documents: Fields[] | undefined;
  return fast.map((d, i) => (keys: string[]) => {
    if (documents) return documents[i]?.(keys);
    const plain = plainAt(d, keys);
    if (plain) return plain.value;
    documents = full();
    return documents[i]?.(keys);
  });
}

/** The entries of a kustomization's resources, each scalar as `yaml` gives its value (String of it). */
function listedResources(cs: RepoReader, kfile: string): string[] {
  const body = cs.read(kfile) ?? "";
  const fast = readFast(body);
  if (fast) {
    const k = fast.find((d) => d !== null && typeof d === "object" && !Array.isArray(d)) as { resources?: unknown } | undefined;
    const seq = Array.isArray(k?.resources) ? k.resources : [];
    // A scalar item as String(value); a collection item is no entry.
    return seq.filter((i) => i === null || typeof i !== "object").map((i) => String(i)).filter((e) => e !== "" && e !== "null");
  }
  let k: Document | undefined;
  try {
    k = parseAllYaml(kfile, body).filter((d) => isMap(d.contents))[0];
  } catch {
    return [];
  }
  const listed = k?.get("resources");
  const seq = (listed as { items?: unknown[] } | undefined)?.items ?? [];
  return seq.flatMap((item) => {
    const entry = isScalar(item) ? String(item.value) : undefined;
    return entry ? [entry] : [];
  });
}

/** The manifest files a tenant's base directory applies: what its kustomization lists there. */
function baseFiles(cs: RepoReader, dir: string): string[] {
  const kfile = kustomizationIn(cs, dir);
  if (!kfile) return [];
  const out: string[] = [kfile];
  for (const entry of listedResources(cs, kfile)) {
    const file = path.posix.normalize(path.posix.join(dir, entry));
    if (isYamlFile(file) && cs.read(file) !== undefined) out.push(file);
  }
  // Files the kustomization does not list are not applied, but a second tenant written there
  // by hand still is one: read what is there too, listed first.
  for (const f of cs.list(dir).files) {
    const file = `${dir}/${f}`;
    if (isYamlFile(f) && !out.includes(file)) out.push(file);
  }
  return out;
}

/**
 * A tenant whose files are read when first asked about: most commands need the names and bases
 * of a thousand tenants and the details of one.
 */
function lazyTenant(cs: ChangeSet, name: string, base: string, single: boolean, before: boolean): Tenant {
  let read: Tenant | undefined;
  // Read as the repo was before the run, however late: its files as first read, and its
  // listing as it was (remove-tenant's next steps ask for the namespace once the files are gone).
  const reader: RepoReader = before ? { read: (p) => cs.readOriginal(p), list: (d) => (d === base && !single ? cs.listOriginal(d) : cs.list(d)) } : cs;
  const details = () => (read ??= readTenant(reader, name, base, single));
  return {
    name,
    base,
    single,
    get files() {
      return details().files;
    },
    get namespace() {
      return details().namespace;
    },
    get sync() {
      return details().sync;
    },
    get objects() {
      return details().objects;
    },
    get apiVersions() {
      return details().apiVersions;
    },
  };
}

function readTenant(cs: RepoReader, name: string, base: string, single: boolean): Tenant {
  const files = single ? [base] : baseFiles(cs, base);
  const kfile = single ? undefined : kustomizationIn(cs, base);
  const forced = kfile ? docs(cs, kfile)[0]?.(["namespace"]) : undefined;
  const sync: TenantSync = { ...defaultSync(name), namespace: forced ?? name };
  const objects: Declared[] = [];
  const apiVersions: Partial<Record<FluxKind, string>> = {};
  let namespaceFromObjects: string | undefined;
  for (const file of files) {
    if (file === kfile) continue;
    for (const d of docs(cs, file)) {
      const kind = d(["kind"]) ?? "";
      const apiVersion = d(["apiVersion"]) ?? "";
      const objName = d(["metadata", "name"]) ?? "";
      if (!kind || !objName) continue;
      const ns = kind === "Namespace" ? "" : (forced ?? d(["metadata", "namespace"]) ?? "");
      objects.push({ kind, name: objName, namespace: ns, apiVersion });
      const group = apiVersion.split("/")[0];
      const isFlux = fluxGroup(kind) === group;
      if (isFlux) apiVersions[kind as FluxKind] ??= apiVersion;
      if (kind === "Namespace") namespaceFromObjects ??= objName;
      if (kind === "Kustomization" && isFlux) {
        sync.kustomization = objName;
        if (!forced && ns) sync.namespace = ns;
        sync.path = d(["spec", "path"]) ?? sync.path;
      }
      if (kind === "GitRepository" && isFlux) {
        sync.gitRepository = objName;
        sync.ref = Object.fromEntries(REF_KINDS.flatMap((k) => {
          const value = d(["spec", "ref", k]);
          return value === undefined ? [] : [[k, value]];
        }));
        sync.url = d(["spec", "url"]) ?? sync.url;
        sync.secretRef = d(["spec", "secretRef", "name"]) ?? "";
      }
    }
  }
  // Without a sync object to say it, the namespace the base creates is the tenant's.
  if (!forced && !objects.some((o) => o.kind === "Kustomization" && fluxGroup("Kustomization") === o.apiVersion.split("/")[0]) && namespaceFromObjects)
    sync.namespace = namespaceFromObjects;
  return { name, base, single, files, namespace: sync.namespace, sync, objects, apiVersions };
}

const TENANT_FILE = /^kind:\s*["']?(Namespace|Kustomization|GitRepository|OCIRepository)["']?\s*$/m;

/**
 * Every tenant of tenants/base: its directories holding a kustomization and its manifest files
 * other than the base's own kustomization (which lists tenants, and is none).
 */
export function readTenants(cs: ChangeSet, opts: { before?: boolean } = {}): Tenant[] {
  const before = opts.before === true;
  const { files, dirs } = cs.list(TENANTS_BASE);
  const out: Tenant[] = [];
  for (const d of dirs) if (kustomizationIn(cs, `${TENANTS_BASE}/${d}`)) out.push(lazyTenant(cs, d, `${TENANTS_BASE}/${d}`, false, before));
  for (const f of files) {
    if (!isYamlFile(f) || KUSTOMIZATION_FILES.includes(f)) continue;
    const name = f.replace(/\.ya?ml$/, "");
    if (out.some((t) => t.name === name)) continue;
    // A file beside the tenants that declares no namespace and no sync (a shared rbac.yaml the
    // base's kustomization lists for all) is no tenant.
    if (!TENANT_FILE.test((before ? cs.readOriginal(`${TENANTS_BASE}/${f}`) : cs.read(`${TENANTS_BASE}/${f}`)) ?? "")) continue;
    out.push(lazyTenant(cs, name, `${TENANTS_BASE}/${f}`, true, before));
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function listTenants(cs: ChangeSet): string[] {
  return readTenants(cs).map((t) => t.name);
}

/** One tenant's sync settings, or fleet's defaults for a name with no base. */
export function readTenantSync(cs: ChangeSet, name: string): TenantSync {
  return readTenants(cs).find((t) => t.name === name)?.sync ?? defaultSync(name);
}
