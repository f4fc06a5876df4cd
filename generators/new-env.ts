/** `fleet new-env <env>`: an environment overlay in infrastructure/ and tenants/, with every tenant. */
import { defaultEnvironment, type EnvConfig, type FleetConfig } from "../src/core/config.js";
import type { Answers, Generator } from "../src/core/generator.js";
import { listValues } from "../src/core/yaml-edit.js";
import type { Context, FleetAction } from "../src/core/generator.js";
import { detectEnvironments, repoLayout } from "../src/model/overlays.js";
import { entryTarget, kustomizationIn } from "../src/model/kustomize.js";
import type { Tenant } from "../src/model/tenants.js";
import * as v from "../src/core/validation.js";
import { checkQuota, quotaAnswer } from "./new-tenant.js";
import { quotaFor, tenantEnvActions } from "./tenant-actions.js";
import { tenantProof } from "./tenant-proof.js";

function envOf(a: Answers): EnvConfig {
  const d = defaultEnvironment(String(a.name));
  const quotaOverrides = (a.quota as string[]) ?? [];
  return { ...d, interval: String(a.interval), quota: quotaFor(d, quotaOverrides) };
}

/** The overlay new environments copy how tenants are included from: the first one with tenants. */
const reference = (ctx: Context) => ctx.model.overlays.find((o) => o.tenants.size > 0);

/** `../base` where the reference overlay includes every tenant through the base's kustomization. */
const wholeBase = (ctx: Context) => (reference(ctx)?.wholeBase.length ? ["../base"] : []);

/** How the new overlay includes a tenant's base: as the reference overlay does, else `../base/<t>`. */
function baseEntry(ctx: Context, t: Tenant): string | null {
  const ref = reference(ctx);
  if (ref && ref.wholeBase.length > 0 && ref.tenants.get(t.name)?.length === 0) return null;
  // Only the overlay's own kustomization spells paths from a sibling of the new one's directory.
  const spelled = ref?.tenants
    .get(t.name)
    ?.filter((e) => e.file === ref.file)
    .flatMap((e) => e.resources)
    .find((r) => entryTarget(ref.dir, r) === t.base);
  return spelled ?? `../base/${t.base.slice("tenants/base/".length)}`;
}

/**
 * How infrastructure/ is laid out: per environment (infrastructure/<env>/ overlays, whose
 * entries outside their own directory a new one copies), per component (directories that are
 * no environment: nothing to copy), or not at all yet (fleet's layout: base + overlay).
 */
function infrastructureLayout(ctx: Context): { kind: "envs"; entries: string[] } | { kind: "components"; components: string[] } | { kind: "none" } {
  const envs = [...new Set([...ctx.environments, ...detectEnvironments(ctx.cs)])];
  const withOverlay = envs.filter((e) => kustomizationIn(ctx.cs, `infrastructure/${e}`) !== undefined);
  if (withOverlay.length > 0) {
    const dir = `infrastructure/${withOverlay[0]}`;
    const text = ctx.cs.read(kustomizationIn(ctx.cs, dir)!) ?? "";
    const entries = listValues(dir, text, "resources").filter((r): r is string => typeof r === "string" && !entryTarget(dir, r).startsWith(`${dir}/`) && entryTarget(dir, r) !== dir);
    return { kind: "envs", entries };
  }
  const components = ctx.cs.list("infrastructure").dirs.filter((d) => d !== "base" && d !== "_base");
  return components.length > 0 ? { kind: "components", components } : { kind: "none" };
}

function infrastructureActions(ctx: Context, env: string): FleetAction[] {
  const layout = infrastructureLayout(ctx);
  if (layout.kind === "components") return [];
  const entries = layout.kind === "envs" ? layout.entries : ["../base"];
  return [
    // Created empty where missing; an existing base is left as it is.
    ...(layout.kind === "none" ? [{ type: "fleet:kustomization" as const, path: "infrastructure/base/kustomization.yaml" }] : []),
    { type: "fleet:kustomization", path: `infrastructure/${env}/kustomization.yaml`, addResources: entries },
  ];
}

/** The new overlay with every tenant, in the repo's layout (a flat repo stays flat). */
function tenantsActions(ctx: Context, env: EnvConfig, config: FleetConfig): FleetAction[] {
  const layout = repoLayout(ctx.model.overlays);
  const overlay = `tenants/${env.name}/kustomization.yaml`;
  return [
    { type: "fleet:kustomization", path: overlay, addResources: layout === "flat" ? wholeBase(ctx) : [] },
    ...ctx.model.tenants.flatMap((t) =>
      tenantEnvActions({ ...t.sync, name: t.name, quota: [], apiVersions: t.apiVersions, baseEntry: baseEntry(ctx, t), base: t.base }, env, config, overlay, layout),
    ),
  ];
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
      ...infrastructureActions(ctx, env.name),
      ...tenantsActions(ctx, env, config),
    ];
  },
  notes: (a, ctx) => {
    const layout = infrastructureLayout(ctx);
    return layout.kind === "components"
      ? [
          `infrastructure/ is laid out per component (${layout.components.join(", ")}), not per environment: ` +
            `no infrastructure/${String(a.name)}/ was written; point the new environment's clusters at the components they need`,
        ]
      : [];
  },
  proof: (_a, ctx) => tenantProof(ctx, "all"),
  nextSteps: (a) => [
    `Point a cluster at it: fleet new-cluster <name> --env ${String(a.name)}`,
  ],
};

export default newEnv;
