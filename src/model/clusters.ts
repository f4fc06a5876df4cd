/**
 * The clusters of a repo, read as Flux reads them: a cluster is the path its own sync object
 * points at (the Flux Kustomization of a `flux-system/gotk-sync.yaml`, or a FluxInstance's
 * `spec.sync.path`), wherever in the repo that object lives. A folder under clusters/ is not a
 * cluster by being there: shared bases, nested layouts and hub repos all say otherwise.
 *
 * Only files that can hold a sync object are read (gotk-sync.yaml, flux-instance.yaml, YAML in a
 * directory named flux-system), and only those naming a Kustomization or FluxInstance are
 * parsed, so a repo of thousands of tenants costs a directory listing per directory.
 */
import * as path from "node:path";
import type { ChangeSet } from "../changeset/changeset.js";
import { bootstrappedVersion } from "../flux/index.js";
import { fluxPath } from "./flux-path.js";
import { isFlux, isFluxKustomization, readObjects, type K8sObject } from "./objects.js";

export type ClusterVia = "bootstrap" | "operator" | "fleet-unbootstrapped" | "before-bootstrap";

/** Where a cluster syncs itself from. */
export interface SyncSource {
  kind: string;
  name?: string;
  /** Where it is: the Flux namespace (flux bootstrap --namespace, or the FluxInstance's). */
  namespace?: string;
  url?: string;
  branch?: string;
  /** The ref as written when it is not a plain branch (tag, semver, commit, a FluxInstance's ref). */
  ref?: string;
}

export interface Cluster {
  /** The last component of its path; the path below clusters/ when two share it. */
  name: string;
  /** Repo-relative, normalised as Flux resolves spec.path ("." for the root). */
  path: string;
  /** The file holding the sync object (or, not yet bootstrapped, fleet's lockdown file). */
  syncFile: string;
  /** The exact Flux release (vX.Y.Z) it was bootstrapped with or the FluxInstance pins. */
  fluxVersion?: string;
  /** A FluxInstance's version when it is a range (`2.x`, `2.7.x`): no exact release. */
  fluxVersionRange?: string;
  /** The file the version was read from. */
  fluxVersionFrom?: string;
  components: string[];
  source?: SyncSource;
  via: ClusterVia;
}

const BOOTSTRAP_SYNC = "gotk-sync.yaml";
const BOOTSTRAP_COMPONENTS = "gotk-components.yaml";
const OPERATOR_FILE = /^flux-instance\.ya?ml$/;
const FLUX_SYSTEM = "flux-system";
const isYaml = (f: string) => /\.ya?ml$/.test(f);
/** Worth parsing: it declares a Kustomization or a FluxInstance (gotk-components.yaml never is). */
const MAY_SYNC = /^kind:\s*["']?(Kustomization|FluxInstance)["']?\s*$/m;

const isFluxInstance = (o: K8sObject) => isFlux(o, "FluxInstance", "fluxcd.controlplane.io");
const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

/** The files that may hold a cluster's sync object, skipping dot directories and node_modules. */
function candidates(cs: ChangeSet): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    const { files, dirs } = cs.list(dir, { skipLinksOut: true });
    const inFluxSystem = path.posix.basename(dir) === FLUX_SYSTEM;
    for (const f of files)
      if (f === BOOTSTRAP_SYNC || OPERATOR_FILE.test(f) || (inFluxSystem && isYaml(f) && f !== BOOTSTRAP_COMPONENTS))
        out.push(dir ? `${dir}/${f}` : f);
    for (const d of dirs) if (!d.startsWith(".") && d !== "node_modules") visit(dir ? `${dir}/${d}` : d);
  };
  visit("");
  return out;
}

/** The `# Name: value` header lines flux writes at the top of gotk-components.yaml. */
function componentsHeader(text: string): string[] {
  const line = /^# Components: (.+)$/m.exec(text)?.[1];
  return line ? line.split(",").map((c) => c.trim()).filter((c) => c !== "") : [];
}

/** A ref as a branch where it is one (`main`, `refs/heads/main`), else as written. */
function refOf(ref: unknown): Pick<SyncSource, "branch" | "ref"> {
  if (typeof ref === "string") {
    const branch = /^refs\/heads\/(.+)$/.exec(ref)?.[1];
    return branch ? { branch } : { ref };
  }
  if (ref && typeof ref === "object") {
    const r = ref as Record<string, unknown>;
    if (str(r.branch)) return { branch: r.branch as string };
    const other = str(r.name) ?? str(r.tag) ?? str(r.semver) ?? str(r.commit);
    return other ? { ref: other } : {};
  }
  return {};
}

/** A cluster bootstrapped with flux bootstrap (or Terraform): its gotk-sync.yaml. */
function fromGotkSync(cs: ChangeSet, file: string): Omit<Cluster, "name"> | undefined {
  const dir = path.posix.dirname(file);
  const objects = readObjects(cs, file);
  const ks = objects.find(isFluxKustomization);
  // flux bootstrap --path=P writes P/flux-system/gotk-sync.yaml: where the file does not say
  // (the placeholder Flux's example repos commit), that layout does.
  const target = ks ? fluxPath(ks.spec?.path).path : path.posix.basename(dir) === FLUX_SYSTEM ? path.posix.dirname(dir) : undefined;
  if (target === undefined) return undefined;
  const srcRef = ks?.spec?.sourceRef as { kind?: string; name?: string } | undefined;
  const src = objects.find((o) => o !== ks && o.kind === (srcRef?.kind ?? "GitRepository") && (srcRef?.name === undefined || o.metadata?.name === srcRef.name));
  const componentsFile = `${dir}/${BOOTSTRAP_COMPONENTS}`;
  const header = cs.read(componentsFile) ?? "";
  const version = bootstrappedVersion(header);
  return {
    path: target,
    syncFile: file,
    ...(version ? { fluxVersion: version, fluxVersionFrom: componentsFile } : {}),
    components: componentsHeader(header),
    ...(src
      ? {
          source: {
            kind: src.kind!,
            ...(src.metadata?.name ? { name: src.metadata.name } : {}),
            ...(str(src.metadata?.namespace) ? { namespace: src.metadata!.namespace } : {}),
            ...(str(src.spec?.url) ? { url: src.spec!.url } : {}),
            ...refOf(src.spec?.ref),
          },
        }
      : {}),
    via: "bootstrap",
  };
}

/** A cluster the Flux Operator runs: its FluxInstance with a sync path. */
function fromFluxInstance(file: string, fi: K8sObject): Omit<Cluster, "name"> | undefined {
  const sync = fi.spec?.sync as Record<string, unknown> | undefined;
  const target = sync && sync.path !== undefined ? fluxPath(sync.path).path : undefined;
  if (target === undefined) return undefined;
  const written = String(fi.spec?.distribution?.version ?? "").trim();
  const exact = /^v?(\d+\.\d+\.\d+)$/.exec(written)?.[1];
  const components = fi.spec?.components;
  const namespace = str(fi.metadata?.namespace) ?? FLUX_SYSTEM;
  return {
    path: target,
    syncFile: file,
    ...(exact ? { fluxVersion: `v${exact}`, fluxVersionFrom: file } : written ? { fluxVersionRange: written, fluxVersionFrom: file } : {}),
    components: Array.isArray(components) ? components.map(String) : [],
    // The operator creates the source in the FluxInstance's namespace, named after that namespace.
    source: { kind: str(sync!.kind) ?? "GitRepository", name: namespace, namespace, ...(str(sync!.url) ? { url: sync!.url as string } : {}), ...refOf(sync!.ref) },
    via: "operator",
  };
}

/** fleet's lockdown, written before bootstrap: it lists gotk-sync.yaml and patches the controllers. */
function isFleetLockdown(cs: ChangeSet, file: string): boolean {
  const text = cs.read(file) ?? "";
  const kz = readObjects(cs, file)[0] as { resources?: unknown } | undefined;
  return Array.isArray(kz?.resources) && kz.resources.includes(BOOTSTRAP_SYNC) && text.includes("--no-cross-namespace-refs=true");
}

/** Names: the last path component, or the path below clusters/ where two clusters share it. */
function named(found: Array<Omit<Cluster, "name">>, root: string): Cluster[] {
  const last = (p: string) => (p === "." ? path.basename(root) : path.posix.basename(p));
  const count = new Map<string, number>();
  for (const c of found) count.set(last(c.path), (count.get(last(c.path)) ?? 0) + 1);
  return found.map((c) => ({ name: count.get(last(c.path))! > 1 ? c.path.replace(/^clusters\//, "") : last(c.path), ...c }));
}

/** Every cluster of the repo, by path; read through the change set, so staged edits count. */
export function readClusters(cs: ChangeSet): Cluster[] {
  const byPath = new Map<string, Omit<Cluster, "name">>();
  const add = (c: Omit<Cluster, "name"> | undefined) => {
    if (c && !byPath.has(c.path)) byPath.set(c.path, c);
  };
  const files = candidates(cs);
  // Bootstrap sync files first: a repo moving to the operator keeps the cluster it had.
  for (const f of files.filter((f) => path.posix.basename(f) === BOOTSTRAP_SYNC)) add(fromGotkSync(cs, f));
  for (const f of files.filter((f) => path.posix.basename(f) !== BOOTSTRAP_SYNC)) {
    if (!MAY_SYNC.test(cs.read(f) ?? "")) continue;
    for (const o of readObjects(cs, f)) if (isFluxInstance(o)) add(fromFluxInstance(f, o));
  }
  // Written by fleet new-cluster, not bootstrapped yet: the lockdown is there, gotk-sync is not.
  for (const f of files.filter((f) => f.endsWith(`/${FLUX_SYSTEM}/kustomization.yaml`))) {
    const dir = path.posix.dirname(path.posix.dirname(f));
    if (cs.exists(`${path.posix.dirname(f)}/${BOOTSTRAP_SYNC}`) || !MAY_SYNC.test(cs.read(f) ?? "") || !isFleetLockdown(cs, f)) continue;
    add({ path: dir, syncFile: f, components: [], via: "fleet-unbootstrapped" });
  }
  // A repo no cluster has synced yet (flux bootstrap --path=clusters/<c> writes flux-system on
  // first run): the folders under clusters/ that hold Flux Kustomizations are what bootstrap
  // would sync. Only when nothing else says what a cluster is: a folder is never a cluster by
  // being there in a repo whose clusters have sync objects.
  // Its sync file is where bootstrap will write it.
  if (byPath.size === 0) for (const dir of beforeBootstrap(cs)) add({ path: dir, syncFile: `${dir}/${FLUX_SYSTEM}/${BOOTSTRAP_SYNC}`, components: [], via: "before-bootstrap" });
  return named([...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)), cs.root);
}

/** Folders under clusters/ holding, directly, a file that declares a Flux Kustomization. */
function beforeBootstrap(cs: ChangeSet): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    const { files, dirs } = cs.list(dir, { skipLinksOut: true });
    if (files.some((f) => isYaml(f) && readObjects(cs, `${dir}/${f}`).some(isFluxKustomization))) out.push(dir);
    for (const d of dirs) if (!d.startsWith(".")) visit(`${dir}/${d}`);
  };
  visit("clusters");
  return out;
}
