/**
 * fleet.yaml: settings only (design section 2). What the tree already says (tenants, clusters)
 * is read from the tree, never duplicated here.
 */
import { visit, type Document } from "yaml";
import type { ChangeSet } from "../changeset/changeset.js";
import { InputError, InputErrors } from "./errors.js";
import { compareMinors, DEFAULT_FLUX_VERSION, EXTRA_COMPONENTS, fluxMinor, releaseRule } from "../flux/index.js";
import * as v from "./validation.js";
import { CONFIG_FILE } from "../model/root.js";
import { parseYaml } from "./yaml-edit.js";
import { NO_TENANT_POLICIES, POD_SECURITY_LEVELS, sourcePrefix, type PodSecurityLevel, type TenantPolicies } from "./tenant-policies.js";

export { CONFIG_FILE } from "../model/root.js";

export interface Quota {
  cpu: string;
  memory: string;
  pods: string;
}

export interface Resources {
  cpu: string;
  memory: string;
}

export interface EnvConfig {
  name: string;
  /** How often tenant Kustomizations reconcile in this environment. */
  interval: string;
  /** The default ResourceQuota of a tenant namespace in this environment. */
  quota: Quota;
  /** The LimitRange that gives containers requests, so the quota can admit them. */
  limitRange: { defaultRequest: Resources; default: Resources };
}

export interface FleetConfig {
  flux: {
    version: string;
    componentsExtra: string[];
    /** Clusters that run another release than `version`, by cluster name (an adopted repo's). */
    clusters?: Record<string, { version: string }>;
  };
  git: {
    provider: "github" | "gitlab" | "git";
    owner: string;
    repository: string;
    branch: string;
    url?: string;
    /** github/gitlab: the owner is a user, not an organisation or group (flux --personal). */
    personal?: boolean;
    /** github/gitlab: a self-hosted server (flux --hostname). */
    hostname?: string;
  };
  platformTeam: string;
  environments: EnvConfig[];
  tenantDefaults: { role: string; branch: string; path: string; interval: string; podSecurity: PodSecurityLevel };
  /** What fleet writes around each tenant; none of it in a fleet.yaml that does not say (src/core/tenant-policies.ts). */
  tenantPolicies: TenantPolicies;
  /**
   * Settings that hold a placeholder (the demo's `acme`, or what `init --adopt` could not read),
   * by field, with the placeholder value: a field still holding it is not real, and nothing runs
   * against it (bootstrap). Setting the real value is enough; the entry can then go.
   */
  placeholders?: Record<string, string>;
}

/** The settings a placeholder can stand in for, and how each is read from the config. */
export const PLACEHOLDER_FIELDS: Record<string, (c: FleetConfig) => string | undefined> = {
  "git.owner": (c) => c.git.owner,
  "git.repository": (c) => c.git.repository,
  "git.url": (c) => c.git.url,
  platformTeam: (c) => c.platformTeam,
};

/** The demo repo's coordinates (`fleet init --demo`): placeholders, marked as such in its fleet.yaml. */
export const DEMO = { provider: "github", owner: "acme", repository: "fleet-infra", branch: "main", platformTeam: "@acme/platform" } as const;

/** The placeholders the config still holds, as `field (value)`, in PLACEHOLDER_FIELDS order. */
export function placeholdersLeft(config: FleetConfig): Array<{ field: string; value: string }> {
  return Object.entries(PLACEHOLDER_FIELDS)
    .filter(([field, read]) => config.placeholders?.[field] !== undefined && read(config) === config.placeholders[field])
    .map(([field]) => ({ field, value: config.placeholders![field]! }));
}

export const GIT_PROVIDERS = ["github", "gitlab", "git"] as const;
export const TENANT_ROLES = ["admin", "edit", "view"] as const;

/** Sizes for an environment fleet was not told about: small outside prod, larger in it. */
export function defaultEnvironment(name: string): EnvConfig {
  const prod = /^prod/.test(name);
  return {
    name,
    interval: prod ? "5m" : "10m",
    quota: prod ? { cpu: "8", memory: "16Gi", pods: "100" } : { cpu: "2", memory: "4Gi", pods: "30" },
    limitRange: {
      defaultRequest: { cpu: "100m", memory: "128Mi" },
      default: { cpu: "500m", memory: "512Mi" },
    },
  };
}

/** The Flux release a cluster is pinned to: its own entry in fleet.yaml, else the repo's pin. */
export function fluxVersionFor(config: Pick<FleetConfig, "flux">, cluster: string): string {
  return config.flux.clusters?.[cluster]?.version ?? config.flux.version;
}

/**
 * The release whose API versions objects shared by every cluster (tenants, environments) are
 * written at: the oldest pin in fleet.yaml, so each cluster serves what it is given.
 */
export function sharedPin(config: Pick<FleetConfig, "flux">): string {
  const pins = [config.flux.version, ...Object.values(config.flux.clusters ?? {}).map((c) => c.version)];
  return pins.reduce((oldest, p) => (compareMinors(fluxMinor(p), fluxMinor(oldest)) < 0 ? p : oldest));
}

/** A cluster as `fleet list` names it: its directory, or its path below clusters/. */
const clusterName: v.Rule = (s) =>
  /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/.test(s)
    ? undefined
    : "must be a cluster's name as fleet list shows it (letters, digits, '.', '_', '-', and '/' between path parts)";

export function defaultConfig(): FleetConfig {
  return {
    flux: { version: DEFAULT_FLUX_VERSION, componentsExtra: ["image-reflector-controller", "image-automation-controller"] },
    git: { provider: DEMO.provider, owner: DEMO.owner, repository: DEMO.repository, branch: DEMO.branch },
    platformTeam: DEMO.platformTeam,
    environments: [defaultEnvironment("staging"), defaultEnvironment("prod")],
    tenantDefaults: { role: "admin", branch: "main", path: "./deploy", interval: "1m", podSecurity: "restricted" },
    tenantPolicies: NO_TENANT_POLICIES,
  };
}

type Json = Record<string, unknown>;

/**
 * fleet.yaml as plain data, every scalar the string it is written as: `branch: 0o17` is the
 * branch 0o17, not 15, and an environment `1e3` stays 1e3 (and is then refused by name, not
 * turned into 1000), `null` the text null. Only a key with nothing after it is absent. The
 * document itself is left as parsed.
 */
function asWritten(doc: Document): Json {
  const strings = doc.clone();
  visit(strings, {
    Scalar(_key, node) {
      if (typeof node.value !== "string" && node.source !== undefined && node.source !== "") node.value = node.source;
    },
  });
  const js = strings.toJS() as unknown;
  return js && typeof js === "object" && !Array.isArray(js) ? (js as Json) : {};
}

/** `tenantPolicies`: each switch true or false (absent: false), and the prefixes each a URL prefix. */
function readTenantPolicies(tp: Json | undefined, field: (p: string) => string, errors: InputError[]): TenantPolicies {
  if (!tp) return NO_TENANT_POLICIES;
  const flag = (key: "networkPolicy" | "podSecurity" | "admissionPolicy"): boolean => {
    const val = tp[key];
    if (val === undefined || val === null) return false;
    if (val !== "true" && val !== "false") errors.push(new InputError(field(`tenantPolicies.${key}`), "must be true or false"));
    return val === "true";
  };
  const list = tp.sourcePrefixes ?? [];
  const sourcePrefixes: string[] = [];
  if (!Array.isArray(list)) errors.push(new InputError(field("tenantPolicies.sourcePrefixes"), "must be a list of URL prefixes"));
  else
    list.forEach((p, i) => {
      const broken = typeof p === "string" ? sourcePrefix(p) : "must be a single URL prefix";
      if (broken) errors.push(new InputError(field(`tenantPolicies.sourcePrefixes[${i}]`), broken));
      else sourcePrefixes.push(p as string);
    });
  return { networkPolicy: flag("networkPolicy"), podSecurity: flag("podSecurity"), admissionPolicy: flag("admissionPolicy"), sourcePrefixes };
}

/** Read and check fleet.yaml; every broken field is reported at once. */
export function parseConfig(text: string, file = CONFIG_FILE): { config: FleetConfig; doc: Document } {
  const doc = parseYaml(file, text);
  const raw = asWritten(doc);
  const errors: InputError[] = [];
  const field = (p: string) => `${file}: ${p}`;
  const str = (obj: Json | undefined, key: string, p: string, rule: v.Rule, dflt?: string): string => {
    const val = obj?.[key];
    if (val === undefined || val === null) {
      if (dflt !== undefined) return dflt;
      errors.push(new InputError(field(p), "is required"));
      return "";
    }
    if (typeof val !== "string") {
      errors.push(new InputError(field(p), "must be a single value, not a list or a mapping"));
      return "";
    }
    const s = val;
    const broken = rule(s);
    if (broken) errors.push(new InputError(field(p), broken));
    return s;
  };
  const obj = (val: unknown, p: string): Json | undefined => {
    if (val === undefined || val === null) return undefined;
    if (typeof val !== "object" || Array.isArray(val)) {
      errors.push(new InputError(field(p), "must be a mapping"));
      return undefined;
    }
    return val as Json;
  };

  const flux = obj(raw.flux, "flux");
  const version = str(flux, "version", "flux.version", releaseRule);
  const extras = flux?.componentsExtra ?? [];
  if (!Array.isArray(extras) || extras.some((c) => !(EXTRA_COMPONENTS as readonly string[]).includes(String(c))))
    errors.push(new InputError(field("flux.componentsExtra"), `must list only ${EXTRA_COMPONENTS.join(", ")}`));

  const pins = obj(flux?.clusters, "flux.clusters");
  const clusterPins: Record<string, { version: string }> = {};
  for (const [name, entry] of Object.entries(pins ?? {})) {
    const p = `flux.clusters.${name}`;
    const badName = clusterName(name);
    if (badName) errors.push(new InputError(field(p), badName));
    const version = str(obj(entry, p), "version", `${p}.version`, releaseRule);
    clusterPins[name] = { version };
  }

  const git = obj(raw.git, "git");
  const provider = str(git, "provider", "git.provider", v.oneOf(GIT_PROVIDERS), "github");
  const gitCfg: FleetConfig["git"] = {
    provider: provider as FleetConfig["git"]["provider"],
    owner: str(git, "owner", "git.owner", v.gitName, ""),
    repository: str(git, "repository", "git.repository", v.gitName, ""),
    branch: str(git, "branch", "git.branch", v.branchName, "main"),
  };
  if (git?.url !== undefined) gitCfg.url = str(git, "url", "git.url", v.gitUrl);
  if (git?.personal !== undefined) {
    if (git.personal !== "true" && git.personal !== "false") errors.push(new InputError(field("git.personal"), "must be true or false"));
    else gitCfg.personal = git.personal === "true";
  }
  if (git?.hostname !== undefined) gitCfg.hostname = str(git, "hostname", "git.hostname", v.hostname);
  if (gitCfg.provider === "git" && !gitCfg.url)
    errors.push(new InputError(field("git.url"), "is required when git.provider is git"));

  const envList = raw.environments;
  const environments: EnvConfig[] = [];
  if (!Array.isArray(envList) || envList.length === 0)
    errors.push(new InputError(field("environments"), "must list at least one environment"));
  else
    envList.forEach((e, i) => {
      const p = `environments[${i}]`;
      const env = typeof e === "string" ? { name: e } : obj(e, p);
      const name = str(env, "name", `${p}.name`, v.envName);
      const d = defaultEnvironment(name);
      const quota = obj(env?.quota, `${p}.quota`);
      const lr = obj(env?.limitRange, `${p}.limitRange`);
      const res = (o: Json | undefined, k: "defaultRequest" | "default"): Resources => {
        const r = obj(o?.[k], `${p}.limitRange.${k}`);
        return {
          cpu: str(r, "cpu", `${p}.limitRange.${k}.cpu`, v.quantity, d.limitRange[k].cpu),
          memory: str(r, "memory", `${p}.limitRange.${k}.memory`, v.quantity, d.limitRange[k].memory),
        };
      };
      environments.push({
        name,
        interval: str(env, "interval", `${p}.interval`, v.duration, d.interval),
        quota: {
          cpu: str(quota, "cpu", `${p}.quota.cpu`, v.quantity, d.quota.cpu),
          memory: str(quota, "memory", `${p}.quota.memory`, v.quantity, d.quota.memory),
          pods: str(quota, "pods", `${p}.quota.pods`, v.count, d.quota.pods),
        },
        limitRange: { defaultRequest: res(lr, "defaultRequest"), default: res(lr, "default") },
      });
    });
  const names = environments.map((e) => e.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) errors.push(new InputError(field("environments"), `lists '${dup}' twice`));

  const td = obj(raw.tenantDefaults, "tenantDefaults");
  const dflt = defaultConfig().tenantDefaults;
  const config: FleetConfig = {
    flux: {
      version,
      componentsExtra: Array.isArray(extras) ? extras.map(String) : [],
      ...(Object.keys(clusterPins).length > 0 ? { clusters: clusterPins } : {}),
    },
    git: gitCfg,
    platformTeam: str(raw, "platformTeam", "platformTeam", v.codeOwner, DEMO.platformTeam),
    environments,
    tenantDefaults: {
      role: str(td, "role", "tenantDefaults.role", v.dnsLabel, dflt.role),
      branch: str(td, "branch", "tenantDefaults.branch", v.branchName, dflt.branch),
      path: str(td, "path", "tenantDefaults.path", v.repoPath, dflt.path),
      interval: str(td, "interval", "tenantDefaults.interval", v.duration, dflt.interval),
      podSecurity: str(td, "podSecurity", "tenantDefaults.podSecurity", v.oneOf(POD_SECURITY_LEVELS), dflt.podSecurity) as PodSecurityLevel,
    },
    tenantPolicies: readTenantPolicies(obj(raw.tenantPolicies, "tenantPolicies"), field, errors),
  };
  const marked = obj(raw.placeholders, "placeholders");
  if (marked) {
    config.placeholders = {};
    for (const [k, val] of Object.entries(marked)) {
      if (!(k in PLACEHOLDER_FIELDS)) errors.push(new InputError(field(`placeholders.${k}`), `is not a setting that can hold a placeholder (${Object.keys(PLACEHOLDER_FIELDS).join(", ")})`));
      else if (typeof val !== "string") errors.push(new InputError(field(`placeholders.${k}`), "must be the placeholder value, a single string"));
      else config.placeholders[k] = val;
    }
  }
  if (errors.length > 0) throw new InputErrors(errors, `${file} is not valid:`);
  return { config, doc };
}

/** fleet.yaml as the change set has it: the one reading of it every command goes through. */
export function loadConfig(cs: ChangeSet): FleetConfig {
  const text = cs.read(CONFIG_FILE);
  if (text === undefined) throw new Error(`${CONFIG_FILE} is missing`);
  return parseConfig(text).config;
}
