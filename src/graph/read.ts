/** The graphs of a repo's clusters, read with validate's own walk: the same builds, the same cache. */
import { Builder } from "../validate/build.js";
import { clustersOf, readCluster, type ValidateOptions } from "../validate/index.js";
import { clusterGraph, type ClusterGraph } from "./graph.js";

export interface ReadGraph extends ClusterGraph {
  /** What the graph cannot show: builds that failed or were not run (remote bases), by the Kustomization that applies them. */
  missing: string[];
}

export async function readGraphs(opts: Omit<ValidateOptions, "progress">): Promise<ReadGraph[]> {
  const builder = new Builder({ ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}), ...(opts.cache === false ? { cache: false } : {}) });
  const graphs = await Promise.all(
    clustersOf(opts).map(async (cluster) => {
      const { walked, tenancy } = await readCluster(opts, cluster, builder);
      const missing = [
        ...walked.buildErrors.map((b) => `${b.message.split("\n")[0]} (does not build)`),
        ...walked.remotes.map((r) => `${r.path}: remote base ${r.remote.ref} (validate and graph never fetch)`),
      ];
      return { ...clusterGraph({ cluster, walked, tenancy }), missing };
    }),
  );
  await builder.save();
  return graphs;
}
