/**
 * How a cluster is bootstrapped (design 4.3), as data: the flux CLI argv or the Terraform runs,
 * with the pin, the full set of extra components, and tokens only ever from the environment.
 * new-cluster and bootstrap both take their commands from here, so a re-bootstrap is the same.
 */
import type { ChangeSet } from "../changeset/changeset.js";
import { fluxVersionFor, type FleetConfig } from "./config.js";
import { terraformProviderVersion, TERRAFORM_REQUIRED_VERSION } from "../flux/index.js";
import type { ExternalCommand, FleetAction } from "./generator.js";
import { readClusters } from "../model/clusters.js";
import { readObjects } from "../model/objects.js";

export const BOOTSTRAP_METHODS = ["flux", "terraform", "none"] as const;
export type BootstrapMethod = (typeof BOOTSTRAP_METHODS)[number];

export interface ClusterSettings {
  name: string;
  env: string;
  networkPolicy: boolean;
  clusterDomain: string;
}

export const TOKEN_ENV: Record<FleetConfig["git"]["provider"], string> = {
  github: "GITHUB_TOKEN",
  gitlab: "GITLAB_TOKEN",
  git: "GIT_PASSWORD",
};

export const clusterDir = (name: string) => `clusters/${name}`;
export const lockdownFile = (name: string) => `clusters/${name}/flux-system/kustomization.yaml`;
export const clusterVarsFile = (name: string) => `clusters/${name}/flux-system/cluster-vars.yaml`;
export const terraformDir = (name: string) => `terraform/${name}`;

/** The fleet repo's URL as Flux and Terraform clone it. */
export function repoUrl(config: FleetConfig): string {
  const g = config.git;
  if (g.provider === "git") return g.url!;
  const host = g.hostname ?? (g.provider === "github" ? "github.com" : "gitlab.com");
  return `https://${host}/${g.owner}/${g.repository}.git`;
}

const usesSsh = (config: FleetConfig) => repoUrl(config).startsWith("ssh://");

/** Whether the provider needs a token in the environment (ssh with an agent does not). */
function tokenNeed(config: FleetConfig): { name: string; why: string } | undefined {
  if (config.git.provider === "git" && usesSsh(config)) return undefined;
  const name = TOKEN_ENV[config.git.provider];
  return { name, why: `${config.git.provider === "git" ? "the password or token for" : "a token with admin rights on"} ${repoUrl(config)}` };
}

export function fluxBootstrapArgs(config: FleetConfig, c: ClusterSettings): string[] {
  const g = config.git;
  const target =
    g.provider === "git"
      ? ["git", `--url=${g.url}`]
      : [
          g.provider,
          `--owner=${g.owner}`,
          `--repository=${g.repository}`,
          ...(g.personal ? ["--personal"] : []),
          ...(g.hostname ? [`--hostname=${g.hostname}`] : []),
        ];
  return [
    "bootstrap",
    ...target,
    `--branch=${g.branch}`,
    `--path=${clusterDir(c.name)}`,
    `--version=${fluxVersionFor(config, c.name)}`,
    // Always the full configured set: a bootstrap without it removes the image controllers.
    ...(config.flux.componentsExtra.length ? [`--components-extra=${config.flux.componentsExtra.join(",")}`] : []),
    `--network-policy=${c.networkPolicy}`,
    `--cluster-domain=${c.clusterDomain}`,
  ];
}

export function bootstrapCommands(config: FleetConfig, c: ClusterSettings, method: BootstrapMethod, deferrable: boolean): ExternalCommand[] {
  const token = tokenNeed(config);
  const pin = fluxVersionFor(config, c.name);
  if (method === "flux")
    return [
      {
        tool: "flux",
        title: `flux bootstrap of cluster ${c.name} at Flux ${pin}`,
        args: fluxBootstrapArgs(config, c),
        requiredEnv: token ? [token] : [],
        fluxPin: pin,
        onRemote: {
          branch: config.git.branch,
          file: lockdownFile(c.name),
          deferrable,
          then: `fleet bootstrap ${c.name}`,
        },
      },
    ];
  if (method === "terraform") {
    const dir = terraformDir(c.name);
    const secret: Pick<ExternalCommand, "requiredEnv" | "envFrom"> = usesSsh(config)
      ? { requiredEnv: [{ name: "TF_VAR_git_private_key", why: "the SSH private key Terraform pushes with" }] }
      : { requiredEnv: token ? [token] : [], envFrom: token ? { TF_VAR_git_token: token.name } : {} };
    return [
      // -upgrade: after `fleet upgrade` moved the exact provider pin, the lock file must follow.
      { tool: "terraform", title: `terraform init in ${dir}`, args: [`-chdir=${dir}`, "init", "-input=false", "-upgrade"] },
      {
        tool: "terraform",
        title: `terraform apply in ${dir}: bootstrap of cluster ${c.name} at Flux ${pin}`,
        args: [`-chdir=${dir}`, "apply", "-input=false"],
        autoApprove: "-auto-approve",
        ...secret,
      },
    ];
  }
  return [];
}

/** The Terraform files of a cluster bootstrapped with flux_bootstrap_git. */
export function terraformActions(config: FleetConfig, c: ClusterSettings): FleetAction[] {
  const dir = terraformDir(c.name);
  const pin = fluxVersionFor(config, c.name);
  const data = {
    name: c.name,
    fluxVersion: pin,
    providerVersion: terraformProviderVersion(pin),
    terraformVersion: TERRAFORM_REQUIRED_VERSION,
    gitUrl: repoUrl(config),
    branch: config.git.branch,
    ssh: usesSsh(config),
    tokenEnv: TOKEN_ENV[config.git.provider],
    componentsExtra: config.flux.componentsExtra,
    networkPolicy: c.networkPolicy,
    clusterDomain: c.clusterDomain,
  };
  return ["versions.tf", "main.tf", "variables.tf"].map((f) => ({
    type: "fleet:render" as const,
    path: `${dir}/${f}`,
    template: `terraform/${f}`,
    data,
  }));
}

/**
 * The clusters fleet can bootstrap: the repo model's clusters that live at clusters/<name> with a
 * flux-system kustomization there (where fleet keeps the lockdown).
 */
export function listClusters(cs: ChangeSet): string[] {
  return readClusters(cs)
    .filter((c) => c.path === clusterDir(c.name) && cs.exists(lockdownFile(c.name)))
    .map((c) => c.name);
}

/** A cluster's settings as new-cluster recorded them on its cluster-vars ConfigMap. */
export function readClusterSettings(cs: ChangeSet, name: string): ClusterSettings & { method: BootstrapMethod } {
  const vars = readObjects(cs, clusterVarsFile(name)).find((o) => o.kind === "ConfigMap") as
    | { metadata?: { annotations?: Record<string, string> }; data?: Record<string, string> }
    | undefined;
  const ann = vars?.metadata?.annotations ?? {};
  return {
    name,
    env: vars?.data?.environment ?? "",
    networkPolicy: ann["fleet.dev/network-policy"] !== "false",
    clusterDomain: ann["fleet.dev/cluster-domain"] ?? "cluster.local",
    method: cs.exists(`${terraformDir(name)}/main.tf`) ? "terraform" : "flux",
  };
}
