/**
 * Offboarding in a safe order: remove-tenant first removes the tenant's sync and keeps its
 * namespace, reconciler and RoleBinding (kustomize-controller prunes the tenant's workloads as
 * that reconciler when its Kustomization goes), and only on the next run removes the rest.
 * Which step is due is read from the tree. Both layouts; every overlay builds after each step.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { buildAll, fleet, initRepo, read, snapshot } from "./helpers.js";
import { flatRepo } from "./flat-layout.js";

const remove = (repo: string, ...more: string[]) => fleet(["remove-tenant", "team-search", "--yes", ...more], { cwd: repo });
const exists = (repo: string, file: string) => fs.existsSync(path.join(repo, file));

/** What of team-search every overlay builds, by kind, across all builds. */
async function kindsOfTenant(repo: string): Promise<string[]> {
  const kinds = new Set<string>();
  for (const objs of (await buildAll(repo)).values())
    for (const o of objs) if (o.metadata.namespace === "team-search" || (o.kind === "Namespace" && o.metadata.name === "team-search") || o.metadata.name === "tenant-team-search") kinds.add(o.kind);
  return [...kinds].sort();
}

describe.each([
  ["units", initRepo],
  ["flat", flatRepo],
])("remove-tenant in two steps (%s layout)", (layout, make) => {
  it("step 1 removes only the sync, says it is step 1 of 2 and what to check; step 2 removes the rest; each leaves every overlay building", async () => {
    const repo = await make();
    const first = await remove(repo);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("step 1 of 2");
    expect(first.stdout).toContain("flux get kustomizations -n team-search");
    expect(first.stdout).toContain("kubectl get kustomization -n team-search");
    expect(first.stdout).toContain("fleet remove-tenant team-search");
    expect(exists(repo, "tenants/base/team-search/sync.yaml")).toBe(false);
    expect(read(repo, "tenants/base/team-search/kustomization.yaml")).not.toContain("sync.yaml");
    // Namespace, reconciler, RoleBinding, quota and NetworkPolicy stay for Flux to prune with; in units, the unit too.
    expect(await kindsOfTenant(repo)).toEqual(
      [...(layout === "units" ? ["Kustomization"] : []), "LimitRange", "Namespace", "NetworkPolicy", "ResourceQuota", "RoleBinding", "ServiceAccount"].sort(),
    );
    if (layout === "units") expect((await buildAll(repo)).get("tenants/prod")!.map((u) => u.metadata.name)).toContain("tenant-team-search");

    const second = await remove(repo);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("step 2 of 2");
    expect(exists(repo, "tenants/base/team-search")).toBe(false);
    expect(await kindsOfTenant(repo)).toEqual([]);
    for (const env of ["staging", "prod"]) expect(read(repo, `tenants/${env}/kustomization.yaml`)).not.toContain("team-search");
    // team-payments is untouched by either step.
    expect((await buildAll(repo)).get(layout === "units" ? "tenants/prod/team-payments" : "tenants/prod")!.some((o) => o.metadata.namespace === "team-payments")).toBe(true);

    const third = await remove(repo);
    expect(third.code).toBe(0);
    expect(third.stdout + third.stderr).toContain("nothing of tenant 'team-search' is left");
  });
});

describe("remove-tenant's steps", () => {
  it("--dry-run of step 1 writes nothing and still says it is step 1 of 2", async () => {
    const repo = await initRepo();
    const before = snapshot(repo);
    const r = await remove(repo, "--dry-run");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("step 1 of 2");
    expect(snapshot(repo)).toEqual(before);
  });

  it("--all-at-once removes everything in one run, with a warning that Flux may not prune a tenant that reconciled", async () => {
    const repo = await initRepo();
    const r = await remove(repo, "--all-at-once");
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toContain("WARNING: --all-at-once");
    expect(exists(repo, "tenants/base/team-search")).toBe(false);
    expect(exists(repo, "tenants/prod/team-search.yaml")).toBe(false);
    expect(await kindsOfTenant(repo)).toEqual([]);
  });

  it("a base that keeps its sync in the same file as its namespace loses only the Flux documents in step 1", async () => {
    const repo = await initRepo();
    const base = "tenants/base/team-search";
    const joined = ["namespace.yaml", "sync.yaml", "rbac.yaml"].map((f) => read(repo, `${base}/${f}`).trimEnd()).join("\n---\n") + "\n";
    for (const f of ["namespace.yaml", "sync.yaml", "rbac.yaml"]) fs.rmSync(path.join(repo, base, f));
    fs.writeFileSync(path.join(repo, base, "all.yaml"), joined);
    fs.writeFileSync(path.join(repo, base, "kustomization.yaml"), "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - all.yaml\n");
    expect((await remove(repo)).code).toBe(0);
    const left = read(repo, `${base}/all.yaml`);
    expect(left).not.toMatch(/apiVersion: (source|kustomize)\.toolkit\.fluxcd\.io/);
    expect(left).toContain("kind: Namespace");
    expect(left).toContain("# The tenant's reconciler");
    expect(await kindsOfTenant(repo)).toEqual(["Kustomization", "LimitRange", "Namespace", "ResourceQuota", "RoleBinding", "ServiceAccount"]);
  });
});
