/** Build what a generator may know of the repo, read once before it runs. */
import * as path from "node:path";
import { readAdoption } from "./adopt.js";
import { ChangeSet } from "../changeset/changeset.js";
import { CONFIG_FILE, defaultConfig, loadConfig, sharedPin } from "./config.js";
import { InputError } from "./errors.js";
import { apiVersions } from "../flux/index.js";
import type { Context } from "./generator.js";
import { findFleetRepo } from "../model/root.js";
import { readOwnOrigin } from "../model/origin.js";
import { readRepo } from "../model/repo.js";

export interface OpenOptions {
  force?: boolean;
}

/** The repo a writing command works on: --repo, else the nearest fleet.yaml above cwd. */
export function locateRepo(repoFlag: string | undefined, cwd: string): string {
  const root = findFleetRepo(repoFlag, cwd);
  if (root) return root;
  if (repoFlag !== undefined)
    throw new InputError("--repo", `${path.resolve(cwd, repoFlag)} holds no ${CONFIG_FILE}`, "point --repo at a fleet repo, or run fleet init there first");
  throw new InputError(
    "--repo",
    `no ${CONFIG_FILE} in ${cwd} or any directory above it`,
    "run inside a fleet repo, pass --repo DIR, or create one with fleet init (--adopt for an existing Flux repo)",
  );
}

export function repoContext(root: string, opts: OpenOptions & { configOptional?: boolean } = {}): Context {
  const cs = new ChangeSet(root, opts);
  // A command for any Flux repo works without fleet.yaml, on fleet's defaults.
  const config = opts.configOptional && !cs.exists(CONFIG_FILE) ? defaultConfig() : loadConfig(cs);
  const model = readRepo(cs, { before: true });
  return {
    cs,
    config,
    environments: config.environments.map((e) => e.name),
    tenants: model.tenants.map((t) => t.name),
    api: apiVersions(sharedPin(config)),
    model,
  };
}

/** For init: defaults, and with --adopt what the existing tree already says (and where from). */
export async function initContext(root: string, adopt: boolean, opts: OpenOptions = {}): Promise<Context> {
  const cs = new ChangeSet(root, opts);
  const config = defaultConfig();
  if (!adopt) {
    const environments = config.environments.map((e) => e.name);
    const model = readRepo(cs, { before: true });
    const origin = await readOwnOrigin(root);
    return { cs, config, environments, tenants: model.tenants.map((t) => t.name), api: apiVersions(sharedPin(config)), model, ...(origin ? { origin } : {}) };
  }
  const adopted = await readAdoption(cs);
  if (adopted.environments.length === 0)
    throw new InputError(
      "--adopt",
      `found no environment overlay (tenants/<env>/kustomization.yaml) in ${root}`,
      "run fleet init without --adopt to scaffold a new repo, or adopt from the Flux repo's root",
    );
  if (adopted.fluxVersion) config.flux.version = adopted.fluxVersion;
  if (adopted.git) config.git = { ...config.git, ...adopted.git };
  else config.git.repository = path.basename(root) || config.git.repository;
  if (adopted.platformTeam) config.platformTeam = adopted.platformTeam;
  const model = readRepo(cs, { before: true });
  return { cs, config, environments: adopted.environments, tenants: model.tenants.map((t) => t.name), api: apiVersions(sharedPin(config)), model, adopted };
}
