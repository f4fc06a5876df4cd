/**
 * Reading what the lockdown plan needs: each cluster walked as Flux would apply it (validate's
 * readCluster, one Builder for all so identical builds run once), judged by its own Flux
 * version, and planned.
 */
import * as path from "node:path";
import { FleetError, InputError, ToolError } from "../core/errors.js";
import { putInObject } from "../core/yaml-edit.js";
import type { ChangeSet } from "../changeset/changeset.js";
import type { Cluster } from "../model/clusters.js";
import { planCluster, type ClusterPlan, type ClusterRead, type LockdownChoices } from "./plan.js";
import { parseSourceFlags, refuseUnusedSources } from "../validate/source-flags.js";

export interface Surveyed {
  root: string;
  sources: Map<string, string>;
  clusters: Array<{ cluster: Cluster; before: ClusterRead; plan: ClusterPlan; fluxVersion?: string }>;
  read: (root: string, cluster: Cluster) => Promise<ClusterRead>;
}

export async function surveyLockdown(cs: ChangeSet, opts: { cluster?: string; sources: string[]; choices: LockdownChoices }): Promise<Surveyed> {
  const { clustersOf, NoClusters, readCluster, versionFor } = await import("../validate/index.js");
  const build = await import("../validate/build.js");
  const sources = parseSourceFlags(opts.sources, cs.root);
  if (!(sources instanceof Map)) throw new InputError("--source", `'${sources.value}' ${sources.problem}`, "DIR is absolute, or relative to the repository");
  let clusters: Cluster[];
  try {
    clusters = clustersOf({ root: cs.root, ...(opts.cluster ? { cluster: opts.cluster } : {}) });
  } catch (e) {
    if (e instanceof NoClusters) throw new InputError(opts.cluster ? "--cluster" : "--repo", e.message, "run it in a Flux repository (or add a cluster with fleet new-cluster)");
    throw e;
  }
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
    const plan = planCluster(cluster, before, opts.choices, fluxVersion);
    editable(cs, plan);
    out.clusters.push({ cluster, before, plan, ...(fluxVersion ? { fluxVersion } : {}) });
  }
  refuseUnusedSources(sources, "nothing was planned for it");
  return out;
}

/**
 * What the plan would edit, tried on the files as they are: an object fleet cannot add a line to
 * (flow style, a value set to something else, not in the file the build names) and a
 * flux-system directory without a kustomization.yaml become blockers, named before anything is
 * staged, instead of failing the run half way through planning its edits.
 */
function editable(cs: ChangeSet, plan: ClusterPlan): void {
  const noKustomization = plan.via === "patches" && cs.read(plan.lockdownFile) === undefined;
  const cannot = (why: string, fix: string, at: { ref: string; file: string; inRepo: boolean }) => plan.blockers.push({ ...at, why, fix });
  if (noKustomization && plan.flags.length)
    cannot(
      `${path.posix.dirname(plan.lockdownFile)} has no kustomization.yaml for the lockdown patches (Flux generates one there)`,
      `add ${plan.lockdownFile} listing every manifest of the directory (flux bootstrap writes one: gotk-components.yaml, gotk-sync.yaml), then run again`,
      { ref: `Kustomization/${plan.fluxNamespace}/flux-system`, file: plan.lockdownFile, inRepo: true },
    );
  for (const c of plan.appliers) {
    if (!c.account || !c.at.inRepo) continue;
    let why: string | undefined;
    if (c.via === "patch") why = noKustomization ? `${plan.lockdownFile} does not exist, so no patch can give it its account` : undefined;
    else {
      const text = cs.read(c.at.file);
      if (text === undefined) why = `${c.at.file} is not a file fleet can edit`;
      else
        try {
          putInObject(c.at.file, text, { kind: c.kind, name: c.name, namespace: c.namespace }, ["spec", "serviceAccountName"], c.account);
        } catch (e) {
          if (!(e instanceof FleetError)) throw e;
          why = e.message.split("\n")[0]!;
        }
    }
    if (!why) continue;
    cannot(`fleet cannot give it its account: ${why}`, `set spec.serviceAccountName: ${c.account} on it by hand, then run again`, c.at);
    delete c.account;
  }
}
