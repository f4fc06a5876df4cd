/**
 * fleet lockdown on repos in the shapes teams have: the practitioner's enterprise scenario (two
 * shared clusters, eight squads whose Kustomizations name no account, one squad's repository
 * holding a ClusterRoleBinding to cluster-admin, a platform Kustomization without an account,
 * one HelmRelease) and Flux's multi-tenancy example (`namespace: apps` in its tenant overlay).
 * The plan must name exactly what the lockdown changes; the change must build, isolate every
 * tenant and be idempotent.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { bootstrapStandIn, fleet, kustomize, read, snapshot, tmpDir, write } from "./helpers.js";

const SQUADS = ["cards", "checkout", "fraud", "ledger", "loans", "pay", "risk", "web"];
const CLUSTERS = ["prod-eu", "prod-us"];

const ks = (name: string, ns: string, spec: string) =>
  `apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n${spec}`;

/** The enterprise scenario's repo, and the pay squad's own repository (a directory beside it). */
function enterpriseRepo(): { repo: string; payRepo: string } {
  const top = tmpDir();
  const repo = path.join(top, "platform");
  for (const c of CLUSTERS) {
    bootstrapStandIn(repo, c, "v2.9.4");
    write(repo, `clusters/${c}/flux-system/kustomization.yaml`, "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gotk-components.yaml\n  - gotk-sync.yaml\n");
    write(repo, `clusters/${c}/infrastructure.yaml`, ks("infrastructure", "flux-system", "  interval: 10m\n  path: ./infrastructure\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"));
    write(
      repo,
      `clusters/${c}/tenants.yaml`,
      ks("tenants", "flux-system", "  dependsOn:\n    - name: infrastructure\n  interval: 10m\n  path: ./tenants/production\n  prune: true\n  serviceAccountName: kustomize-controller\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"),
    );
  }
  write(repo, "infrastructure/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - monitoring.yaml\n");
  write(repo, "infrastructure/monitoring.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: monitoring\n");
  for (const s of SQUADS) {
    const base = `tenants/base/${s}`;
    write(repo, `${base}/kustomization.yaml`, `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - namespace.yaml\n  - rbac.yaml\n  - sync.yaml\n${s === "web" ? "  - release.yaml\n" : ""}`);
    write(repo, `${base}/namespace.yaml`, `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${s}\n  labels:\n    toolkit.fluxcd.io/tenant: ${s}\n`);
    // They had namespaces and RBAC: the squad's people may edit their namespace.
    write(
      repo,
      `${base}/rbac.yaml`,
      `apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: ${s}-developers\n  namespace: ${s}\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: edit\nsubjects:\n  - apiGroup: rbac.authorization.k8s.io\n    kind: Group\n    name: ${s}-developers\n`,
    );
    write(
      repo,
      `${base}/sync.yaml`,
      `# The squad's own repository.\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: ${s}\n  namespace: ${s}\nspec:\n  interval: 1m\n  url: https://github.com/acme-payments/${s}\n  ref:\n    branch: main\n---\n` +
        ks(s, s, `  interval: 5m\n  path: ./deploy\n  prune: true\n  targetNamespace: ${s}\n  sourceRef:\n    kind: GitRepository\n    name: ${s}\n`),
    );
  }
  write(
    repo,
    "tenants/base/web/release.yaml",
    "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: podinfo\n  namespace: web\nspec:\n  interval: 1h\n  url: https://stefanprodan.github.io/podinfo\n---\n" +
      "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: frontend\n  namespace: web\nspec:\n  interval: 10m\n  chart:\n    spec:\n      chart: podinfo\n      version: 6.7.1\n      sourceRef:\n        kind: HelmRepository\n        name: podinfo\n",
  );
  write(repo, "tenants/production/kustomization.yaml", `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${SQUADS.map((s) => `  - ../base/${s}\n`).join("")}`);
  const payRepo = path.join(top, "pay");
  write(payRepo, "deploy/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - api.yaml\n  - escalate.yaml\n");
  write(payRepo, "deploy/api.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: pay-api\ndata:\n  mode: live\n");
  // The security engineer's test: a ClusterRoleBinding to cluster-admin, in the squad's repository.
  write(
    payRepo,
    "deploy/escalate.yaml",
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: pay-escalate\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n  - kind: ServiceAccount\n    name: test\n    namespace: pay\n",
  );
  return { repo, payRepo };
}

interface PlanJson {
  plan: {
    clusters: Array<{
      cluster: string;
      flags: Array<{ controller: string; flags: string[] }>;
      appliers: Array<{ object: string; account?: string; refused: Array<{ object: string }> }>;
      reconcilers: Array<{ namespace: string }>;
      blockers: Array<{ object: string; why: string }>;
      notChecked: string[];
    }>;
  };
}
interface ValidateJson {
  clusters: Array<{ name: string; findings: Array<{ id: string; object: string; severity: string }>; isolation: Array<{ identity: string; createClusterRoleBindings: boolean; readSecretsOf: string[] }> }>;
}

/** The findings validate reports of what the lockdown is about: accounts, the flags, who acts as whom. */
const ISOLATION_FINDINGS = ["lockdown", "tenant-service-account", "platform-service-account", "cross-namespace-ref"];

/** Every kustomization directory a change created or updated a file in, plus each cluster path. */
function touchedDirs(repo: string, before: Record<string, string>): string[] {
  const after = snapshot(repo);
  const dirs = new Set<string>();
  for (const f of Object.keys(after)) if (after[f] !== before[f]) dirs.add(path.posix.dirname(f));
  return [...dirs].filter((d) => fs.existsSync(path.join(repo, d, "kustomization.yaml")));
}

async function expectIsolated(repo: string, sources: string[], named: Array<{ cluster: string; object: string }>): Promise<void> {
  const v = await fleet(["validate", "--json", ...sources.flatMap((s) => ["--source", s])], { cwd: repo });
  const report = JSON.parse(v.stdout) as ValidateJson;
  for (const c of report.clusters) {
    const left = c.findings.filter((f) => ISOLATION_FINDINGS.includes(f.id) && named.some((n) => n.cluster === c.name && n.object === f.object));
    expect(left, `cluster ${c.name}`).toEqual([]);
    expect(c.findings.filter((f) => ISOLATION_FINDINGS.includes(f.id) && f.severity === "error")).toEqual([]);
    expect(c.isolation.length).toBeGreaterThan(0);
    for (const i of c.isolation) {
      expect(i.identity).toMatch(/^system:serviceaccount:[a-z-]+:reconciler$/);
      expect(i.createClusterRoleBindings, i.identity).toBe(false);
      expect(i.readSecretsOf, i.identity).toEqual([]);
    }
  }
}

describe("fleet lockdown on the enterprise scenario", () => {
  it("a --source naming no source the clusters read is refused: exit 2, nothing written", async () => {
    const { repo, payRepo } = enterpriseRepo();
    const before = snapshot(repo);
    const r = await fleet(["lockdown", "--yes", "--no-verify", "--source", `pay/payments=${payRepo}`], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--source.*pay\/payments/);
    expect(snapshot(repo)).toEqual(before);
  });

  it("--plan names every applier that loses its power, what it would act as, and the ClusterRoleBinding Kubernetes would refuse; it writes nothing", async () => {
    const { repo, payRepo } = enterpriseRepo();
    const before = snapshot(repo);
    const r = await fleet(["lockdown", "--plan", "--json", "--source", `pay/pay=${payRepo}`], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(snapshot(repo)).toEqual(before);
    const plan = (JSON.parse(r.stdout) as PlanJson).plan;
    expect(plan.clusters.map((c) => c.cluster)).toEqual(CLUSTERS);
    for (const c of plan.clusters) {
      expect(c.appliers.map((a) => `${a.object} -> ${a.account}`).sort()).toEqual(
        [
          "Kustomization/flux-system/flux-system -> kustomize-controller",
          "Kustomization/flux-system/infrastructure -> kustomize-controller",
          "HelmRelease/web/frontend -> reconciler",
          ...SQUADS.map((s) => `Kustomization/${s}/${s} -> reconciler`),
        ].sort(),
      );
      expect(c.appliers.flatMap((a) => a.refused.map((x) => `${a.object}: ${x.object}`))).toEqual(["Kustomization/pay/pay: ClusterRoleBinding/pay-escalate"]);
      expect(c.reconcilers.map((x) => x.namespace)).toEqual(SQUADS);
      expect(c.flags.find((f) => f.controller === "kustomize-controller")?.flags.sort()).toEqual(["--default-service-account=default", "--no-cross-namespace-refs=true", "--no-remote-bases=true"]);
      expect(c.blockers).toEqual([]);
      // The squads' repositories it was not given are named as not read, each of them.
      for (const s of SQUADS.filter((x) => x !== "pay")) expect(c.notChecked.filter((n) => n.includes(`GitRepository/${s}/${s}`)), s).toHaveLength(1);
    }
    const text = await fleet(["lockdown", "--plan", "--source", `pay/pay=${payRepo}`], { cwd: repo });
    expect(text.stdout).toContain("Kustomization/pay/pay (tenants/base/pay/sync.yaml): acts as kustomize-controller itself (cluster-admin) today; with the flags alone as pay:default, which nothing grants anything: it fails");
    expect(text.stdout).toContain("kubectl delete clusterrolebinding pay-escalate");
    // A Namespace in the squad's repository is refused too, but deleting it would delete the squad: Flux is told to let go of it instead.
    write(payRepo, "deploy/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: pay\n");
    write(payRepo, "deploy/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - namespace.yaml\n  - api.yaml\n  - escalate.yaml\n");
    const withNs = await fleet(["lockdown", "--plan", "--cluster", "prod-eu", "--source", `pay/pay=${payRepo}`], { cwd: repo });
    expect(withNs.stdout).toContain("kubectl annotate namespace pay kustomize.toolkit.fluxcd.io/prune=disabled");
    expect(withNs.stdout).not.toContain("kubectl delete namespace");
  });

  it("writes the lockdown as one proven change: every touched overlay builds, every tenant is isolated, and a second run changes nothing", async () => {
    const { repo, payRepo } = enterpriseRepo();
    const before = snapshot(repo);
    const planned = (JSON.parse((await fleet(["lockdown", "--plan", "--json", "--source", `pay/pay=${payRepo}`], { cwd: repo })).stdout) as PlanJson).plan;
    const r = await fleet(["lockdown", "--yes", "--source", `pay/pay=${payRepo}`], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("proven: cluster prod-eu");
    // Nothing else: the squads' RBAC and every file the plan does not name are as they were.
    const after = snapshot(repo);
    const changed = Object.keys(after).filter((f) => after[f] !== before[f]).sort();
    expect(changed).toEqual(
      [
        ...CLUSTERS.flatMap((c) => [`clusters/${c}/flux-system/kustomization.yaml`, `clusters/${c}/infrastructure.yaml`]),
        ...SQUADS.flatMap((s) => [`tenants/base/${s}/kustomization.yaml`, `tenants/base/${s}/reconciler.yaml`, `tenants/base/${s}/sync.yaml`]),
        "tenants/base/web/release.yaml",
      ].sort(),
    );
    for (const dir of touchedDirs(repo, before)) expect((await kustomize(path.join(repo, dir))).length, dir).toBeGreaterThan(0);
    const pay = await kustomize(path.join(repo, "tenants/base/pay"));
    expect(pay.find((o) => o.kind === "Kustomization")?.spec?.serviceAccountName).toBe("reconciler");
    expect(pay.find((o) => o.kind === "RoleBinding" && o.metadata?.name === "reconciler")).toMatchObject({ metadata: { namespace: "pay" }, roleRef: { kind: "ClusterRole", name: "admin" } });
    // The ClusterRoleBinding is still in the squad's repository: validate sees what the plan said.
    const v = JSON.parse((await fleet(["validate", "--json", "--source", `pay/pay=${payRepo}`], { cwd: repo })).stdout) as ValidateJson;
    for (const c of v.clusters) {
      expect(c.findings.filter((f) => f.id.startsWith("isolation")).map((f) => `${f.id} ${f.object}`)).toEqual(["isolation-cluster-scope ClusterRoleBinding/pay-escalate", "isolation-other-tenant-secrets ClusterRoleBinding/pay-escalate"]);
      expect(c.isolation.filter((i) => i.createClusterRoleBindings).map((i) => i.identity)).toEqual(["system:serviceaccount:pay:reconciler"]);
    }
    // The squad takes it out, as the plan told them; then every tenant is isolated.
    fs.rmSync(path.join(payRepo, "deploy/escalate.yaml"));
    write(payRepo, "deploy/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - api.yaml\n");
    await expectIsolated(
      repo,
      [`pay/pay=${payRepo}`],
      planned.clusters.flatMap((c) => c.appliers.map((a) => ({ cluster: c.cluster, object: a.object }))),
    );
    const again = await fleet(["lockdown", "--yes", "--source", `pay/pay=${payRepo}`], { cwd: repo });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain("nothing to do");
    expect(snapshot(repo)).toEqual(after);
  });

  it("--stage platform then --stage flags writes the same as one change; the flags refuse to go first", async () => {
    const { repo, payRepo } = enterpriseRepo();
    const src = ["--source", `pay/pay=${payRepo}`];
    const before = snapshot(repo);
    const early = await fleet(["lockdown", "--yes", "--stage", "flags", ...src], { cwd: repo });
    expect(early.code).toBe(2);
    expect(early.stderr).toContain("--stage: flags come after the platform step");
    expect(snapshot(repo)).toEqual(before);

    const platform = await fleet(["lockdown", "--yes", "--stage", "platform", "--no-verify", ...src], { cwd: repo });
    expect(platform.code, platform.stderr).toBe(0);
    expect(read(repo, "clusters/prod-eu/flux-system/kustomization.yaml")).not.toContain("--default-service-account");
    expect(platform.stdout).toContain("Then: fleet lockdown --stage flags.");
    const flags = await fleet(["lockdown", "--yes", "--stage", "flags", "--no-verify", ...src], { cwd: repo });
    expect(flags.code, flags.stderr).toBe(0);
    const staged = snapshot(repo);

    const other = enterpriseRepo();
    // The same repo in another directory: compare file by file.
    const once = await fleet(["lockdown", "--yes", "--no-verify", "--source", `pay/pay=${other.payRepo}`], { cwd: other.repo });
    expect(once.code, once.stderr).toBe(0);
    expect(snapshot(other.repo)).toEqual(staged);
  });

  it("refuses the flags while something fleet cannot fix would break under them, and names it", async () => {
    const { repo, payRepo } = enterpriseRepo();
    // A platform HelmRelease outside flux-system: the controller's own account does not exist there.
    write(repo, "infrastructure/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - monitoring.yaml\n  - prometheus.yaml\n");
    write(
      repo,
      "infrastructure/prometheus.yaml",
      "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: prometheus\n  namespace: monitoring\nspec:\n  interval: 1h\n  chart:\n    spec:\n      chart: kube-prometheus-stack\n      version: 65.1.0\n      sourceRef:\n        kind: HelmRepository\n        name: prometheus-community\n        namespace: flux-system\n",
    );
    // The platform team labels its own namespaces as it labels flux-system: monitoring is not a tenant's.
    write(repo, "infrastructure/monitoring.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: monitoring\n  labels:\n    toolkit.fluxcd.io/tenant: platform\n");
    for (const c of CLUSTERS) fs.appendFileSync(path.join(repo, `clusters/${c}/flux-system/kustomization.yaml`), "labels:\n  - pairs:\n      toolkit.fluxcd.io/tenant: platform\n");
    // A team's Kustomization the way flux create kustomization makes it: in flux-system, reading the team's repository into its namespace.
    write(
      repo,
      "clusters/prod-eu/team-z.yaml",
      "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: team-z\n  namespace: flux-system\nspec:\n  interval: 1m\n  url: https://github.com/acme-payments/team-z\n  ref:\n    branch: main\n---\n" +
        ks("team-z", "flux-system", "  interval: 5m\n  path: ./deploy\n  prune: true\n  targetNamespace: team-z\n  sourceRef:\n    kind: GitRepository\n    name: team-z\n"),
    );
    // A squad's Kustomization written in flow style: fleet cannot add a line to it.
    const risk = read(repo, "tenants/base/risk/sync.yaml");
    write(repo, "tenants/base/risk/sync.yaml", `${risk.slice(0, risk.lastIndexOf("spec:\n"))}spec: {interval: 5m, path: ./deploy, prune: true, targetNamespace: risk, sourceRef: {kind: GitRepository, name: risk}}\n`);
    const plan = (JSON.parse((await fleet(["lockdown", "--plan", "--json", "--source", `pay/pay=${payRepo}`], { cwd: repo })).stdout) as PlanJson).plan;
    expect(plan.clusters[0]!.reconcilers.map((x) => x.namespace)).toEqual(SQUADS);
    expect(plan.clusters[0]!.appliers.find((a) => a.object === "Kustomization/flux-system/team-z")?.account).toBeUndefined();
    expect(plan.clusters[0]!.blockers.map((b) => b.object)).toEqual(expect.arrayContaining(["Kustomization/flux-system/team-z", "Kustomization/risk/risk"]));
    expect(plan.clusters[0]!.appliers.find((a) => a.object === "HelmRelease/monitoring/prometheus")?.account).toBeUndefined();
    const before = snapshot(repo);
    const r = await fleet(["lockdown", "--yes", "--source", `pay/pay=${payRepo}`], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("HelmRelease/monitoring/prometheus (infrastructure/prometheus.yaml): a platform HelmRelease in namespace monitoring");
    expect(r.stderr).toContain("spec.chart.spec.sourceRef points into namespace flux-system");
    expect(snapshot(repo)).toEqual(before);
    expect(r.stderr).toContain("Kustomization/flux-system/team-z (clusters/prod-eu/team-z.yaml): applies GitRepository/flux-system/team-z, content from outside this repository, into team-z");
    expect(r.stderr).toContain("Kustomization/risk/risk (tenants/base/risk/sync.yaml): fleet cannot give it its account");
    const platform = await fleet(["lockdown", "--yes", "--stage", "platform", "--no-verify", "--source", `pay/pay=${payRepo}`], { cwd: repo });
    expect(platform.code, platform.stderr).toBe(0);
    expect(read(repo, "clusters/prod-eu/team-z.yaml")).not.toContain("serviceAccountName");
    expect(read(repo, "tenants/base/pay/sync.yaml")).toContain("serviceAccountName: reconciler");
  });
});

/**
 * Flux's multi-tenancy example as a team has it before the lockdown: the tenant's base in
 * tenants/base/dev-team, the overlays set `namespace: apps` and patch the tenant's
 * Kustomization; the controllers run without the lockdown patches and the tenant's
 * Kustomization names no account.
 */
function multiTenancyRepo(): string {
  const repo = path.join(tmpDir(), "flux2-multi-tenancy");
  for (const c of ["staging", "production"]) {
    bootstrapStandIn(repo, c, "v2.8.5");
    // As Flux's example commits it: flux bootstrap writes the real one on the cluster.
    write(repo, `clusters/${c}/flux-system/gotk-sync.yaml`, "# This manifest was generated by flux. DO NOT EDIT.\n# Placeholder: flux bootstrap writes the sync objects.\n");
    write(repo, `clusters/${c}/flux-system/kustomization.yaml`, "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gotk-components.yaml\n  - gotk-sync.yaml\n");
    write(repo, `clusters/${c}/tenants.yaml`, ks("tenants", "flux-system", `  interval: 5m\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  path: ./tenants/${c}\n  prune: true\n`));
    write(repo, `tenants/${c}/kustomization.yaml`, "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: apps\nresources:\n  - ../base/dev-team\npatches:\n  - path: dev-team-patch.yaml\n");
    write(repo, `tenants/${c}/dev-team-patch.yaml`, ks("dev-team", "apps", `  path: ./${c}\n`));
  }
  write(repo, "tenants/base/dev-team/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: apps\nresources:\n  - rbac.yaml\n  - sync.yaml\n");
  write(repo, "tenants/base/dev-team/rbac.yaml", "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  labels:\n    toolkit.fluxcd.io/tenant: dev-team\n  name: apps\n");
  write(
    repo,
    "tenants/base/dev-team/sync.yaml",
    "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: dev-team\n  namespace: apps\nspec:\n  interval: 1m\n  url: https://github.com/fluxcd/flux2-multi-tenancy\n  ref:\n    branch: dev-team\n---\n" +
      ks("dev-team", "apps", "  interval: 5m\n  sourceRef:\n    kind: GitRepository\n    name: dev-team\n  prune: true\n"),
  );
  return repo;
}

describe("what the plan says a reconciler changes for a tenant", () => {
  it("an increase over the account a tenant acts as today, and tenants that would share one reconciler", async () => {
    const { repo, payRepo } = enterpriseRepo();
    // The flags' default account is on already, and cards' default account is bound to edit.
    for (const c of CLUSTERS)
      write(
        repo,
        `clusters/${c}/flux-system/kustomization.yaml`,
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gotk-components.yaml\n  - gotk-sync.yaml\npatches:\n  - patch: |\n      - op: add\n        path: /spec/template/spec/containers/0/args/-\n        value: --default-service-account=default\n    target:\n      kind: Deployment\n      name: \"(kustomize-controller|helm-controller)\"\n",
      );
    write(
      repo,
      "tenants/base/cards/rbac.yaml",
      "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: default-edit\n  namespace: cards\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: edit\nsubjects:\n  - kind: ServiceAccount\n    name: default\n    namespace: cards\n",
    );
    // A second team deploys from risk's namespace.
    const labelled = (name: string, team: string) =>
      `apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: ${name}\n  namespace: risk\n  labels:\n    toolkit.fluxcd.io/tenant: ${team}\nspec:\n  interval: 5m\n  path: ./${name}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: risk\n`;
    write(repo, "tenants/base/risk/quant.yaml", `${labelled("models", "quant")}---\n${labelled("scoring", "risk")}`);
    write(repo, "tenants/base/risk/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - namespace.yaml\n  - rbac.yaml\n  - sync.yaml\n  - quant.yaml\n");

    const r = await fleet(["lockdown", "--plan", "--json", "--source", `pay/pay=${payRepo}`], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout) as { plan: { clusters: Array<{ appliers: Array<{ object: string; increase?: string }>; reconcilers: Array<{ namespace: string; shared?: string[] }> }> } };
    for (const c of plan.plan.clusters) {
      const increases = c.appliers.filter((a) => a.increase);
      expect(increases.map((a) => a.object)).toEqual(["Kustomization/cards/cards"]);
      expect(increases[0]!.increase).toMatch(/ClusterRole admin lets it .*rbac\.authorization\.k8s\.io\/roles.* in cards, which cards:default may not today; --role edit keeps what it has/);
      expect(c.reconcilers.filter((x) => x.shared)).toEqual([expect.objectContaining({ namespace: "risk", shared: ["quant", "risk"] })]);
    }
    const text = (await fleet(["lockdown", "--plan", "--source", `pay/pay=${payRepo}`], { cwd: repo })).stdout;
    expect(text).toMatch(/more than today: ClusterRole admin lets it/);
    expect(text).toMatch(/note: tenants quant, risk .* share namespace risk, so one reconciler acts for all of them/);
  });
});

describe("fleet lockdown on Flux's multi-tenancy example", () => {
  it("plans and writes through the overlays' namespace transformer: the reconciler lands in apps, the overlays build, the tenant is isolated, and a second run changes nothing", async () => {
    const repo = multiTenancyRepo();
    const plan = (JSON.parse((await fleet(["lockdown", "--plan", "--json"], { cwd: repo })).stdout) as PlanJson).plan;
    for (const c of plan.clusters) {
      expect(c.appliers.map((a) => `${a.object} -> ${a.account}`).sort()).toEqual(
        ["Kustomization/apps/dev-team -> reconciler", "Kustomization/flux-system/flux-system -> kustomize-controller", "Kustomization/flux-system/tenants -> kustomize-controller"].sort(),
      );
      expect(c.reconcilers.map((x) => x.namespace)).toEqual(["apps"]);
    }
    const before = snapshot(repo);
    const r = await fleet(["lockdown", "--yes"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(read(repo, "tenants/base/dev-team/kustomization.yaml")).toContain("  - reconciler.yaml\n");
    // The sync Kustomization the placeholder stands for gets its account too: the flags reach it.
    expect(read(repo, "clusters/staging/flux-system/kustomization.yaml")).toContain(
      "  - patch: |\n      - op: add\n        path: /spec/serviceAccountName\n        value: kustomize-controller\n    target:\n      kind: Kustomization\n      name: flux-system\n",
    );
    for (const c of ["staging", "production"]) {
      const built = await kustomize(path.join(repo, "tenants", c));
      expect(built.find((o) => o.kind === "ServiceAccount")?.metadata).toMatchObject({ name: "reconciler", namespace: "apps" });
      expect(built.find((o) => o.kind === "Kustomization")?.spec).toMatchObject({ serviceAccountName: "reconciler", path: `./${c}` });
    }
    for (const dir of touchedDirs(repo, before)) expect((await kustomize(path.join(repo, dir))).length, dir).toBeGreaterThan(0);
    await expectIsolated(repo, [], plan.clusters.flatMap((c) => c.appliers.map((a) => ({ cluster: c.cluster, object: a.object }))));
    const after = snapshot(repo);
    const again = await fleet(["lockdown", "--yes"], { cwd: repo });
    expect(again.stdout).toContain("nothing to do");
    expect(snapshot(repo)).toEqual(after);
  });
});

describe("fleet lockdown where the Flux docs' lockdown is there already", () => {
  it("adds a controller the docs' patch does not name (source-watcher) to that patch's target, instead of a second patch with the same text", async () => {
    const repo = multiTenancyRepo();
    const DOCS = ["kustomize-controller", "helm-controller", "notification-controller", "image-reflector-controller", "image-automation-controller"];
    const arg = (v: string, name: string) => `  - patch: |\n      - op: add\n        path: /spec/template/spec/containers/0/args/-\n        value: ${v}\n    target:\n      kind: Deployment\n      name: "${name}"\n`;
    for (const c of ["staging", "production"]) {
      write(
        repo,
        `clusters/${c}/flux-system/kustomization.yaml`,
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gotk-components.yaml\n  - gotk-sync.yaml\npatches:\n" +
          arg("--no-cross-namespace-refs=true", `(${DOCS.join("|")})`) + arg("--no-remote-bases=true", "kustomize-controller") + arg("--default-service-account=default", "(kustomize-controller|helm-controller)") +
          "  - patch: |\n      - op: add\n        path: /spec/serviceAccountName\n        value: kustomize-controller\n    target:\n      kind: Kustomization\n      name: \"flux-system\"\n",
      );
      fs.appendFileSync(
        path.join(repo, `clusters/${c}/flux-system/gotk-components.yaml`),
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: source-watcher\n  namespace: flux-system\nspec:\n  template:\n    spec:\n      containers:\n        - name: manager\n          args:\n            - --log-level=info\n",
      );
    }
    const r = await fleet(["lockdown", "--yes", "--cluster", "staging"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const k = read(repo, "clusters/staging/flux-system/kustomization.yaml");
    expect(k).toContain(`      name: "((${DOCS.join("|")})|source-watcher)"\n`);
    expect(k.split("--no-cross-namespace-refs=true").length).toBe(2);
    const again = await fleet(["lockdown", "--plan", "--cluster", "staging"], { cwd: repo });
    expect(again.stdout).toContain("the controllers run with the lockdown already");
  });
});

describe("the proof of a lockdown", () => {
  it("refuses, writing nothing, where an overlay's patch would drop the account fleet adds", async () => {
    const repo = multiTenancyRepo();
    // The staging overlay replaces the tenant Kustomization's spec whole.
    write(repo, "tenants/staging/dev-team-patch.yaml", ks("dev-team", "apps", "  $patch: replace\n  interval: 5m\n  path: ./staging\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: dev-team\n"));
    const before = snapshot(repo);
    const r = await fleet(["lockdown", "--yes", "--stage", "platform", "--cluster", "staging"], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("cluster staging: after the change, Kustomization/apps/dev-team (tenants/base/dev-team/sync.yaml) still names no account");
    expect(snapshot(repo)).toEqual(before);
  });
});

describe("fleet lockdown on a cluster the Flux Operator installs", () => {
  it("turns on the FluxInstance's multitenant profile, keeping the default account it names, and gives the platform's Kustomizations their account", async () => {
    const repo = path.join(tmpDir(), "operator");
    write(
      repo,
      "clusters/staging/flux-system/flux-instance.yaml",
      "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\n  namespace: flux-system\nspec:\n  distribution:\n    version: \"2.9.4\"\n    registry: ghcr.io/fluxcd\n  cluster:\n    type: kubernetes\n    multitenant: false # until the tenants have accounts\n    tenantDefaultServiceAccount: flux-none\n  sync:\n    kind: GitRepository\n    url: https://github.com/acme/fleet\n    ref: refs/heads/main\n    path: clusters/staging\n",
    );
    write(repo, "clusters/staging/apps.yaml", ks("apps", "flux-system", "  interval: 10m\n  path: ./apps\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"));
    write(repo, "apps/team-a.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n  labels:\n    toolkit.fluxcd.io/tenant: team-a\n");
    const plan = (JSON.parse((await fleet(["lockdown", "--plan", "--json"], { cwd: repo })).stdout) as PlanJson).plan;
    expect(plan.clusters[0]!.appliers.map((a) => `${a.object} -> ${a.account}`)).toEqual(["Kustomization/flux-system/apps -> kustomize-controller"]);
    const r = await fleet(["lockdown", "--yes"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(read(repo, "clusters/staging/flux-system/flux-instance.yaml")).toContain("  cluster:\n    type: kubernetes\n    multitenant: true # until the tenants have accounts\n    tenantDefaultServiceAccount: flux-none\n");
    expect(read(repo, "clusters/staging/apps.yaml")).toContain("spec:\n  serviceAccountName: kustomize-controller\n");
    const v = JSON.parse((await fleet(["validate", "--json"], { cwd: repo })).stdout) as ValidateJson;
    expect(v.clusters[0]!.findings.filter((f) => ISOLATION_FINDINGS.includes(f.id))).toEqual([]);
  });
});
