/**
 * Reading what the lockdown plan needs: each cluster walked as Flux would apply it (validate's
 * readCluster, one Builder for all so identical builds run once), judged by its own Flux
 * version, and planned.
 */
import * as path from "node:path";
import { InputError, ToolError } from "../core/errors.js";
import type { ChangeSet } from "../changeset/changeset.js";
import { readClusters, type Cluster } from "../model/clusters.js";
import { planCluster, type ClusterPlan, type ClusterRead, type LockdownChoices } from "./plan.js";

export interface Surveyed {
  root: string;
  sources: Map<string, string>;
  clusters: Array<{ cluster: Cluster; before: ClusterRead; plan: ClusterPlan; fluxVersion?: string }>;
  read: (root: string, cluster: Cluster) => Promise<ClusterRead>;
}

const SOURCE = /^([a-z0-9][a-z0-9-]*)\/([a-z0-9][a-z0-9.-]*)=(.+)$/;

/** --source NAMESPACE/NAME=DIR: a directory (relative to the repository) holding a source that is not this repository. */
export function sourceRule(v: string): string | undefined {
  return SOURCE.test(v) ? undefined : "must be <namespace>/<name>=<dir>, the directory holding that Flux source's content";
}

export async function surveyLockdown(cs: ChangeSet, opts: { cluster?: string; sources: string[]; choices: LockdownChoices }): Promise<Surveyed> {
  const { readCluster, versionFor } = await import("../validate/index.js");
  const build = await import("../validate/build.js");
  const sources = new Map(opts.sources.map((s) => SOURCE.exec(s)!).map((m) => [`${m[1]}/${m[2]}`, path.resolve(cs.root, m[3]!)] as const));
  const all = readClusters(cs);
  if (all.length === 0) throw new InputError("--repo", `no cluster in ${cs.root}: no flux-system/gotk-sync.yaml, no FluxInstance with a sync path`, "run it in a Flux repository (or add a cluster with fleet new-cluster)");
  const clusters = opts.cluster ? all.filter((c) => c.name === opts.cluster) : all;
  if (clusters.length === 0) throw new InputError("--cluster", `no cluster '${opts.cluster}' (there are: ${all.map((c) => c.name).join(", ")})`);
  const builder = new build.Builder();
  const read = async (root: string, c: Cluster): Promise<ClusterRead> => {
    try {
      const { walked, lockdown, tenancy } = await readCluster({ root, sources }, c, builder);
      return { walked, lockdown, tenancy };
    } catch (e) {
      if (e instanceof build.KubectlMissing) throw new ToolError("kubectl is not installed or not on PATH; fleet lockdown builds every cluster with kubectl kustomize\n  fix: install kubectl (it includes kustomize)");
      throw e;
    }
  };
  const out: Surveyed = { root: cs.root, sources, clusters: [], read };
  for (const cluster of clusters) {
    const before = await read(cs.root, cluster);
    const fluxVersion = versionFor(cs.root, cluster).facts;
    out.clusters.push({ cluster, before, plan: planCluster(cluster, before, opts.choices, fluxVersion), ...(fluxVersion ? { fluxVersion } : {}) });
  }
  return out;
}
