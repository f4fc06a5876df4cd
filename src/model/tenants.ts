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

/** A scalar as the file spells it (never retyped: `tag: 1.10` stays "1.10"). */
function text(doc: Document, keys: string[]): string | undefined {
  const node = doc.getIn(keys, true);
  if (!isScalar(node) || node.value === null) return undefined;
  return typeof node.source === "string" ? node.source : String(node.value);
}

/** A file's documents; one that does not parse holds none here (kustomize reports it when it is built). */
function docs(cs: RepoReader, file: string): Document[] {
  const body = cs.read(file);
  if (body === undefined) return [];
  try {
    return parseAllYaml(file, body).filter((d) => isMap(d.contents));
  } catch {
    return [];
  }
}

/** The manifest files a tenant's base directory applies: what its kustomization lists there. */
function baseFiles(cs: RepoReader, dir: string): string[] {
  const kfile = kustomizationIn(cs, dir);
  if (!kfile) return [];
  const [k] = docs(cs, kfile);
  const listed = k?.get("resources");
  const out: string[] = [kfile];
  const seq = (listed as { items?: unknown[] } | undefined)?.items ?? [];
  for (const item of seq) {
    const entry = isScalar(item) ? String(item.value) : undefined;
    if (!entry) continue;
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
  const forced = kfile ? text(docs(cs, kfile)[0] ?? ({} as Document), ["namespace"]) : undefined;
  const sync: TenantSync = { ...defaultSync(name), namespace: forced ?? name };
  const objects: Declared[] = [];
  const apiVersions: Partial<Record<FluxKind, string>> = {};
  let namespaceFromObjects: string | undefined;
  for (const file of files) {
    if (file === kfile) continue;
    for (const d of docs(cs, file)) {
      const kind = text(d, ["kind"]) ?? "";
      const apiVersion = text(d, ["apiVersion"]) ?? "";
      const objName = text(d, ["metadata", "name"]) ?? "";
      if (!kind || !objName) continue;
      const ns = kind === "Namespace" ? "" : (forced ?? text(d, ["metadata", "namespace"]) ?? "");
      objects.push({ kind, name: objName, namespace: ns, apiVersion });
      const group = apiVersion.split("/")[0];
      const isFlux = fluxGroup(kind) === group;
      if (isFlux) apiVersions[kind as FluxKind] ??= apiVersion;
      if (kind === "Namespace") namespaceFromObjects ??= objName;
      if (kind === "Kustomization" && isFlux) {
        sync.kustomization = objName;
        if (!forced && ns) sync.namespace = ns;
        sync.path = text(d, ["spec", "path"]) ?? sync.path;
      }
      if (kind === "GitRepository" && isFlux) {
        sync.gitRepository = objName;
        sync.ref = Object.fromEntries(REF_KINDS.flatMap((k) => {
          const value = text(d, ["spec", "ref", k]);
          return value === undefined ? [] : [[k, value]];
        }));
        sync.url = text(d, ["spec", "url"]) ?? sync.url;
        sync.secretRef = text(d, ["spec", "secretRef", "name"]) ?? "";
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
