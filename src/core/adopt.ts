/**
 * What an existing Flux repo already says about itself, for `fleet init --adopt`: its
 * environments (tenants/<env>/ overlays), its clusters and the Flux release each runs, its git
 * coordinates (the origin remote, else a cluster's sync URL) and its platform team (CODEOWNERS).
 * Each fact comes with a note saying where it was read, or that it could not be.
 */
import type { ChangeSet } from "../changeset/changeset.js";
import { isRelease } from "../flux/index.js";
import { readClusters, type Cluster } from "../model/clusters.js";
import { readPlatformTeam } from "../model/codeowners.js";
import { parseGitUrl, readOrigin, type GitCoordinates } from "../model/origin.js";
import type { FleetConfig } from "./config.js";
import { detectEnvironments } from "../model/overlays.js";
import { printable } from "./text.js";
import * as v from "./validation.js";

export interface Adopted {
  environments: string[];
  clusters: Cluster[];
  /** The release most clusters run (the newest of those tied). */
  fluxVersion?: string;
  /** Every cluster's exact release, by cluster name, where it says one. */
  clusterVersions: Record<string, string>;
  git?: Partial<FleetConfig["git"]>;
  platformTeam?: string;
  /** What was read from where, and what could not be read. */
  notes: string[];
}

const semver = (s: string) => s.slice(1).split(".").map(Number);
const newer = (a: string, b: string) => {
  const [x, y] = [semver(a), semver(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i]! > y[i]!;
  return false;
};

function fluxFacts(clusters: Cluster[], notes: string[]): Pick<Adopted, "fluxVersion" | "clusterVersions"> {
  const clusterVersions: Record<string, string> = {};
  const count = new Map<string, number>();
  for (const c of clusters) {
    if (c.fluxVersion && isRelease(c.fluxVersion)) {
      clusterVersions[c.name] = c.fluxVersion;
      count.set(c.fluxVersion, (count.get(c.fluxVersion) ?? 0) + 1);
      notes.push(`cluster ${c.name} runs Flux ${c.fluxVersion} (${c.fluxVersionFrom})`);
    } else if (c.fluxVersion)
      notes.push(`cluster ${c.name} runs Flux ${c.fluxVersion} (${c.fluxVersionFrom}), a pre-release, which is no pin: it follows flux.version`);
    else if (c.fluxVersionRange)
      notes.push(`cluster ${c.name}: its FluxInstance asks for Flux ${c.fluxVersionRange} (${c.fluxVersionFrom}), a range, not a release: it follows flux.version`);
    else notes.push(`cluster ${c.name}: nothing says which Flux release it runs (no # Flux Version: header in ${c.path}/flux-system/gotk-components.yaml): it follows flux.version`);
  }
  const fluxVersion = [...count].reduce<[string, number] | undefined>(
    (best, [ver, n]) => (!best || n > best[1] || (n === best[1] && newer(ver, best[0])) ? [ver, n] : best),
    undefined,
  )?.[0];
  return { ...(fluxVersion ? { fluxVersion } : {}), clusterVersions };
}

/** Coordinates fleet.yaml can hold: names it accepts, and a URL Flux clones for plain git. */
function usable(c: GitCoordinates): string | undefined {
  const broken = v.gitName(c.owner) ?? v.gitName(c.repository) ?? (c.provider === "git" ? v.gitUrl(c.url) : undefined);
  return broken && `${c.owner}/${c.repository} on ${c.host}: ${broken}`;
}

async function gitFacts(cs: ChangeSet, clusters: Cluster[], notes: string[]): Promise<Adopted["git"]> {
  const origin = await readOrigin(cs.root);
  const tried: string[] = [];
  const candidates: Array<{ coords: GitCoordinates; from: string }> = [];
  if ("origin" in origin) candidates.push({ coords: origin.origin, from: "the origin remote" });
  else tried.push(origin.reason);
  for (const c of clusters) {
    const coords = c.source?.url ? parseGitUrl(c.source.url) : undefined;
    if (coords && c.source?.kind === "GitRepository") candidates.push({ coords, from: `the sync URL of cluster ${c.name} (${c.syncFile})` });
  }
  const syncBranch = clusters.find((c) => c.source?.branch && !v.branchName(c.source.branch));
  const checkedOut = "origin" in origin && origin.origin.branch && !v.branchName(origin.origin.branch) ? origin.origin.branch : undefined;
  const branch = syncBranch
    ? { branch: syncBranch.source!.branch!, from: `the branch cluster ${syncBranch.name} syncs (${syncBranch.syncFile})` }
    : checkedOut
      ? { branch: checkedOut, from: "the branch checked out" }
      : undefined;
  for (const { coords, from } of candidates) {
    const broken = usable(coords);
    if (broken) {
      tried.push(`${from}: ${broken}`);
      continue;
    }
    notes.push(`git: ${coords.owner}/${coords.repository} on ${coords.host} (provider ${coords.provider}), from ${from}: ${coords.url}`);
    if (coords.provider === "git")
      notes.push(`git: ${coords.host} is neither github.com nor gitlab.com, so provider is git; a self-hosted GitHub or GitLab: set git.provider and git.hostname`);
    if (branch) notes.push(`git: branch ${branch.branch}, from ${branch.from}`);
    else notes.push("git: no branch read (none synced, HEAD on none): main");
    return {
      provider: coords.provider,
      owner: coords.owner,
      repository: coords.repository,
      ...(coords.provider === "git" ? { url: coords.url } : {}),
      ...(branch ? { branch: branch.branch } : {}),
    };
  }
  if (!clusters.some((c) => c.source?.kind === "GitRepository")) tried.push("no cluster syncs from a git URL");
  notes.push(`git: could not read the coordinates (${tried.join("; ")}): fleet.yaml has placeholders, marked so; set them`);
  return undefined;
}

export async function readAdoption(cs: ChangeSet): Promise<Adopted> {
  const notes: string[] = [];
  const environments = detectEnvironments(cs);
  notes.push(`environments: ${environments.join(", ") || "none"} (tenants/<env>/kustomization.yaml)`);
  const clusters = readClusters(cs);
  notes.push(
    clusters.length > 0
      ? `clusters: ${clusters.map((c) => `${c.name} (${c.path}, ${c.via}: ${c.syncFile})`).join(", ")}`
      : "clusters: none (no gotk-sync.yaml, FluxInstance with a sync path, or cluster fleet wrote)",
  );
  const flux = fluxFacts(clusters, notes);
  if (!flux.fluxVersion) notes.push("Flux: no cluster says which release it runs: flux.version is fleet's default, marked so");
  const git = await gitFacts(cs, clusters, notes);
  const team = readPlatformTeam(cs);
  const teamOk = team && !v.codeOwner(team.team) ? team : undefined;
  notes.push(
    teamOk
      ? `platform team: ${teamOk.team}, owner of ${teamOk.pattern} in ${teamOk.file}`
      : team
        ? `platform team: ${team.file} names ${team.team} for ${team.pattern}, which is not @user, @org/team or an e-mail address: placeholder, marked so`
        : "platform team: no CODEOWNERS owner of * or /clusters/: placeholder, marked so",
  );
  // Names, paths and URLs in the notes are the repo's text: printed escaped.
  return { environments, clusters, ...flux, ...(git ? { git } : {}), ...(teamOk ? { platformTeam: teamOk.team } : {}), notes: notes.map(printable) };
}
