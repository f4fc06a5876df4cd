/** fleet validate: walk every cluster, run the checks, prove isolation. */
import { parse } from "yaml";
import { ChangeSet } from "../changeset/changeset.js";
import { fluxVersionFor, type FleetConfig } from "../core/config.js";
import { DEFAULT_FLUX_VERSION, isKnownRelease } from "../core/flux.js";
import { readClusters, type Cluster } from "../model/clusters.js";
import { Builder } from "./build.js";
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
    const flux = (parse(readInside(root, "fleet.yaml") ?? "") as { flux?: FleetConfig["flux"] } | null)?.flux;
    const v = flux ? fluxVersionFor({ flux }, cluster.name) : undefined;
    if (typeof v === "string" && isKnownRelease(v)) return v;
  } catch {
    // No fleet.yaml (any Flux repo), or one validate need not understand.
  }
  if (cluster.fluxVersion && isKnownRelease(cluster.fluxVersion)) return cluster.fluxVersion;
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
  const walked = await walkCluster({ root: opts.root, cluster, entry: c.path, sources: opts.sources, builder });
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
  const ctx: CheckContext = { cluster, pin, walked, objects, rbac, tenants, defaultSaFlag: saFlag, noRemoteBases, tenantNamespaces, tenantNamespaceSet: new Set(tenantNamespaces) };
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
  return { name: cluster, pin, objects, notChecked: [...walked.notChecked, ...remotes], findings, rbac, tenants, tenantNamespaces };
}

export async function validateRepo(opts: ValidateOptions): Promise<ValidatedCluster[]> {
  // Read from disk: nothing is staged on a change set validate opens.
  const all = readClusters(new ChangeSet(opts.root));
  if (all.length === 0)
    throw new NoClusters(`no cluster in ${opts.root}: no flux-system/gotk-sync.yaml, no FluxInstance with a sync path, no cluster fleet new-cluster wrote`);
  const names = opts.cluster ? all.filter((c) => c.name === opts.cluster) : all;
  if (names.length === 0) throw new NoClusters(`no cluster '${opts.cluster}' in ${opts.root} (there are: ${all.map((c) => c.name).join(", ")})`);
  const builder = new Builder(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {});
  return Promise.all(names.map((c) => validateCluster(opts, c, builder)));
}
