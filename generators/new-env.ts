/** `fleet new-env <env>`: an environment overlay in infrastructure/ and tenants/, with every tenant. */
import { defaultEnvironment, type EnvConfig } from "../src/core/config.js";
import type { Answers, Generator } from "../src/core/generator.js";
import { detectEnvironments, readTenantSync } from "../src/core/repo.js";
import * as v from "../src/core/validation.js";
import { checkQuota, quotaAnswer } from "./new-tenant.js";
import { quotaFor, tenantEnvActions } from "./tenant-actions.js";
import { tenantProof } from "./tenant-proof.js";

function envOf(a: Answers): EnvConfig {
  const d = defaultEnvironment(String(a.name));
  const quotaOverrides = (a.quota as string[]) ?? [];
  return { ...d, interval: String(a.interval), quota: quotaFor(d, quotaOverrides) };
}

export const newEnv: Generator = {
  name: "new-env",
  description: "Add an environment overlay to infrastructure/ and tenants/, with every existing tenant",
  needsRepo: true,
  answers: [
    { name: "name", positional: true, message: "Environment name", validate: (val) => v.envName(String(val)) },
    {
      name: "interval",
      message: "How often tenant Kustomizations reconcile in it",
      default: (_ctx, a) => defaultEnvironment(String(a.name ?? "")).interval,
      validate: (val) => v.duration(String(val)),
    },
    {
      ...quotaAnswer("Default tenant quota in it (empty: fleet's defaults)"),
      validate: (val) => checkQuota(val as string[], []),
    },
  ],
  exists: (a, ctx) => {
    const name = String(a.name);
    const known = new Set([...ctx.environments, ...detectEnvironments(ctx.cs)]);
    return known.has(name)
      ? { field: "<name>", rule: `environment '${name}' already exists with other settings`, fix: `existing environments: ${[...known].join(", ")}` }
      : undefined;
  },
  actions: (a, ctx) => {
    const env = envOf(a);
    const config = { ...ctx.config, environments: [...ctx.config.environments, env] };
    return [
      {
        type: "fleet:yaml-list-add",
        path: "fleet.yaml",
        key: "environments",
        matchKey: "name",
        value: { name: env.name, interval: env.interval, quota: env.quota, limitRange: env.limitRange },
      },
      { type: "fleet:kustomization", path: "infrastructure/base/kustomization.yaml" },
      { type: "fleet:kustomization", path: `infrastructure/${env.name}/kustomization.yaml`, addResources: ["../base"] },
      { type: "fleet:kustomization", path: `tenants/${env.name}/kustomization.yaml` },
      ...ctx.tenants.flatMap((name) => {
        const sync = readTenantSync(ctx.cs, name);
        return tenantEnvActions({ ...sync, name, quota: [] }, env, config);
      }),
    ];
  },
  proof: (_a, ctx) => tenantProof(ctx, "all"),
  nextSteps: (a) => [
    `Point a cluster at it: fleet new-cluster <name> --env ${String(a.name)}`,
  ],
};

export default newEnv;
