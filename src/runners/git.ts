/**
 * Git facts fleet reads: the origin remote (src/model/origin.ts), and before it lets flux
 * bootstrap run, whether a file is on the remote branch: flux bootstrap works from the remote
 * branch, and writes its own flux-system/kustomization.yaml (without the lockdown) when the
 * branch lacks one. So the cluster's lockdown file must already be on the remote.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { execa } from "execa";
import { RepoPaths } from "../core/inside-repo.js";

/** A git command in `root`: its output, or undefined when it fails (no repository, no such ref). */
export async function git(root: string, args: string[]): Promise<string | undefined> {
  const r = await execa("git", ["-C", root, ...args], { reject: false, stdin: "ignore" });
  return r.exitCode === 0 ? String(r.stdout) : undefined;
}

/**
 * Whether `file` (repo-relative) has the same content on the remote-tracking branch as on disk.
 * Reads what the last fetch or push recorded; it does not contact the remote.
 */
export async function onRemote(root: string, branch: string, file: string): Promise<{ ok: boolean; why?: string }> {
  const top = await git(root, ["rev-parse", "--show-toplevel"]);
  if (top === undefined) return { ok: false, why: `${root} is not a git repository` };
  const remote = (await git(root, ["config", `branch.${branch}.remote`]))?.trim() || "origin";
  const inRepo = path.relative(top.trim(), path.join(root, file)).split(path.sep).join("/");
  const there = await git(root, ["show", `refs/remotes/${remote}/${branch}:${inRepo}`]);
  if (there === undefined) return { ok: false, why: `${file} is not on ${remote}/${branch}` };
  const here = fs.readFileSync(new RepoPaths(root).resolve(file), "utf8");
  if (there.replace(/\n$/, "") !== here.replace(/\n$/, "")) return { ok: false, why: `${file} on ${remote}/${branch} differs from the one here` };
  return { ok: true };
}
