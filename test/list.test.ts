/**
 * `fleet list`: which tenants, environments and clusters a repo has, and which tenant runs
 * where, read from the tree (overlays and cluster Kustomizations), never written.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { fleet, initRepo, ROOT, snapshot, tmpDir, write } from "./helpers.js";

const ok = async (args: string[], cwd: string) => {
  const r = await fleet([...args, "--yes"], { cwd });
  if (r.code !== 0) throw new Error(`fleet ${args.join(" ")} failed: ${r.stderr}`);
};

describe("fleet list on a fleet repo", () => {
  let repo: string;
  beforeAll(async () => {
    // staging and prod with the two example tenants; team-x only in prod; qa added later with
    // everyone; team-lonely has a base but no environment yet. eu-1 runs staging, us-1 prod.
    repo = await initRepo();
    await ok(["new-tenant", "team-x", "--url", "https://github.com/acme/team-x", "--env", "prod"], repo);
    await ok(["new-cluster", "eu-1", "--env", "staging"], repo);
    await ok(["new-cluster", "us-1", "--env", "prod"], repo);
    await ok(["new-env", "qa"], repo);
    write(repo, "tenants/base/team-lonely/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n");
  });

  it("prints tenants, environments and clusters, and which tenant runs where, and writes nothing", async () => {
    const before = snapshot(repo);
    const r = await fleet(["list"], { cwd: path.join(repo, "clusters") });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        "Tenants (4):",
        "  TENANT         NAMESPACE      REF          ENVIRONMENTS     CLUSTERS",
        "  team-lonely    team-lonely    -            -                -",
        "  team-payments  team-payments  branch main  staging,prod,qa  eu-1,us-1",
        "  team-search    team-search    branch main  staging,prod,qa  eu-1,us-1",
        "  team-x         team-x         branch main  prod,qa          us-1",
        "",
        "Environments (3):",
        "  ENVIRONMENT  TENANTS                           CLUSTERS",
        "  staging      team-payments,team-search         eu-1",
        "  prod         team-payments,team-search,team-x  us-1",
        "  qa           team-payments,team-search,team-x  -",
        "",
        "Clusters (2):",
        "  CLUSTER  ENVIRONMENT  TENANTS",
        "  eu-1     staging      team-payments,team-search",
        "  us-1     prod         team-payments,team-search,team-x",
        "",
      ].join("\n"),
    );
    expect(snapshot(repo)).toEqual(before);
  });

  it("--json gives the same as data, with where each cluster's environment was read from", async () => {
    const r = await fleet(["list", "--json", "--repo", repo], { cwd: tmpDir() });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.repo).toBe(repo);
    expect(out.tenants).toEqual([
      { name: "team-lonely", namespace: "team-lonely", url: "", ref: {}, secretRef: "", environments: [], clusters: [] },
      { name: "team-payments", namespace: "team-payments", url: "https://github.com/acme/team-payments-config", ref: { branch: "main" }, secretRef: "git-auth", environments: ["staging", "prod", "qa"], clusters: ["eu-1", "us-1"] },
      { name: "team-search", namespace: "team-search", url: "https://github.com/acme/team-search-config", ref: { branch: "main" }, secretRef: "git-auth", environments: ["staging", "prod", "qa"], clusters: ["eu-1", "us-1"] },
      { name: "team-x", namespace: "team-x", url: "https://github.com/acme/team-x", ref: { branch: "main" }, secretRef: "git-auth", environments: ["prod", "qa"], clusters: ["us-1"] },
    ]);
    expect(out.environments).toEqual([
      { name: "staging", tenants: ["team-payments", "team-search"], clusters: ["eu-1"] },
      { name: "prod", tenants: ["team-payments", "team-search", "team-x"], clusters: ["us-1"] },
      { name: "qa", tenants: ["team-payments", "team-search", "team-x"], clusters: [] },
    ]);
    expect(out.clusters).toEqual([
      { name: "eu-1", environment: "staging", environmentFrom: "clusters/eu-1/tenants.yaml", tenants: ["team-payments", "team-search"] },
      { name: "us-1", environment: "prod", environmentFrom: "clusters/us-1/tenants.yaml", tenants: ["team-payments", "team-search", "team-x"] },
    ]);
    expect(out.problems).toEqual([]);
  });

  it("is listed by fleet --help, and refuses unknown flags and a directory that is no fleet repo with exit 2", async () => {
    expect((await fleet(["--help"])).stdout).toMatch(/^ {2}list +list tenants, environments and clusters/m);
    const bad = await fleet(["list", "--dry-run"], { cwd: repo });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/fleet list: Unknown option '--dry-run'/);
    const outside = await fleet(["list"], { cwd: tmpDir() });
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/--repo: no fleet\.yaml in .* or any directory above it/);
  });
});

describe("fleet list on a repo fleet did not write", () => {
  it("reads Flux's multi-tenancy layout: tenants in another namespace, clusters named after environments, and says what does not add up", async () => {
    const repo = path.join(tmpDir(), "flux-mt");
    for (const env of ["staging", "production"]) {
      write(repo, `clusters/${env}/flux-system/gotk-sync.yaml`, "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m0s\n  ref:\n    branch: main\n  url: ssh://git@github.com/acme/flux-mt\n");
      write(repo, `clusters/${env}/infrastructure.yaml`, "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: infrastructure\n  namespace: flux-system\nspec:\n  path: ./infrastructure\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n");
      write(repo, `clusters/${env}/tenants.yaml`, `apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: tenants\n  namespace: flux-system\nspec:\n  dependsOn:\n    - name: infrastructure\n  path: ./tenants/${env}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n`);
      write(repo, `tenants/${env}/kustomization.yaml`, `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../base/dev-team\n${env === "production" ? "  - ../base/ghost-team/\n" : ""}patches:\n  - path: dev-team-patch.yaml\n`);
    }
    write(repo, "tenants/base/dev-team/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: apps\nresources:\n  - sync.yaml\n");
    write(repo, "tenants/base/dev-team/sync.yaml", "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: dev-team\n  namespace: apps\nspec:\n  interval: 1m\n  url: https://github.com/fluxcd/flux2-kustomize-helm-example\n  ref:\n    branch: dev-team\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: dev-team\n  namespace: apps\nspec:\n  serviceAccountName: dev-team\n  interval: 5m\n  sourceRef:\n    kind: GitRepository\n    name: dev-team\n  prune: true\n");
    // A cluster fleet new-cluster wrote, not bootstrapped yet: its lockdown is there, and only its
    // variables say which environment it will run.
    write(repo, "clusters/edge-1/flux-system/kustomization.yaml", fs.readFileSync(path.join(ROOT, "templates/cluster/flux-system-kustomization.yaml.hbs"), "utf8"));
    write(repo, "clusters/edge-1/flux-system/cluster-vars.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-vars\n  namespace: flux-system\ndata:\n  environment: staging\n");
    expect((await fleet(["init", repo, "--adopt", "--yes"])).code).toBe(0);

    const r = await fleet(["list", "--json"], { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.tenants).toEqual([
      { name: "dev-team", namespace: "apps", url: "https://github.com/fluxcd/flux2-kustomize-helm-example", ref: { branch: "dev-team" }, secretRef: "", environments: ["production", "staging"], clusters: ["edge-1", "production", "staging"] },
    ]);
    expect(out.clusters).toEqual([
      { name: "edge-1", environment: "staging", environmentFrom: "clusters/edge-1/flux-system/cluster-vars.yaml", tenants: ["dev-team"] },
      { name: "production", environment: "production", environmentFrom: "clusters/production/tenants.yaml", tenants: ["dev-team"] },
      { name: "staging", environment: "staging", environmentFrom: "clusters/staging/tenants.yaml", tenants: ["dev-team"] },
    ]);
    expect(out.problems).toEqual(["tenants/production/kustomization.yaml lists ../base/ghost-team/, which has no kustomization.yaml"]);

    const text = await fleet(["list"], { cwd: repo });
    expect(text.stdout).toMatch(/^ {2}dev-team +apps +branch dev-team +production,staging +edge-1,production,staging$/m);
    expect(text.stdout).toMatch(/^warning: tenants\/production\/kustomization\.yaml lists \.\.\/base\/ghost-team\/, which has no kustomization\.yaml$/m);
  });
});
