/**
 * End to end on the built CLI: every step leaves a repo whose every overlay builds with the real
 * `kubectl kustomize`, and whose tenant objects hold the isolation model.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildAll, fleet, initRepo, type K8sObject, read } from "./helpers.js";
import { DEFAULT_FLUX_VERSION } from "../src/flux/index.js";

/** Every invariant of a tenant as an overlay builds it. */
function assertTenantIsolated(objects: K8sObject[], tenant: string, role = "admin") {
  const mine = objects.filter((o) => o.metadata.labels?.["toolkit.fluxcd.io/tenant"] === tenant || o.metadata.namespace === tenant);
  const ks = mine.find((o) => o.kind === "Kustomization" && o.apiVersion.startsWith("kustomize.toolkit.fluxcd.io/"));
  expect(ks, `${tenant}'s Flux Kustomization`).toBeDefined();
  expect(ks!.metadata.namespace).toBe(tenant);
  expect(ks!.spec!.serviceAccountName).toBe("reconciler");
  expect(ks!.spec!.targetNamespace).toBe(tenant);
  expect(ks!.spec!.prune).toBe(true);
  expect(ks!.spec!.sourceRef).toEqual({ kind: "GitRepository", name: tenant });
  const repo = mine.find((o) => o.kind === "GitRepository");
  expect(repo!.metadata.namespace, "the source lives in the tenant namespace").toBe(tenant);
  expect(repo!.spec!.secretRef).toEqual({ name: "git-auth" });
  const rb = mine.find((o) => o.kind === "RoleBinding");
  expect(rb!.metadata.namespace).toBe(tenant);
  expect(rb!.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role });
  expect(rb!.subjects).toEqual([{ kind: "ServiceAccount", name: "reconciler", namespace: tenant }]);
  expect(mine.find((o) => o.kind === "ResourceQuota")!.metadata.namespace).toBe(tenant);
  expect(mine.find((o) => o.kind === "LimitRange")!.metadata.namespace).toBe(tenant);
  expect(objects.some((o) => o.kind === "ClusterRoleBinding" || o.kind === "ClusterRole")).toBe(false);
  // Nothing of the tenant's lands outside its namespace (the Namespace itself is cluster-scoped).
  for (const o of mine.filter((o) => o.kind !== "Namespace")) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(tenant);
  for (const o of mine) expect(o.metadata.labels?.["toolkit.fluxcd.io/tenant"], `${o.kind}/${o.metadata.name} label`).toBe(tenant);
}

const tenantsIn = (objects: K8sObject[]) =>
  objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name).sort();

/** What an environment applies: its units' directories, each built on its own (tenants/<env>/<t>). */
const envObjects = (built: Map<string, K8sObject[]>, env: string) =>
  [...built].filter(([dir]) => dir.startsWith(`tenants/${env}/`)).flatMap(([, objs]) => objs);

/** Offboarding is two runs of the same command (test/offboarding.test.ts checks each step). */
async function offboard(repo: string, tenant: string) {
  for (const step of [1, 2]) {
    const r = await fleet(["remove-tenant", tenant, "--yes"], { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`step ${step} of 2`);
  }
}

describe("a fleet repo from init to offboarding", () => {
  let repo: string;
  beforeAll(async () => {
    repo = await initRepo();
  });

  it("init writes a demo fleet whose every overlay builds, with two isolated example tenants", async () => {
    const built = await buildAll(repo);
    expect([...built.keys()]).toEqual([
      "infrastructure/base",
      "infrastructure/prod",
      "infrastructure/staging",
      "tenants/base/team-payments",
      "tenants/base/team-search",
      "tenants/prod",
      "tenants/prod/team-payments",
      "tenants/prod/team-search",
      "tenants/staging",
      "tenants/staging/team-payments",
      "tenants/staging/team-search",
    ]);
    for (const env of ["staging", "prod"]) {
      expect(tenantsIn(envObjects(built, env))).toEqual(["team-payments", "team-search"]);
      for (const t of ["team-payments", "team-search"]) assertTenantIsolated(built.get(`tenants/${env}/${t}`)!, t);
    }
    for (const f of ["fleet.yaml", ".github/CODEOWNERS", "README.md", "renovate.json", ".gitignore"])
      expect(fs.existsSync(path.join(repo, f)), f).toBe(true);
    expect(read(repo, "fleet.yaml")).toContain(`version: ${DEFAULT_FLUX_VERSION}`);
    expect(JSON.parse(read(repo, "renovate.json")).customManagers[0].depNameTemplate).toBe("fluxcd/flux2");
  });

  it("new-tenant onboards a team into every environment with its patch and quota", async () => {
    const r = await fleet(["new-tenant", "team-ledger", "--url", "https://github.com/acme/ledger-config", "--yes"], { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/kubectl auth can-i create clusterrolebindings --as=system:serviceaccount:team-ledger:reconciler/);
    expect(r.stdout).toMatch(/git-auth/);
    const built = await buildAll(repo);
    for (const env of ["staging", "prod"]) {
      const objs = built.get(`tenants/${env}/team-ledger`)!;
      assertTenantIsolated(objs, "team-ledger");
      const ks = objs.find((o) => o.kind === "Kustomization" && o.metadata.name === "team-ledger")!;
      expect(ks.spec!.path).toBe(`./deploy/${env}`);
      expect(ks.spec!.interval).toBe(env === "prod" ? "5m" : "10m");
    }
    // The platform team owns the tenant's base (it is applied as kustomize-controller): no line for the tenant's team.
    expect(read(repo, ".github/CODEOWNERS")).not.toContain("team-ledger");
  });

  it("new-tenant with options: one environment, another role, branch, path and a quota override", async () => {
    const r = await fleet(
      ["new-tenant", "team-ml", "--url", "ssh://git@github.com/acme/ml.git", "--env", "prod", "--role", "edit",
        "--branch", "release", "--path", "./k8s", "--quota", "cpu=3,prod.pods=7", "--yes"],
      { cwd: repo },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const built = await buildAll(repo);
    expect(tenantsIn(envObjects(built, "staging"))).not.toContain("team-ml");
    const prod = built.get("tenants/prod/team-ml")!;
    assertTenantIsolated(prod, "team-ml", "edit");
    const repoObj = prod.find((o) => o.kind === "GitRepository" && o.metadata.name === "team-ml")!;
    expect(repoObj.spec!.ref).toEqual({ branch: "release" });
    expect(repoObj.spec!.url).toBe("ssh://git@github.com/acme/ml.git");
    expect(prod.find((o) => o.kind === "Kustomization" && o.metadata.name === "team-ml")!.spec!.path).toBe("./k8s/prod");
    const quota = prod.find((o) => o.kind === "ResourceQuota" && o.metadata.name === "team-ml")!;
    expect(quota.spec!.hard).toEqual({ "requests.cpu": "3", "requests.memory": "16Gi", pods: "7" });
  });

  it("new-env adds an environment with every existing tenant and its patches", async () => {
    const r = await fleet(["new-env", "qa", "--interval", "2m", "--yes"], { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const built = await buildAll(repo);
    const qa = envObjects(built, "qa");
    expect(tenantsIn(qa)).toEqual(["team-ledger", "team-ml", "team-payments", "team-search"]);
    for (const t of tenantsIn(qa)) assertTenantIsolated(built.get(`tenants/qa/${t}`)!, t, t === "team-ml" ? "edit" : "admin");
    const ml = qa.find((o) => o.kind === "Kustomization" && o.metadata.name === "team-ml")!;
    expect(ml.spec!.path).toBe("./k8s/qa");
    expect(ml.spec!.interval).toBe("2m");
    expect(qa.find((o) => o.kind === "GitRepository" && o.metadata.name === "team-ml")!.spec!.ref).toEqual({ branch: "release" });
    expect(built.has("infrastructure/qa")).toBe(true);
    expect(read(repo, "fleet.yaml")).toMatch(/- name: qa\n\s+interval: 2m/);
    // fleet.yaml keeps its comments through the edit.
    expect(read(repo, "fleet.yaml")).toMatch(/^# fleet settings for this repository/);
  });

  it("remove-tenant takes the tenant out of base, every overlay and CODEOWNERS, and everything still builds", async () => {
    await offboard(repo, "team-ml");
    expect(fs.existsSync(path.join(repo, "tenants/base/team-ml"))).toBe(false);
    for (const env of ["staging", "prod", "qa"]) {
      expect(fs.readdirSync(path.join(repo, "tenants", env)).filter((f) => f.startsWith("team-ml"))).toEqual([]);
      expect(read(repo, `tenants/${env}/kustomization.yaml`)).not.toContain("team-ml");
    }
    expect(read(repo, ".github/CODEOWNERS")).not.toContain("team-ml");
    const built = await buildAll(repo);
    for (const env of ["staging", "prod", "qa"]) {
      const objs = [...built.get(`tenants/${env}`)!, ...envObjects(built, env)];
      expect(tenantsIn(objs)).not.toContain("team-ml");
      expect(objs.some((o) => o.metadata.namespace === "team-ml")).toBe(false);
    }
  });

  it("removing every tenant leaves overlays that still build", async () => {
    // None of them ever reconciled: each in one step (the two steps are the test above).
    for (const t of ["team-ledger", "team-payments", "team-search"]) expect((await fleet(["remove-tenant", t, "--yes", "--all-at-once"], { cwd: repo })).code).toBe(0);
    const built = await buildAll(repo);
    for (const env of ["staging", "prod", "qa"]) expect([...built.get(`tenants/${env}`)!, ...envObjects(built, env)]).toEqual([]);
  });
});

describe("tenants whose names share a prefix", () => {
  it("remove-tenant team leaves team-payments' patch and quota files alone", async () => {
    const repo = await initRepo();
    expect((await fleet(["new-tenant", "team", "--url", "https://github.com/acme/team", "--yes"], { cwd: repo })).code).toBe(0);
    await offboard(repo, "team");
    for (const env of ["staging", "prod"]) {
      expect(fs.existsSync(path.join(repo, `tenants/${env}/team-payments/quota.yaml`))).toBe(true);
      expect(fs.existsSync(path.join(repo, `tenants/${env}/team-payments/patch.yaml`))).toBe(true);
      expect(read(repo, `tenants/${env}/kustomization.yaml`)).toContain("- team-payments.yaml");
      assertTenantIsolated((await buildAll(repo)).get(`tenants/${env}/team-payments`)!, "team-payments");
    }
  });
});
