/**
 * What runs where, read from the tree (design section 2): tenants are `tenants/base/<t>/`, an
 * environment runs a tenant when its overlay lists `../base/<t>`, and a cluster runs an
 * environment when its Flux Kustomizations point at `./tenants/<env>` (or, failing that,
 * `./infrastructure/<env>` or its cluster-vars `environment`). The clusters are the repo model's
 * (src/model/clusters.ts), read from their sync objects. Nothing here writes.
 */
import * as path from "node:path";
import type { ChangeSet } from "../changeset/changeset.js";
import { readClusters, type Cluster } from "../model/clusters.js";
import type { GitRef } from "../flux/git-ref.js";
import { CONFIG_FILE } from "./config.js";
import { loadConfig } from "./config.js";
import { readObjects } from "../model/objects.js";
import { detectEnvironments } from "../model/overlays.js";
import { readRepo } from "../model/repo.js";

export interface TenantEntry {
  name: string;
  namespace: string;
  /** The tenant's own config repository, when its base has a GitRepository. */
  url: string;
  /** What that GitRepository checks out (its spec.ref as written: `{ "tag": "v1.2.0" }`). */
  ref: GitRef;
  /** The Secret it reads credentials from; empty for a public repository. */
  secretRef: string;
  environments: string[];
  clusters: string[];
}

export interface EnvironmentEntry {
  name: string;
  tenants: string[];
  clusters: string[];
}

export interface ClusterEntry {
  name: string;
  /** Empty when nothing in the cluster's directory says. */
  environment: string;
  /** The file the environment was read from. */
  environmentFrom: string;
  tenants: string[];
}

export interface Inventory {
  tenants: TenantEntry[];
  environments: EnvironmentEntry[];
  clusters: ClusterEntry[];
  /** Things in the tree that do not add up (a reference to a missing tenant, ...). */
  problems: string[];
}

const isYaml = (f: string) => /\.ya?ml$/.test(f);

type FluxKustomization = { apiVersion?: string; kind?: string; spec?: { path?: unknown } };

/** Where a cluster's environment comes from: its tenants Kustomization, else infrastructure, else cluster-vars. */
function clusterEnvironment(cs: ChangeSet, cluster: Cluster, problems: string[]): { environment: string; from: string } {
  const dir = cluster.path;
  const found: Record<"tenants" | "infrastructure", Array<{ env: string; from: string }>> = { tenants: [], infrastructure: [] };
  for (const f of cs.list(dir).files.filter(isYaml)) {
    for (const o of readObjects(cs, `${dir}/${f}`) as FluxKustomization[]) {
      if (o.kind !== "Kustomization" || !o.apiVersion?.startsWith("kustomize.toolkit.fluxcd.io/")) continue;
      if (typeof o.spec?.path !== "string") continue;
      const p = path.posix.normalize(o.spec.path).replace(/^\.\//, "").replace(/\/$/, "");
      const m = /^(tenants|infrastructure)\/([^/]+)$/.exec(p);
      if (m && m[2] !== "base") found[m[1] as "tenants" | "infrastructure"].push({ env: m[2]!, from: `${dir}/${f}` });
    }
  }
  const tenants = found.tenants[0];
  const infra = found.infrastructure[0];
  if (tenants && infra && tenants.env !== infra.env)
    problems.push(`cluster ${cluster.name}: ${tenants.from} points at tenants/${tenants.env} but ${infra.from} at infrastructure/${infra.env}`);
  if (tenants) return { environment: tenants.env, from: tenants.from };
  if (infra) return { environment: infra.env, from: infra.from };
  const varsFile = `${dir}/flux-system/cluster-vars.yaml`;
  const vars = readObjects(cs, varsFile).find((o) => o.kind === "ConfigMap") as { data?: Record<string, unknown> } | undefined;
  const env = vars?.data?.environment;
  if (typeof env === "string" && env !== "") return { environment: env, from: varsFile };
  problems.push(`cluster ${cluster.name}: nothing in ${dir}/ says which environment it runs`);
  return { environment: "", from: "" };
}

export function readInventory(cs: ChangeSet): Inventory {
  const problems: string[] = [];
  const configured = cs.exists(CONFIG_FILE) ? loadConfig(cs).environments.map((e) => e.name) : [];
  const inTree = detectEnvironments(cs);
  const envNames = [...configured, ...inTree.filter((e) => !configured.includes(e)).sort()];
  const model = readRepo(cs);
  for (const o of model.overlays) problems.push(...o.missing);
  const tenantsOf = new Map(envNames.map((e) => [e, [...(model.overlays.find((o) => o.env === e)?.tenants.keys() ?? [])]]));

  const clusters: ClusterEntry[] = readClusters(cs).map((cluster) => {
    const { name } = cluster;
    const { environment, from } = clusterEnvironment(cs, cluster, problems);
    if (environment && !tenantsOf.has(environment)) problems.push(`cluster ${name} runs environment ${environment}, which has no tenants/${environment}/kustomization.yaml`);
    return { name, environment, environmentFrom: from, tenants: tenantsOf.get(environment) ?? [] };
  });

  const environments: EnvironmentEntry[] = envNames.map((name) => ({
    name,
    tenants: tenantsOf.get(name) ?? [],
    clusters: clusters.filter((c) => c.environment === name).map((c) => c.name),
  }));

  const tenants: TenantEntry[] = model.tenants.map(({ name, sync }) => {
    const envs = environments.filter((e) => e.tenants.includes(name)).map((e) => e.name);
    return {
      name,
      namespace: sync.namespace,
      url: sync.url,
      ref: sync.ref,
      secretRef: sync.secretRef,
      environments: envs,
      clusters: clusters.filter((c) => envs.includes(c.environment)).map((c) => c.name),
    };
  });
  return { tenants, environments, clusters, problems };
}
