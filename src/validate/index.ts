/** fleet validate: walk every cluster, run the checks, prove isolation. */
import { DEFAULT_FLUX_VERSION, factsWarning, isRelease } from "../flux/index.js";
import { fluxVersionFor, loadConfig } from "../core/config.js";
import { readClusters, type Cluster } from "../model/clusters.js";
import { Builder } from "./build.js";
import { ChangeSet } from "../changeset/changeset.js";
import { readRepo, tenantPaths } from "../model/repo.js";
import { readInside } from "./inputs.js";
import { CHECKS, type CheckContext, isTenantApplier, tenantNamespacesOf } from "./checks.js";
import { walkCluster } from "./discover.js";
import { type Applied, type ClusterResult, type Finding, ref } from "./model.js";
import { RbacModel } from "./rbac.js";

export class NoClusters extends Error {}

export interface ValidateOptions {
  root: string;
  cluster?: string;
  /** `namespace/name` of a source -> local directory holding its content. */
  sources: Map<string, string>;
  /** How long one build may take. */
  timeoutMs?: number;
}

export interface ValidatedCluster extends ClusterResult {
  rbac: RbacModel;
  tenants: CheckContext["tenants"];
  tenantNamespaces: string[];
}

/** The pin: fleet.yaml's for this cluster, else what the cluster was bootstrapped with, else fleet's default. */
function pinFor(root: string, cluster: Cluster): string {
  try {
    return fluxVersionFor(loadConfig(new ChangeSet(root)), cluster.name);
  } catch {
    // No fleet.yaml (any Flux repo), or one that is not valid: the cluster says what it runs.
  }
  if (cluster.fluxVersion && isRelease(cluster.fluxVersion)) return cluster.fluxVersion;
  return DEFAULT_FLUX_VERSION;
}

/**
 * The value kustomize-controller's Deployment gives a flag ("true" for a bare boolean flag; the
 * last one wins, as in Go's flag package), else what the cluster's lockdown file adds.
 */
function controllerFlag(root: string, cluster: Cluster, objects: Applied[], flag: string): string | undefined {
  const dep = objects.find((a) => a.obj.kind === "Deployment" && a.obj.metadata?.name === "kustomize-controller");
  const args = dep?.obj.spec?.template?.spec?.containers?.[0]?.args as unknown[] | undefined;
  const from = (list: string[]) => list.reduce<string | undefined>((v, a) => (a === flag ? "true" : a.startsWith(`${flag}=`) ? a.slice(flag.length + 1) : v), undefined);
  if (Array.isArray(args)) return from(args.map(String));
  return from(readInside(root, `${cluster.path}/flux-system/kustomization.yaml`)?.match(/--[a-z-]+(=[^\s"']*)?/g) ?? []);
}

const goTrue = (v: string | undefined) => v !== undefined && /^(1|t|T|TRUE|true|True)$/.test(v);

export async function validateCluster(opts: ValidateOptions, c: Cluster, builder = new Builder()): Promise<ValidatedCluster> {
  const pin = pinFor(opts.root, c);
  const cluster = c.name;
  const walked = await walkCluster({ root: opts.root, cluster, entry: c.path, sources: opts.sources, builder, self: c.source });
  const objects = walked.objects;
  const rbac = new RbacModel(objects);
  const saFlag = controllerFlag(opts.root, c, objects, "--default-service-account") !== undefined;
  const noRemoteBases = goTrue(controllerFlag(opts.root, c, objects, "--no-remote-bases"));
  const tenantNamespaces = tenantNamespacesOf(objects);
  const tenants = objects
    .filter((a) => isTenantApplier(a, tenantNamespaces))
    .map((applier) => {
      const ns = applier.obj.metadata?.namespace ?? "default";
      const sa = (applier.obj.spec?.serviceAccountName as string | undefined) ?? (saFlag ? "default" : undefined);
      return { applier, id: sa ? { namespace: ns, name: sa } : undefined };
    })
    .filter((t, i, all) => all.findIndex((u) => u.id?.namespace === t.id?.namespace && u.id?.name === t.id?.name && !!u.id === !!t.id) === i);
  const ctx: CheckContext = {
    cluster,
    pin,
    walked,
    objects,
    rbac,
    tenants,
    defaultSaFlag: saFlag,
    noRemoteBases,
    tenantNamespaces,
    tenantNamespaceSet: new Set(tenantNamespaces),
    tenantFiles: tenantFilesOf(opts.root),
  };
  const findings: Finding[] = [];
  for (const check of CHECKS)
    for (const hit of check.run(ctx))
      findings.push({
        id: check.id,
        severity: hit.severity ?? check.severity,
        cluster,
        object: ref(hit.at.obj),
        file: hit.at.file,
        message: hit.message,
        fix: check.fix,
      });
  findings.sort((a, b) => (a.severity === b.severity ? a.id.localeCompare(b.id) : a.severity === "error" ? -1 : 1));
  // Where Flux would fetch a remote, it is not checked, and said so; under the lockdown it is an error (a check).
  const remotes = noRemoteBases ? [] : walked.remotes.map((r) => `remote base ${r.remote.ref} in ${r.remote.file}: ${r.path} (applied by ${ref(r.at.obj)}) is not built; validate never fetches`);
  // API versions under a pin outside fleet's Flux tables are judged with borrowed facts.
  const guessed = factsWarning(pin);
  const facts = guessed ? [`API versions exactly as Flux ${pin} serves them: ${guessed}`] : [];
  return { name: cluster, pin, objects, notChecked: [...facts, ...walked.notChecked, ...remotes], findings, rbac, tenants, tenantNamespaces };
}

/** The tenants of the repo model, with what is theirs, read once per repo. */
const tenantFilesCache = new Map<string, CheckContext["tenantFiles"]>();
function tenantFilesOf(root: string): CheckContext["tenantFiles"] {
  let files = tenantFilesCache.get(root);
  if (!files) {
    try {
      const model = readRepo(new ChangeSet(root));
      const paths = tenantPaths(model);
      files = model.tenants.map((t) => ({ name: t.name, namespace: t.namespace, owns: paths.get(t.name)! }));
    } catch {
      // A tenant file fleet cannot read: its build reports it, and there are no tenant files to judge.
      files = [];
    }
    tenantFilesCache.set(root, files);
  }
  return files;
}

export async function validateRepo(opts: ValidateOptions): Promise<ValidatedCluster[]> {
  // A run reads the repo afresh, from disk: nothing is staged on a change set validate opens.
  tenantFilesCache.delete(opts.root);
  const all = readClusters(new ChangeSet(opts.root));
  if (all.length === 0)
    throw new NoClusters(`no cluster in ${opts.root}: no flux-system/gotk-sync.yaml, no FluxInstance with a sync path, no cluster fleet new-cluster wrote`);
  const names = opts.cluster ? all.filter((c) => c.name === opts.cluster) : all;
  if (names.length === 0) throw new NoClusters(`no cluster '${opts.cluster}' in ${opts.root} (there are: ${all.map((c) => c.name).join(", ")})`);
  const builder = new Builder(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {});
  return Promise.all(names.map((c) => validateCluster(opts, c, builder)));
}
