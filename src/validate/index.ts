/** fleet validate: walk every cluster, run the checks, prove isolation. */
import { factsWarning, newestMinor } from "../flux/index.js";
import { fluxVersionFor, loadConfig, type FleetConfig } from "../core/config.js";
import { readClusters, type Cluster } from "../model/clusters.js";
import { Builder } from "./build.js";
import { ChangeSet } from "../changeset/changeset.js";
import { readRepo, tenantPaths } from "../model/repo.js";
import { CHECKS, type CheckContext, type FluxVersion } from "./checks.js";
import { CONTROLLERS, noRemoteBases, readLockdown, type Controller, type Lockdown } from "./lockdown.js";
import { readTenancy, tenantReconcilers, type Applier } from "./tenancy.js";
import { ownersOf, readCodeowners, readPlatformTeam } from "../model/codeowners.js";
import { walkCluster } from "./discover.js";
import { type Applied, type ClusterResult, type Finding, ref } from "./model.js";
import { RbacModel } from "./rbac.js";
import { fleetConfigOf } from "./admission.js";

export class NoClusters extends Error {}

export interface ValidateOptions {
  root: string;
  cluster?: string;
  /** `namespace/name` of a source -> local directory holding its content. */
  sources: Map<string, string>;
  /** How long one build may take. */
  timeoutMs?: number;
  /** Read and write the content cache of builds (`--no-cache`: false). */
  cache?: boolean;
  /** Told when a cluster starts and ends (a person watching a long run). */
  progress?: (line: string) => void;
}

export interface ValidatedCluster extends ClusterResult {
  rbac: RbacModel;
  tenants: Applier[];
  tenantNamespaces: string[];
}

const MINOR_RANGE = /^v?(\d+)\.(\d+)\.(x|\*)$/;
const MAJOR_RANGE = /^v?(\d+)(\.(x|\*))?(\.(x|\*))?$/;

/** fleet.yaml, read once per run (every cluster asks): the config, or why it cannot be read. */
const configCache = new Map<string, { config: FleetConfig } | { error: unknown }>();
function configOf(root: string): FleetConfig {
  let got = configCache.get(root);
  if (!got) {
    try {
      got = { config: loadConfig(new ChangeSet(root)) };
    } catch (error) {
      got = { error };
    }
    configCache.set(root, got);
  }
  if ("error" in got) throw got.error;
  return got.config;
}

/**
 * The Flux release a cluster is judged by: fleet.yaml's pin for it, else what it was bootstrapped
 * with (gotk-components' header) or its FluxInstance pins (an exact version, or a range of one
 * minor). Otherwise it is not known, and version checks are skipped for it, with a line saying so.
 */
export function versionFor(root: string, cluster: Cluster): FluxVersion {
  try {
    const pin = fluxVersionFor(configOf(root), cluster.name);
    return { shown: pin, facts: pin, from: "fleet.yaml" };
  } catch {
    // No fleet.yaml (any Flux repo), or one that is not valid: the cluster says what it runs.
  }
  const exact = cluster.fluxVersion ? /^(v\d+\.\d+\.\d+)/.exec(cluster.fluxVersion)?.[1] : undefined;
  if (exact) return { shown: cluster.fluxVersion!, facts: exact, ...(cluster.fluxVersionFrom ? { from: cluster.fluxVersionFrom } : {}) };
  const from = cluster.fluxVersionFrom ? { from: cluster.fluxVersionFrom } : {};
  const minor = cluster.fluxVersionRange ? MINOR_RANGE.exec(cluster.fluxVersionRange) : null;
  if (minor) return { shown: cluster.fluxVersionRange!, facts: `v${minor[1]}.${minor[2]}.0`, ...from };
  // `2.x`: the operator installs the newest 2.x it has, so the newest minor fleet knows is the judge.
  const major = cluster.fluxVersionRange ? MAJOR_RANGE.exec(cluster.fluxVersionRange) : null;
  const newest = major ? newestMinor(Number(major[1])) : undefined;
  if (newest) return { shown: `${cluster.fluxVersionRange} (judged as ${newest}, the newest fleet knows)`, facts: `v${newest}.0`, ...from };
  return { shown: "version unknown", ...from };
}

/** The controllers a cluster runs: its built Deployments, else what its header or FluxInstance lists, else Flux's defaults. */
export function controllersOf(cluster: Cluster, objects: Applied[], lockdown: Lockdown): Controller[] {
  const built = objects.filter((a) => !a.target && a.obj.kind === "Deployment" && (a.obj.metadata?.namespace ?? "default") === lockdown.namespace).map((a) => String(a.obj.metadata?.name));
  const named = built.length ? built : cluster.components.length ? cluster.components : ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"];
  return CONTROLLERS.filter((c) => named.includes(c));
}

/** A cluster as Flux would apply it, before any check: the walk, its lockdown, and who is a tenant (fleet graph draws this). */
export async function readCluster(opts: ValidateOptions, c: Cluster, builder: Builder) {
  const walked = await walkCluster({ root: opts.root, cluster: c.name, entry: c.path, sources: opts.sources, builder, self: c.source });
  const lockdown = readLockdown(new ChangeSet(opts.root), c, walked.objects);
  const tenancy = readTenancy(walked.objects, lockdown, (await tenantFilesOf(opts.root, builder)).map((t) => t.namespace), walked.fromRepo);
  return { walked, lockdown, tenancy };
}

export async function validateCluster(opts: ValidateOptions, c: Cluster, builder = new Builder()): Promise<ValidatedCluster[]> {
  const version = versionFor(opts.root, c);
  const cluster = c.name;
  const cs = new ChangeSet(opts.root);
  const { walked, lockdown, tenancy } = await readCluster(opts, c, builder);
  const files = await tenantFilesOf(opts.root, builder);
  const teamOwned = teamOwnership(cs);
  const targets = [undefined, ...new Set(walked.objects.map((a) => a.target).filter((t): t is string => !!t))];
  const hasTenants = tenancy.appliers.some((ap) => ap.tenant);
  const results: ValidatedCluster[] = [];
  for (const target of targets) {
    const objects = walked.objects.filter((a) => a.target === target);
    // Flux's own reconcilers are cluster-admin on the cluster Flux runs on; a remote cluster's RBAC is what is applied there.
    const rbac = new RbacModel(objects, { fluxNamespace: target ? null : lockdown.namespace });
    const tenantNamespaces = tenancy.tenantNamespaces.get(target ?? "") ?? [];
    const ctx: CheckContext = {
      cluster,
      clusterPath: c.path,
      ...(target ? { target } : {}),
      version,
      lockdown,
      controllers: controllersOf(c, walked.objects, lockdown),
      walked,
      objects,
      rbac,
      tenancy,
      appliers: target ? [] : tenancy.appliers,
      tenants: tenantReconcilers(tenancy, target),
      tenantNamespaces,
      tenantNamespaceSet: new Set(tenantNamespaces),
      hasTenants,
      tenantFiles: target ? [] : files,
      teamOwned,
      ...fleetConfigOf(opts.root),
    };
    const findings: Finding[] = [];
    for (const check of CHECKS) {
      if (check.scope === "cluster" && target) continue;
      for (const hit of check.run(ctx))
        findings.push({
          id: check.id,
          severity: hit.severity ?? check.severity,
          cluster,
          ...(target ? { target } : {}),
          object: ref(hit.at.obj),
          file: hit.at.file,
          message: hit.message,
          fix: check.fix,
        });
    }
    // One object applied by two Kustomizations is one finding, not two.
    const unique = [...new Map(findings.map((f) => [JSON.stringify([f.id, f.object, f.file, f.message]), f])).values()];
    findings.length = 0;
    findings.push(...unique);
    findings.sort((a, b) => (a.severity === b.severity ? a.id.localeCompare(b.id) : a.severity === "error" ? -1 : 1));
    const notChecked: string[] = [];
    if (!target) {
      if (c.via === "before-bootstrap")
        notChecked.push(`cluster ${c.name}: no cluster of this repository is bootstrapped yet; ${c.path} is taken as one because it holds Flux Kustomizations (flux bootstrap --path=${c.path} would sync it)`);
      if (version.facts === undefined) notChecked.push(`API versions and strict substitution: the cluster's Flux version is not known (no gotk-components.yaml header, no FluxInstance version, no fleet.yaml pin)`);
      else {
        const guessed = factsWarning(version.facts);
        if (guessed) notChecked.push(`API versions exactly as Flux ${version.shown} serves them: ${guessed}`);
      }
      notChecked.push(...walked.notChecked);
      // Through a kubeConfig, a tenant acts as whoever that kubeconfig holds (a remote cluster, or a proxy such as capsule-proxy): not knowable offline.
      for (const ap of tenancy.appliers.filter((x) => x.tenant && x.actsOn))
        notChecked.push(`${ref(ap.at.obj)}: a tenant's applier acting through kubeConfig ${ap.actsOn}: who that kubeconfig is cannot be read offline, so its isolation is not checked`);
      // Where Flux would fetch a remote, it is not checked, and said so; under the lockdown it is an error (a check).
      if (!noRemoteBases(lockdown))
        notChecked.push(...walked.remotes.map((r) => `remote base ${r.remote.ref} in ${r.remote.file}: ${r.path} (applied by ${ref(r.at.obj)}) is not built; validate never fetches`));
    }
    results.push({
      name: cluster,
      ...(target ? { target } : {}),
      pin: version.shown,
      objects,
      notChecked,
      findings,
      rbac,
      tenants: ctx.tenants,
      tenantNamespaces,
    });
  }
  return results;
}

/** A repo path's owner when CODEOWNERS gives it to a team other than the platform's. */
function teamOwnership(cs: ChangeSet): (file: string) => string | undefined {
  const platform = readPlatformTeam(cs)?.team;
  const rules = readCodeowners(cs);
  if (!platform || rules.length === 0) return () => undefined;
  return (file) => {
    const owners = ownersOf(rules, file);
    return owners.length && !owners.includes(platform) ? owners.join(" ") : undefined;
  };
}

/**
 * The tenants of the repo model, with what is theirs, read once per repo and run. Reading them
 * takes every tenant's base and every environment's unit: a second of a cached run at a thousand
 * tenants, so the cache keeps it while nothing the model read has changed (Builder.remembered).
 */
const tenantFilesCache = new Map<string, Promise<CheckContext["tenantFiles"]>>();
function tenantFilesOf(root: string, builder: Builder): Promise<CheckContext["tenantFiles"]> {
  let files = tenantFilesCache.get(root);
  if (!files) {
    files = builder.remembered(root, "tenant-files", () => {
      // A change set of its own: what it looked at is what the model read, and nothing else.
      const cs = new ChangeSet(root);
      try {
        const model = readRepo(cs);
        const paths = tenantPaths(model);
        return { value: model.tenants.map((t) => ({ name: t.name, namespace: t.namespace, owns: paths.get(t.name)! })), paths: cs.lookedAt() };
      } catch {
        // A tenant file fleet cannot read: its build reports it, and there are no tenant files to judge.
        return { value: [] };
      }
    });
    tenantFilesCache.set(root, files);
  }
  return files;
}

/** The clusters a run works on: all, or the one --cluster names. */
export function clustersOf(opts: Pick<ValidateOptions, "root" | "cluster">): Cluster[] {
  // A run reads the repo afresh, from disk: nothing is staged on a change set validate opens.
  tenantFilesCache.delete(opts.root);
  configCache.delete(opts.root);
  const all = readClusters(new ChangeSet(opts.root));
  if (all.length === 0)
    throw new NoClusters(`no cluster in ${opts.root}: no flux-system/gotk-sync.yaml, no FluxInstance with a sync path, no cluster fleet new-cluster wrote`);
  const names = opts.cluster ? all.filter((c) => c.name === opts.cluster) : all;
  if (names.length === 0) throw new NoClusters(`no cluster '${opts.cluster}' in ${opts.root} (there are: ${all.map((c) => c.name).join(", ")})`);
  return names;
}

export async function validateRepo(opts: ValidateOptions): Promise<ValidatedCluster[]> {
  const names = clustersOf(opts);
  const builder = new Builder({ ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}), ...(opts.cache === false ? { cache: false } : {}) });
  let done = 0;
  const results = await Promise.all(
    names.map(async (c) => {
      opts.progress?.(`validating cluster ${c.name} (${c.path})...`);
      const r = await validateCluster(opts, c, builder);
      opts.progress?.(`[${++done}/${names.length}] cluster ${c.name}: ${r.reduce((n, t) => n + t.objects.length, 0)} objects built and checked`);
      return r;
    }),
  );
  await builder.save();
  return results.flat();
}
