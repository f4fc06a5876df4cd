/**
 * How a cluster is bootstrapped (design 4.3), as data: the flux CLI argv, the Terraform runs, or
 * the Flux Operator's chart and FluxInstance, with the pin, the full set of extra components,
 * and tokens only ever from the environment. new-cluster and bootstrap both take their commands
 * from here, so a re-bootstrap is the same.
 */
import type { ChangeSet } from "../changeset/changeset.js";
import { fluxVersionFor, placeholdersLeft, type FleetConfig } from "./config.js";
import { terraformProviderVersion, TERRAFORM_REQUIRED_VERSION } from "../flux/index.js";
import { OPERATOR_CHART, OPERATOR_CORE_COMPONENTS, OPERATOR_FLUX_RELEASES, OPERATOR_REGISTRY, operatorInstalls, SYNC_SECRET, TENANT_DEFAULT_SERVICE_ACCOUNT } from "../flux/operator.js";
import type { ExternalCommand, FleetAction } from "./generator.js";
import { readClusters } from "../model/clusters.js";
import { readObjects } from "../model/objects.js";

export const BOOTSTRAP_METHODS = ["flux", "terraform", "operator", "none"] as const;
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
export const fluxInstanceFile = (name: string) => `clusters/${name}/flux-system/flux-instance.yaml`;

/**
 * The file that marks a cluster as bootstrapped by a method, and so the method `fleet bootstrap`
 * defaults to (first match wins; flux when none is there). A method whose file is missing cannot
 * run: Terraform has nothing to apply, the operator no FluxInstance.
 */
const METHOD_FILES: Array<{ method: BootstrapMethod; file: (name: string) => string; add: string }> = [
  { method: "terraform", file: (n) => `${terraformDir(n)}/main.tf`, add: "fleet new-cluster --bootstrap terraform" },
  { method: "operator", file: fluxInstanceFile, add: "fleet new-cluster --bootstrap operator" },
];

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

/** What `onRemote` says when a bootstrap waits for the cluster directory to be pushed. */
const WAITS_FOR_REMOTE: Record<"flux" | "operator", { what: string; why: string }> = {
  flux: {
    what: "flux bootstrap",
    why: "flux bootstrap works from the remote branch and writes its own flux-system/kustomization.yaml, without the lockdown, where the branch has none",
  },
  operator: {
    what: "Flux Operator install",
    why: "the FluxInstance syncs this cluster's path from the remote branch, and would replace or prune a FluxInstance that is not the one there",
  },
};

export function bootstrapCommands(config: FleetConfig, c: ClusterSettings, method: BootstrapMethod, deferrable: boolean): ExternalCommand[] {
  const token = tokenNeed(config);
  const pin = fluxVersionFor(config, c.name);
  if (method === "operator") {
    const ns = `--namespace=${SYNC_SECRET.namespace}`;
    // Over HTTPS the sync's pull secret holds the token (what flux bootstrap --token-auth stores);
    // kubectl reads it from its standard input, so it is never in an argv or a file. Deleted and
    // created again, so a re-bootstrap rotates it.
    const secret: ExternalCommand[] = token
      ? [
          { tool: "kubectl", title: `drop the old sync secret ${SYNC_SECRET.name} of cluster ${c.name}, if any`, args: ["delete", "secret", SYNC_SECRET.name, ns, "--ignore-not-found"] },
          {
            tool: "kubectl",
            title: `sync secret ${SYNC_SECRET.name} of cluster ${c.name} from $${token.name}`,
            args: ["create", "secret", "generic", SYNC_SECRET.name, ns, `--from-literal=username=${SYNC_SECRET.username}`, "--from-file=password=/dev/stdin"],
            requiredEnv: [{ name: token.name, why: `a token that can read ${repoUrl(config)}, stored in the cluster as Secret ${SYNC_SECRET.namespace}/${SYNC_SECRET.name} for the FluxInstance's sync (read-only is enough)` }],
            stdinFrom: token.name,
          },
        ]
      : [];
    return [
      {
        tool: "helm",
        title: `Flux Operator chart ${OPERATOR_CHART.version} on cluster ${c.name}`,
        args: ["upgrade", "--install", OPERATOR_CHART.release, OPERATOR_CHART.url, `--version=${OPERATOR_CHART.version}`, ns, "--create-namespace", "--wait"],
        onRemote: { branch: config.git.branch, file: fluxInstanceFile(c.name), deferrable, then: `fleet bootstrap ${c.name}`, ...WAITS_FOR_REMOTE.operator },
      },
      ...secret,
      { tool: "kubectl", title: `FluxInstance of cluster ${c.name} at Flux ${pin}`, args: ["apply", `--filename=${fluxInstanceFile(c.name)}`] },
    ];
  }
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
          ...WAITS_FOR_REMOTE.flux,
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
 * The files of a cluster the Flux Operator runs: its FluxInstance (the pin exactly, the
 * configured components, the multitenant lockdown, the sync of this repo at the cluster path) and
 * the flux-system kustomization that lists it.
 */
export function operatorActions(config: FleetConfig, c: ClusterSettings): FleetAction[] {
  const data = {
    name: c.name,
    fluxVersion: fluxVersionFor(config, c.name),
    registry: OPERATOR_REGISTRY,
    components: [...OPERATOR_CORE_COMPONENTS, ...config.flux.componentsExtra],
    tenantDefaultServiceAccount: TENANT_DEFAULT_SERVICE_ACCOUNT,
    networkPolicy: c.networkPolicy,
    clusterDomain: c.clusterDomain,
    url: repoUrl(config),
    ref: `refs/heads/${config.git.branch}`,
    path: clusterDir(c.name),
    pullSecret: SYNC_SECRET.name,
  };
  return [
    { type: "fleet:render", path: lockdownFile(c.name), template: "cluster/flux-system-operator-kustomization.yaml", data: {} },
    { type: "fleet:render", path: fluxInstanceFile(c.name), template: "cluster/flux-instance.yaml", data },
  ];
}

/**
 * What the user does for an operator cluster that fleet cannot: over SSH the sync's Secret needs
 * a private key and known_hosts, which fleet never handles.
 */
export function operatorNextSteps(config: FleetConfig): string[] {
  if (tokenNeed(config)) return [];
  return [
    `The FluxInstance reads ${repoUrl(config)} with Secret ${SYNC_SECRET.namespace}/${SYNC_SECRET.name}; create it with a deploy key that can read the repository:`,
    `  kubectl create secret generic ${SYNC_SECRET.name} --namespace=${SYNC_SECRET.namespace} --from-file=identity=<private key file> --from-file=known_hosts=<known_hosts file>`,
  ];
}

/**
 * Why nothing may be bootstrapped yet: fleet.yaml's git coordinates still hold placeholders (the
 * demo's, or what init --adopt could not read). Flux would be installed syncing from a repository
 * that is not this one, and Terraform and the FluxInstance would carry it.
 */
export function placeholderProblem(config: FleetConfig, flag?: string): { field: string; rule: string; fix: string } | undefined {
  const left = placeholdersLeft(config).filter((p) => p.field.startsWith("git."));
  if (left.length === 0) return undefined;
  const values = left.map((p) => `${p.field} (${p.value})`).join(" and ");
  return {
    field: flag ?? `fleet.yaml: ${left.map((p) => p.field).join(", ")}`,
    rule: `${flag ? `cannot run while fleet.yaml's ${values}` : values} ${left.length === 1 ? "is a placeholder" : "are placeholders"}: the cluster would sync from a repository that is not this one`,
    fix: `set ${left.map((p) => p.field).join(" and ")} in fleet.yaml to this repository's, then run again`,
  };
}

/** Why the pinned operator cannot install this cluster's pin, or undefined when it can. */
export function operatorPinProblem(config: FleetConfig, name: string): { field: string; rule: string; fix: string } | undefined {
  const pin = fluxVersionFor(config, name);
  if (operatorInstalls(pin)) return undefined;
  const newest = OPERATOR_FLUX_RELEASES[OPERATOR_FLUX_RELEASES.length - 1]!;
  return {
    field: "--bootstrap",
    rule: `the Flux Operator chart ${OPERATOR_CHART.version} fleet pins cannot install Flux ${pin} (it embeds ${OPERATOR_FLUX_RELEASES[0]} to ${newest}, and only those releases)`,
    fix: `pin one it installs (fleet upgrade --flux-version ${newest}), or bootstrap with --bootstrap flux`,
  };
}

/** A method that cannot run on this cluster: the file it works from is missing, or another method's is there. */
export function methodProblem(cs: ChangeSet, name: string, method: BootstrapMethod): { field: string; rule: string; fix: string } | undefined {
  const own = METHOD_FILES.find((m) => m.method === method);
  if (own && !cs.exists(own.file(name)))
    return { field: "--method", rule: `cluster '${name}' has no ${own.file(name)}`, fix: `bootstrap it with --method ${methodOf(cs, name)}, or add it with ${own.add}` };
  const other = METHOD_FILES.find((m) => m.method !== method && cs.exists(m.file(name)));
  if (method === "flux" && other)
    return { field: "--method", rule: `cluster '${name}' is bootstrapped with ${other.method} (${other.file(name)})`, fix: `bootstrap it with --method ${other.method}` };
  return undefined;
}

const methodOf = (cs: ChangeSet, name: string): BootstrapMethod => METHOD_FILES.find((m) => cs.exists(m.file(name)))?.method ?? "flux";

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
    method: methodOf(cs, name),
  };
}
