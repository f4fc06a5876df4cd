/**
 * `fleet new-cluster <name> --env <env>`: a cluster entrypoint that only points elsewhere, the
 * multi-tenancy lockdown written before bootstrap, cluster variables, and the bootstrap itself.
 */
import {
  BOOTSTRAP_METHODS,
  bootstrapCommands,
  fluxBootstrapArgs,
  TOKEN_ENV,
  clusterDir,
  clusterVarsFile,
  listClusters,
  lockdownFile,
  operatorActions,
  operatorNextSteps,
  operatorPinProblem,
  placeholderProblem,
  terraformActions,
  type BootstrapMethod,
  type ClusterSettings,
} from "../src/core/bootstrap.js";
import type { Answers, Generator } from "../src/core/generator.js";
import * as v from "../src/core/validation.js";

/** Set by fleet on every cluster; --var cannot take them. */
const FLEET_VARS = ["cluster_name", "environment", "cluster_domain"];

function checkVars(items: string[]): string | undefined {
  const seen = new Set<string>();
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq === -1) return `'${item}' must be key=value`;
    const key = item.slice(0, eq);
    const broken = v.variableName(key) ?? (FLEET_VARS.includes(key) ? `is set by fleet (${FLEET_VARS.join(", ")})` : undefined);
    if (broken) return `'${key}' ${broken}`;
    if (seen.has(key)) return `'${key}' is given twice`;
    seen.add(key);
    const value = item.slice(eq + 1);
    if (value === "") return `'${key}' has an empty value, which Flux treats as unset`;
    const bad = v.quotedText(value);
    if (bad) return `value of '${key}' ${bad}`;
  }
  return undefined;
}

const settingsOf = (a: Answers): ClusterSettings => ({
  name: String(a.name),
  env: String(a.env),
  networkPolicy: a.networkPolicy === true,
  clusterDomain: String(a.clusterDomain),
});

export const newCluster: Generator = {
  name: "new-cluster",
  description: "Add a cluster entrypoint with the multi-tenancy lockdown, and bootstrap it",
  needsRepo: true,
  answers: [
    { name: "name", positional: true, message: "Cluster name", validate: (val) => v.dns1035Label(String(val)) },
    { name: "env", message: "Environment the cluster runs", type: "list", choices: (ctx) => ctx.environments },
    {
      name: "vars",
      flag: "var",
      message: "Cluster variables for ${var} substitution",
      hint: "region=eu-west-1,domain=eu.acme.io",
      multiple: true,
      default: () => [],
      validate: (val) => checkVars(val as string[]),
    },
    {
      name: "bootstrap",
      message: "Bootstrap with",
      type: "list",
      choices: () => [...BOOTSTRAP_METHODS],
      default: () => "none",
    },
    {
      name: "networkPolicy",
      message: "Isolate the Flux controllers with NetworkPolicies",
      type: "confirm",
      default: () => true,
    },
    {
      name: "clusterDomain",
      message: "The cluster's DNS domain",
      default: () => "cluster.local",
      validate: (val) => v.dnsName(String(val)),
    },
  ],
  check: (a, ctx) =>
    [
      a.bootstrap === "none" ? undefined : placeholderProblem(ctx.config, "--bootstrap"),
      a.bootstrap === "operator" ? operatorPinProblem(ctx.config, String(a.name)) : undefined,
    ].filter((p) => p !== undefined),
  exists: (a, ctx) => {
    const name = String(a.name);
    return listClusters(ctx.cs).includes(name) || ctx.cs.list(clusterDir(name)).files.length > 0
      ? { field: "<name>", rule: `cluster '${name}' already exists in ${clusterDir(name)}/ with other settings`, fix: `choose another name; re-run its bootstrap with fleet bootstrap ${name}` }
      : undefined;
  },
  actions: (a, ctx) => {
    const c = settingsOf(a);
    const dir = clusterDir(c.name);
    const vars = (a.vars as string[]).map((item) => ({ key: item.slice(0, item.indexOf("=")), value: item.slice(item.indexOf("=") + 1) }));
    const platform = (kustomization: string, description: string, dependsOn: string) => ({
      api: ctx.api,
      env: c.env,
      kustomization,
      description,
      dependsOn,
    });
    return [
      // The operator's cluster carries its lockdown in the FluxInstance; the others in patches.
      ...(a.bootstrap === "operator"
        ? operatorActions(ctx.config, c)
        : [{ type: "fleet:render" as const, path: lockdownFile(c.name), template: "cluster/flux-system-kustomization.yaml", data: {} }]),
      { type: "fleet:render", path: clusterVarsFile(c.name), template: "cluster/cluster-vars.yaml", data: { ...c, vars } },
      {
        type: "fleet:render",
        path: `${dir}/infrastructure.yaml`,
        template: "cluster/platform-kustomization.yaml",
        data: platform("infrastructure", `Controllers and cluster-wide config of ${c.env}, applied first.`, ""),
      },
      {
        type: "fleet:render",
        path: `${dir}/tenants.yaml`,
        template: "cluster/platform-kustomization.yaml",
        data: platform("tenants", `The tenants of ${c.env}; waits for infrastructure, never the other way round.`, "infrastructure"),
      },
      { type: "fleet:render", path: `${dir}/kustomization.yaml`, template: "cluster/kustomization.yaml", data: c },
      ...(a.bootstrap === "terraform" ? terraformActions(ctx.config, c) : []),
    ];
  },
  commands: (a, ctx) => bootstrapCommands(ctx.config, settingsOf(a), String(a.bootstrap) as BootstrapMethod, true),
  nextSteps: (a, ctx) =>
    a.bootstrap === "none"
      ? [
          `Commit and push clusters/${String(a.name)}/ first: flux bootstrap keeps the lockdown kustomization only if it is already on the branch.`,
          `Then bootstrap with fleet bootstrap ${String(a.name)}, which checks the flux CLI and runs exactly:`,
          `  ${TOKEN_ENV[ctx.config.git.provider]}=<token> flux ${fluxBootstrapArgs(ctx.config, settingsOf(a)).join(" ")}`,
        ]
      : a.bootstrap === "operator"
        ? operatorNextSteps(ctx.config)
        : [],
};

export default newCluster;
