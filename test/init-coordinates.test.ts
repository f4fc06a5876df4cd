/**
 * No placeholder lands silently in real config: init takes the repo's git coordinates from its
 * origin or from flags, the demo's placeholders only when asked for (--demo), marked in
 * fleet.yaml, and nothing bootstraps against them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig, placeholdersLeft } from "../src/core/config.js";
import { fleet, read, run, snapshot, tmpDir, write } from "./helpers.js";

describe("fleet init's git coordinates", () => {
  it("without origin or flags and no terminal, names --owner and --repository (and --demo) and writes nothing", async () => {
    const parent = tmpDir();
    const r = await fleet(["init", "fleet-infra", "--yes"], { cwd: parent });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--owner: is required");
    expect(r.stderr).toContain("--repository: is required");
    expect(r.stderr).toContain("--demo");
    expect(fs.readdirSync(parent)).toEqual([]);
  });

  it("in a clone, reads provider, owner, repository and branch from origin; nothing is a placeholder", async () => {
    const repo = tmpDir();
    for (const args of [["init", "-q", "-b", "trunk"], ["remote", "add", "origin", "git@gitlab.com:blue-org/infra/platform-fleet.git"]])
      expect((await run("git", args, { cwd: repo })).code).toBe(0);
    const r = await fleet(["init", ".", "--yes"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("read from the origin remote");
    const { config } = parseConfig(read(repo, "fleet.yaml"));
    expect(config.git).toEqual({ provider: "gitlab", owner: "blue-org/infra", repository: "platform-fleet", branch: "trunk" });
    expect(config.placeholders).toBeUndefined();
    expect(fs.existsSync(path.join(repo, "tenants/base/team-payments"))).toBe(false);
  });

  it("--demo writes the example repo, says so, and lists its placeholders in fleet.yaml; bootstrap refuses them until they are set", async () => {
    const repo = path.join(tmpDir(), "fleet-infra");
    const r = await fleet(["init", repo, "--yes", "--demo"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("demo repo: the git coordinates (acme/fleet-infra) and the platform team are placeholders");
    const { config } = parseConfig(read(repo, "fleet.yaml"));
    expect(placeholdersLeft(config)).toEqual([
      { field: "git.owner", value: "acme" },
      { field: "git.repository", value: "fleet-infra" },
      { field: "platformTeam", value: "@acme/platform" },
    ]);
    expect(fs.existsSync(path.join(repo, "tenants/base/team-payments/sync.yaml"))).toBe(true);

    expect((await fleet(["new-cluster", "c1", "--env", "prod", "--yes"], { cwd: repo })).code).toBe(0);
    const was = snapshot(repo);
    for (const args of [["bootstrap", "c1", "--yes"], ["new-cluster", "c2", "--env", "prod", "--bootstrap", "terraform", "--yes"]]) {
      const refused = await fleet(args, { cwd: repo });
      expect(refused.code, args.join(" ")).toBe(2);
      expect(refused.stderr).toContain("git.owner (acme) and git.repository (fleet-infra)");
    }
    expect(snapshot(repo)).toEqual(was);

    // The real values are enough: the list's entries no longer match and nothing is refused.
    write(repo, "fleet.yaml", read(repo, "fleet.yaml").replace("owner: acme", "owner: blue-org").replace("repository: fleet-infra", "repository: platform-fleet"));
    expect(placeholdersLeft(parseConfig(read(repo, "fleet.yaml")).config).map((p) => p.field)).toEqual(["platformTeam"]);
  });
});
