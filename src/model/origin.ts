/**
 * Where the repo lives: the git coordinates of its `origin` remote (host, owner, repository,
 * provider) and the branch checked out. Credentials a remote URL carries (`https://user:token@`)
 * are dropped here, before anything else sees the URL.
 */
import * as fs from "node:fs";
import { git } from "../runners/git.js";

export type GitProvider = "github" | "gitlab" | "git";

export interface GitCoordinates {
  host: string;
  /** The user, organisation or group; a GitLab subgroup keeps its path (`group/sub`). */
  owner: string;
  repository: string;
  /** github.com and gitlab.com by name; any other host, self-hosted GitHub or GitLab included, is plain git. */
  provider: GitProvider;
  /** As Flux clones it: https:// without credentials, or ssh:// (the scp form rewritten). */
  url: string;
}

export interface Origin extends GitCoordinates {
  /** The branch checked out, when HEAD is on one. */
  branch?: string;
}

const PROVIDERS: Record<string, GitProvider> = { "github.com": "github", "gitlab.com": "gitlab" };

/** Host and path of an scp-like address (`git@host:owner/repo.git`), which has no scheme. */
const SCP = /^(?:([^@/\s]+)@)?([^:/\s]+):(?!\/\/)(.+)$/;

/** The coordinates a git remote URL names, or undefined when it names no owner/repository. */
export function parseGitUrl(remote: string): GitCoordinates | undefined {
  let host: string;
  let repoPath: string;
  let url: string;
  const scp = remote.includes("://") ? undefined : SCP.exec(remote.trim());
  if (scp) {
    host = scp[2]!;
    repoPath = scp[3]!.replace(/^\/+/, "");
    url = `ssh://${scp[1] ? `${scp[1]}@` : ""}${host}/${repoPath}`;
  } else {
    let u: URL;
    try {
      u = new URL(remote.trim());
    } catch {
      return undefined;
    }
    if (!["https:", "http:", "ssh:", "git:"].includes(u.protocol) || u.hostname === "") return undefined;
    // A user name in ssh:// is the login (git), not a secret; anything else in userinfo is.
    if (u.protocol !== "ssh:") u.username = "";
    u.password = "";
    u.search = "";
    u.hash = "";
    host = u.hostname;
    repoPath = decodeURIComponent(u.pathname).replace(/^\/+/, "");
    url = u.toString();
  }
  const parts = repoPath.replace(/\/+$/, "").replace(/\.git$/, "").split("/").filter((p) => p !== "");
  if (parts.length < 2) return undefined;
  return {
    host: host.toLowerCase(),
    owner: parts.slice(0, -1).join("/"),
    repository: parts[parts.length - 1]!,
    provider: PROVIDERS[host.toLowerCase()] ?? "git",
    url,
  };
}

/** The origin remote of the git repository `root` is in, or why there is none to read. */
export async function readOrigin(root: string): Promise<{ origin: Origin } | { reason: string }> {
  if ((await git(root, ["rev-parse", "--git-dir"])) === undefined) return { reason: `${root} is not a git repository` };
  const remote = (await git(root, ["remote", "get-url", "origin"]))?.trim();
  if (!remote) return { reason: "the git repository has no remote named origin" };
  const coords = parseGitUrl(remote);
  // The raw remote may carry a token: the reason names only what was wrong with it.
  if (!coords) return { reason: "the origin remote's URL names no owner/repository" };
  const branch = (await git(root, ["symbolic-ref", "--quiet", "--short", "HEAD"]))?.trim();
  return { origin: { ...coords, ...(branch ? { branch } : {}) } };
}

/**
 * The origin of `root` only when `root` is itself the top of a git clone: a new fleet repo made
 * inside another clone (`fleet init ./fleet-infra` in fleet's own checkout) is not that clone.
 */
export async function readOwnOrigin(root: string): Promise<Origin | undefined> {
  const top = (await git(root, ["rev-parse", "--show-toplevel"]))?.trim();
  if (top === undefined) return undefined;
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return p;
    }
  };
  if (real(top) !== real(root)) return undefined;
  const found = await readOrigin(root);
  return "origin" in found ? found.origin : undefined;
}
