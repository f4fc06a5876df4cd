/**
 * A tenant's source as `flux create source git` shapes it: a branch, a tag, a semver range or a
 * commit (exactly one), with the credentials Secret named (--secret-ref) or none (--no-secret).
 * What new-tenant writes must build, and the commands that read a tenant back (new-env, list)
 * must see the same ref.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import newEnvGen from "../generators/new-env.js";
import { repoContext } from "../src/core/context.js";
import { readInventory } from "../src/core/inventory.js";
import { resolveAnswers, stageGenerator } from "../src/core/run-generator.js";
import { fleet, initRepo, kustomize, write, type K8sObject } from "./helpers.js";

const SHA = "0123456789abcdef0123456789abcdef01234567";
const SOURCES = [
  { tenant: "team-branch", args: ["--branch", "release/1.x"], ref: { branch: "release/1.x" }, secretRef: "git-auth" },
  { tenant: "team-tag", args: ["--tag", "v1.2.0", "--no-secret"], ref: { tag: "v1.2.0" }, secretRef: undefined },
  { tenant: "team-semver", args: ["--semver", ">=1.0.0 <2.0.0", "--secret-ref", "team-semver-auth"], ref: { semver: ">=1.0.0 <2.0.0" }, secretRef: "team-semver-auth" },
  { tenant: "team-commit", args: ["--commit", SHA], ref: { commit: SHA }, secretRef: "git-auth" },
];

const source = (objects: K8sObject[], name: string) => objects.find((o) => o.kind === "GitRepository" && o.metadata.name === name);

describe("new-tenant with a branch, a tag, a semver range or a commit", () => {
  it("writes a GitRepository that follows exactly that ref in every environment, new-env and list included, with the secret named or none", async () => {
    const repo = await initRepo();
    // Unproven runs: the builds below are the proof here, each unit built once.
    for (const s of SOURCES) {
      const r = await fleet(["new-tenant", s.tenant, "--url", `https://github.com/acme/${s.tenant}`, "--yes", "--no-verify", ...s.args], { cwd: repo });
      expect(r.code, r.stderr).toBe(0);
      // The next steps name the secret to create, and none for a public repository.
      if (s.secretRef) expect(r.stdout).toContain(`flux create secret git ${s.secretRef} --namespace=${s.tenant} `);
      else expect(r.stdout).not.toMatch(/flux create secret/);
    }
    const r = await fleet(["new-env", "qa", "--yes", "--no-verify"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);

    const units = ["staging", "prod", "qa"].flatMap((env) => SOURCES.map((s) => ({ env, ...s })));
    const builds = await Promise.all(units.map((u) => kustomize(path.join(repo, `tenants/${u.env}/${u.tenant}`))));
    units.forEach((u, i) => {
      const built = source(builds[i]!, u.tenant);
      expect(built?.spec?.ref, `${u.tenant} in ${u.env}`).toEqual(u.ref);
      expect(built?.spec?.secretRef, `${u.tenant} in ${u.env}`).toEqual(u.secretRef && { name: u.secretRef });
    });

    const listed = JSON.parse((await fleet(["list", "--json"], { cwd: repo })).stdout) as { tenants: Array<{ name: string; ref: object; secretRef: string }> };
    for (const s of SOURCES) expect(listed.tenants.find((t) => t.name === s.tenant)).toMatchObject({ ref: s.ref, secretRef: s.secretRef ?? "" });
    const table = (await fleet(["list"], { cwd: repo })).stdout;
    expect(table).toMatch(/^ {2}team-semver +team-semver +semver >=1\.0\.0 <2\.0\.0 +staging,prod,qa/m);
  }, 120_000);

  it("new-env keeps a tenant whose GitRepository sets no ref on Flux's default, writing no ref of its own", async () => {
    const repo = await initRepo();
    const sync = "tenants/base/team-search/sync.yaml";
    const ctx0 = repoContext(repo);
    write(repo, sync, ctx0.cs.read(sync)!.replace(/ {2}ref:\n {4}branch: main\n/, ""));
    const ctx = repoContext(repo);
    expect(readInventory(ctx.cs).tenants.find((t) => t.name === "team-search")?.ref).toEqual({});
    await stageGenerator(newEnvGen, ctx, await resolveAnswers(newEnvGen, ctx, { name: "qa" }, undefined));
    const patch = ctx.cs.read("tenants/qa/team-search/patch.yaml")!;
    expect(patch).toContain("kind: Kustomization");
    expect(patch).not.toContain("GitRepository");
  });
});
