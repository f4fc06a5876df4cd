/**
 * `fleet init [dir]`: scaffold a fleet repo (config, runbook, overlays, example tenants), or with
 * `--adopt` write only fleet.yaml into an existing Flux repo, from what its tree, its origin and
 * its CODEOWNERS say (and .gitignore's entries for fleet's own files where they are missing).
 */
import { JOURNAL_FILE } from "../src/changeset/journal.js";
import { LOCK_FILE } from "../src/changeset/lock.js";
import { DEMO, defaultEnvironment, GIT_PROVIDERS, PLACEHOLDER_FIELDS, type FleetConfig } from "../src/core/config.js";
import { EXTRA_COMPONENTS, releaseRule } from "../src/flux/index.js";
import type { Answers, Context, Generator, FleetAction } from "../src/core/generator.js";
import * as v from "../src/core/validation.js";
import { DEFAULT_LAYOUT } from "../src/model/overlays.js";
import { fleetVersion } from "../src/core/paths.js";
import { defaultSourcePrefixes, NO_TENANT_POLICIES } from "../src/core/tenant-policies.js";
import { admissionActions } from "./admission.js";
import { ciActions, ciFiles } from "./ci.js";
import { DEFAULT_SECRET, tenantActions } from "./tenant-actions.js";

export const EXAMPLE_TENANTS = ["team-payments", "team-search"];

/** The example team generator (`fleet allow-ingress`) and the template it renders. */
export const EXAMPLE_TEAM_FILES = [
  { path: ".fleet/generators/allow-ingress.mjs", template: "team/allow-ingress.mjs" },
  { path: ".fleet/templates/allow-ingress/network-policy.yaml.hbs", template: "team/network-policy.yaml.hbs" },
];

const str = (a: Answers, k: string) => String(a[k] ?? "");

/**
 * What fleet's lock, journal and temp files need ignored (as templates/repo/gitignore has them):
 * adopt adds those a repo's .gitignore lacks, so they are never committed.
 */
export const FLEET_IGNORES = [`${LOCK_FILE}*`, JOURNAL_FILE, ".*.fleet-*.tmp"];

/** Adopted clusters whose release differs from the repo's pin, pinned each on its own. */
function clusterPins(ctx: Context, pin: string): Record<string, { version: string }> | undefined {
  const entries = Object.entries(ctx.adopted?.clusterVersions ?? {}).filter(([, ver]) => ver !== pin);
  return entries.length > 0 ? Object.fromEntries(entries.map(([name, version]) => [name, { version }])) : undefined;
}

function configOf(a: Answers, ctx: Context): FleetConfig {
  const pins = a.adopt === true ? clusterPins(ctx, str(a, "fluxVersion")) : undefined;
  const git: FleetConfig["git"] = {
    provider: str(a, "provider") as FleetConfig["git"]["provider"],
    owner: str(a, "owner"),
    repository: str(a, "repository"),
    branch: str(a, "branch"),
    ...(a.url ? { url: str(a, "url") } : {}),
    ...(a.hostname ? { hostname: str(a, "hostname") } : {}),
    ...(a.personal === true ? { personal: true } : {}),
  };
  return {
    flux: { version: str(a, "fluxVersion"), componentsExtra: a.componentsExtra as string[], ...(pins ? { clusters: pins } : {}) },
    git,
    platformTeam: str(a, "platformTeam"),
    environments: (a.environments as string[]).map(defaultEnvironment),
    tenantDefaults: { role: "admin", branch: "main", path: "./deploy", interval: "1m", podSecurity: "restricted" },
    // A new repo gets every tenant policy; an adopted one none until it opts in (its tenants
    // were not written with them, and validate would flag what it never asked for).
    tenantPolicies:
      a.adopt === true
        ? NO_TENANT_POLICIES
        : { networkPolicy: true, podSecurity: true, admissionPolicy: true, sourcePrefixes: defaultSourcePrefixes(git) },
  };
}

/** Where the example tenants' own config repositories would live, next to the fleet repo. */
function exampleUrl(config: FleetConfig, tenant: string): string {
  const { provider, owner, url } = config.git;
  if (provider === "git" && url) return `${new URL(url).origin}/${owner || "platform"}/${tenant}-config`;
  return `https://${provider === "gitlab" ? "gitlab.com" : "github.com"}/${owner}/${tenant}-config`;
}

const notAdopting = (a: Answers) => a.adopt !== true;

/**
 * Where init's git coordinates come from when no flag gives them: the demo's placeholders
 * (asked for with --demo), what --adopt read, or the directory's own origin remote. Nothing else:
 * a new repo without origin or flags is asked for them (no placeholder lands silently).
 */
function known(ctx: Context, a: Answers): Partial<Pick<FleetConfig["git"], "provider" | "owner" | "repository" | "url" | "branch">> | undefined {
  if (a.demo === true) return DEMO;
  if (ctx.adopted) return ctx.config.git;
  return ctx.origin;
}

/** The demo's placeholder values, by the setting they stand in for. */
const DEMO_PLACEHOLDERS: Record<string, string> = { "git.owner": DEMO.owner, "git.repository": DEMO.repository, platformTeam: DEMO.platformTeam };

/** The settings that hold a placeholder, with its value, and why (fleet.yaml says both). */
function placeholdersOf(a: Answers, config: FleetConfig, unread: { git: boolean; platformTeam: boolean }): { values: Record<string, string>; why: string } | undefined {
  const valueOf = (field: string) => PLACEHOLDER_FIELDS[field]!(config);
  const values: Record<string, string> =
    a.demo === true
      ? Object.fromEntries(Object.entries(DEMO_PLACEHOLDERS).filter(([f, demo]) => valueOf(f) === demo))
      : Object.fromEntries(
          [...(unread.git ? ["git.owner", "git.repository"] : []), ...(unread.platformTeam ? ["platformTeam"] : [])].map((f) => [f, valueOf(f) ?? ""]),
        );
  if (Object.keys(values).length === 0) return undefined;
  return { values, why: a.demo === true ? "fleet init --demo wrote this repo with the demo's coordinates" : "fleet init --adopt could not read these from the repo" };
}

export const init: Generator = {
  name: "init",
  description: "Scaffold a fleet repo: fleet.yaml, clusters/, infrastructure/ and tenants/ overlays, CODEOWNERS, runbook",
  needsRepo: false,
  answers: [
    { name: "dir", positional: true, message: "Directory of the fleet repo", ask: false, default: () => "." },
    {
      name: "adopt",
      message: "Adopt an existing Flux repo: write only fleet.yaml, from what the tree says",
      type: "confirm",
      ask: false,
      default: () => false,
    },
    {
      name: "demo",
      message: `Write the demo repo: placeholder git coordinates (${DEMO.owner}/${DEMO.repository}) and example tenants, marked as such in fleet.yaml`,
      type: "confirm",
      ask: false,
      when: notAdopting,
      default: () => false,
    },
    {
      name: "provider",
      message: "Git provider of the fleet repo",
      type: "list",
      choices: () => [...GIT_PROVIDERS],
      default: (ctx, a) => known(ctx, a)?.provider ?? "github",
    },
    {
      name: "owner",
      message: "Owner (organisation, user or group) of the fleet repo",
      hint: "read from the directory's origin remote when it has one; --demo for the demo's placeholders",
      default: (ctx, a) => known(ctx, a)?.owner,
      defaultHelp: "read from the directory's origin remote (--demo: acme)",
      validate: (val) => v.gitName(String(val)),
    },
    {
      name: "repository",
      message: "Name of the fleet repo",
      hint: "read from the directory's origin remote when it has one; --demo for the demo's placeholders",
      default: (ctx, a) => known(ctx, a)?.repository,
      defaultHelp: "read from the directory's origin remote (--demo: fleet-infra)",
      validate: (val) => v.gitName(String(val)),
    },
    {
      name: "url",
      message: "Git URL of the fleet repo (provider git)",
      when: (a) => a.provider === "git",
      default: (ctx, a) => known(ctx, a)?.url,
      validate: (val) => v.gitUrl(String(val)),
    },
    {
      name: "hostname",
      message: "Host of a self-hosted GitHub or GitLab (flux bootstrap --hostname); empty for github.com or gitlab.com",
      ask: false,
      when: (a) => a.provider !== "git",
      default: (ctx, a) => (a.demo === true ? "" : (ctx.adopted ? ctx.config.git.hostname : undefined) ?? ""),
      validate: (val) => (val === "" ? undefined : v.hostname(String(val))),
    },
    {
      name: "personal",
      message: "The owner is a user, not an organisation or group (flux bootstrap --personal)",
      type: "confirm",
      ask: false,
      when: (a) => a.provider !== "git",
      default: (ctx) => ctx.config.git.personal === true && ctx.adopted !== undefined,
    },
    {
      name: "branch",
      message: "Branch Flux reconciles",
      default: (ctx, a) => known(ctx, a)?.branch ?? "main",
      validate: (val) => v.branchName(String(val)),
    },
    {
      name: "fluxVersion",
      message: "Flux release to pin (vX.Y.Z)",
      default: (ctx) => ctx.config.flux.version,
      validate: (val) => releaseRule(String(val)),
    },
    {
      name: "componentsExtra",
      flag: "components-extra",
      message: "Extra Flux controllers",
      type: "checkbox",
      multiple: true,
      choices: () => [...EXTRA_COMPONENTS],
      default: (ctx) => ctx.config.flux.componentsExtra,
    },
    {
      name: "environments",
      flag: "env",
      message: "Environments",
      multiple: true,
      hint: "comma-separated, e.g. staging,prod",
      default: (ctx) => ctx.environments,
      defaultHelp: "staging,prod (with --adopt: the environment overlays found)",
      validate: (val) => {
        const envs = val as string[];
        if (envs.length === 0) return "must name at least one environment";
        for (const e of envs) {
          const broken = v.envName(e);
          if (broken) return broken.startsWith(`'${e}'`) ? broken : `'${e}' ${broken}`;
        }
        const dup = envs.find((e, i) => envs.indexOf(e) !== i);
        return dup ? `lists '${dup}' twice` : undefined;
      },
    },
    {
      name: "platformTeam",
      message: "Platform team that owns the repo (CODEOWNERS)",
      default: (ctx, a) =>
        ctx.adopted?.platformTeam ?? (a.demo === true && a.owner === DEMO.owner ? DEMO.platformTeam : a.owner ? `@${String(a.owner)}/platform` : ctx.config.platformTeam),
      defaultHelp: "@<owner>/platform (with --adopt: the repo's CODEOWNERS)",
      validate: (val) => v.codeOwner(String(val)),
    },
    {
      name: "examples",
      message: `Add two example tenants (${EXAMPLE_TENANTS.join(", ")})`,
      type: "confirm",
      when: notAdopting,
      default: (_ctx, a) => a.demo === true,
      defaultHelp: "true with --demo",
    },
  ],
  actions: (a, ctx) => {
    const config = configOf(a, ctx);
    const found = ctx.adopted;
    // Placeholders fleet.yaml marks as such: adopting, nothing read, and the default kept.
    const unread = {
      flux: !!found && !found.fluxVersion && config.flux.version === ctx.config.flux.version,
      git: !!found && !found.git && config.git.owner === ctx.config.git.owner && config.git.repository === ctx.config.git.repository,
      platformTeam: !!found && !found.platformTeam && config.platformTeam === `@${config.git.owner}/platform`,
    };
    const placeholders = placeholdersOf(a, config, unread);
    const fleetYaml: FleetAction = { type: "fleet:render", path: "fleet.yaml", template: "repo/fleet.yaml", data: { ...config, unread, placeholders } };
    if (a.adopt === true)
      return [fleetYaml, ...FLEET_IGNORES.map((line): FleetAction => ({ type: "fleet:line", path: ".gitignore", key: line, line }))];
    const envs = config.environments.map((e) => e.name);
    return [
      fleetYaml,
      { type: "fleet:render", path: ".gitignore", template: "repo/gitignore", data: {} },
      { type: "fleet:render", path: ".github/CODEOWNERS", template: "repo/CODEOWNERS", data: config, ifMissing: true },
      { type: "fleet:render", path: "renovate.json", template: "repo/renovate.json", data: {} },
      { type: "fleet:render", path: "README.md", template: "repo/README.md", data: { ...config, envs, ciFiles: ciFiles(config.git.provider) } },
      { type: "fleet:render", path: "clusters/README.md", template: "repo/clusters-README.md", data: { envs } },
      // An example team generator and its template: seeds the team owns and edits from then on.
      ...EXAMPLE_TEAM_FILES.map((f): FleetAction => ({ type: "fleet:render", ...f, data: {}, ifMissing: true })),
      ...ciActions(config, fleetVersion()),
      { type: "fleet:kustomization", path: "infrastructure/base/kustomization.yaml" },
      ...admissionActions(config),
      ...envs.flatMap((env): FleetAction[] => [
        { type: "fleet:kustomization", path: `infrastructure/${env}/kustomization.yaml`, addResources: ["../base"] },
        { type: "fleet:kustomization", path: `tenants/${env}/kustomization.yaml` },
      ]),
      ...(a.examples === true
        ? EXAMPLE_TENANTS.flatMap((name) =>
            tenantActions(
              {
                name,
                url: exampleUrl(config, name),
                ref: { branch: "main" },
                secretRef: DEFAULT_SECRET,
                path: "./deploy",
                interval: "1m",
                role: "admin",
                environments: envs,
                quota: [],
                flagged: "",
                podSecurity: config.tenantDefaults.podSecurity,
              },
              config,
              // New repos are written in per-tenant units (design section 2).
              Object.fromEntries(envs.map((env) => [env, { layout: DEFAULT_LAYOUT }])),
            ),
          )
        : []),
    ];
  },
  notes: (a, ctx) => {
    if (ctx.adopted) return ctx.adopted.notes;
    if (a.demo === true)
      return [
        `demo repo: the git coordinates (${str(a, "owner")}/${str(a, "repository")}) and the platform team are placeholders, and ${EXAMPLE_TENANTS.join(" and ")} are example tenants; fleet.yaml lists the placeholders, and fleet bootstrap refuses to run until they are set`,
      ];
    const o = ctx.origin;
    const fromOrigin = o && o.owner === a.owner && o.repository === a.repository;
    return [
      `git: ${str(a, "provider")} ${str(a, "owner")}/${str(a, "repository")}, branch ${str(a, "branch")} (${fromOrigin ? "read from the origin remote" : "from flags"}); platform team ${str(a, "platformTeam")}`,
    ];
  },
  nextSteps: (a, ctx) => {
    if (a.adopt === true) return ["fleet.yaml written; `fleet new-tenant` and `fleet new-env` now work in this repo."];
    const dir = str(a, "dir");
    const cd = dir === "." ? "" : `cd ${dir} && `;
    return [
      ctx.origin ? `${cd}git add -A && git commit -m "fleet init"` : `${cd}git init && git add -A && git commit -m "fleet init"`,
      ...(a.demo === true ? ["Before any cluster is bootstrapped: set git.owner, git.repository and platformTeam in fleet.yaml to your repo's"] : []),
      `Add a cluster: fleet new-cluster <name> --env ${(a.environments as string[])[0]}`,
      `Onboard a team: fleet new-tenant <name> --url https://...`,
      ciFiles(str(a, "provider") as FleetConfig["git"]["provider"]).length > 0
        ? `CI (${ciFiles(str(a, "provider") as FleetConfig["git"]["provider"])[0]}): set the CI variable FLEET_PACKAGE to where your platform team keeps fleet ${fleetVersion()} (its npm pack tarball's URL, or a git URL with its tag)`
        : "CI: fleet writes none for a plain git host; run `fleet validate --cluster <name>` for each cluster on every pull request",
    ];
  },
};

export default init;
