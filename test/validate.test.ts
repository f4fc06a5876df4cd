/**
 * fleet validate on repos the tests write: what fleet writes validates clean; each invariant,
 * broken on purpose, is reported with its id, the object and the file it came from.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { RbacModel } from "../src/validate/rbac.js";
import { substituteObject, substituteString, variablesFor } from "../src/validate/substitute.js";
import type { Applied } from "../src/validate/model.js";
import { bootstrapStandIn, fleet, initRepo, read, tmpDir, write } from "./helpers.js";
import { DEFAULT_FLUX_VERSION } from "../src/flux/index.js";

/** A fleet repo as fleet writes it: two tenants, two clusters, bootstrapped. */
async function fleetRepo(): Promise<string> {
  const repo = await initRepo();
  for (const [c, env] of [["prod-eu", "prod"], ["staging-eu", "staging"]]) {
    expect((await fleet(["new-cluster", c!, "--env", env!, "--var", "region=eu-west-1", "--yes"], { cwd: repo })).code).toBe(0);
    bootstrapStandIn(repo, c!);
  }
  return repo;
}

interface Report {
  clusters: Array<{ name: string; errors: number; warnings: number; findings: Array<{ id: string; severity: string; object: string; file: string; message: string; fix: string }>; isolation: Array<{ identity: string; createClusterRoleBindings: boolean; readSecretsOf: string[] }>; notChecked: string[] }>;
  errors: number;
}

async function validate(repo: string, ...args: string[]): Promise<{ code: number; report: Report; stderr: string }> {
  const r = await fleet(["validate", "--json", ...args], { cwd: repo });
  return { code: r.code, report: r.stdout ? (JSON.parse(r.stdout) as Report) : ({} as Report), stderr: r.stderr };
}

const findings = (rep: Report, id: string) => rep.clusters.flatMap((c) => c.findings.filter((f) => f.id === id));

describe("what fleet writes", () => {
  it("validates clean: every cluster builds, every invariant holds, every tenant is isolated", async () => {
    const repo = await fleetRepo();
    expect((await fleet(["new-tenant", "team-ml", "--url", "https://github.com/acme/ml", "--env", "prod", "--yes"], { cwd: repo })).code).toBe(0);
    expect((await fleet(["add-image-automation", "--tenant", "team-ml", "--image", "ghcr.io/acme/ml", "--semver", "^1.0", "--yes"], { cwd: repo })).code).toBe(0);
    const { code, report, stderr } = await validate(repo);
    expect(stderr).toBe("");
    expect(report.clusters.map((c) => c.findings)).toEqual([[], []]);
    expect(code).toBe(0);
    const prod = report.clusters.find((c) => c.name === "prod-eu")!;
    expect(prod.isolation.map((i) => i.identity).sort()).toEqual([
      "system:serviceaccount:team-ml:reconciler",
      "system:serviceaccount:team-payments:reconciler",
      "system:serviceaccount:team-search:reconciler",
    ]);
    for (const i of prod.isolation) {
      expect(i.createClusterRoleBindings).toBe(false);
      expect(i.readSecretsOf).toEqual([]);
    }
    // Tenants' own repositories are not here: said, not silently skipped.
    expect(prod.notChecked).toContain("GitRepository/team-ml/team-ml (source of Kustomization/team-ml/team-ml)");
    const text = await fleet(["validate"], { cwd: repo });
    expect(text.stdout).toMatch(new RegExp(`cluster prod-eu \\(Flux ${DEFAULT_FLUX_VERSION}\\): \\d+ objects, 0 errors, 0 warnings`));
    expect(text.stdout).toMatch(/isolation: 3 tenant reconcilers; none can create clusterrolebindings or get another tenant's secrets/);
  });
});

describe("each invariant, broken, is named with its object and file", () => {
  const cases: Array<[string, string, (repo: string) => void | Promise<void>, { object: string; file: string; severity?: string }]> = [
    ["build-failed", "a tenants overlay that does not build", (r) => write(r, "tenants/prod/kustomization.yaml", read(r, "tenants/prod/kustomization.yaml").replace("resources:\n", "resources:\n  - missing.yaml\n")),
      { object: "Kustomization/flux-system/tenants", file: "clusters/prod-eu/tenants.yaml" }],
    ["cluster-entry-only-points", "a workload in the cluster directory", (r) => {
      write(r, "clusters/prod-eu/app.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: stray\n  namespace: default\n");
      write(r, "clusters/prod-eu/kustomization.yaml", read(r, "clusters/prod-eu/kustomization.yaml") + "  - app.yaml\n");
    }, { object: "ConfigMap/default/stray", file: "clusters/prod-eu/app.yaml", severity: "warning" }],
    ["depends-on-missing", "a dependency on nothing", (r) => write(r, "clusters/prod-eu/tenants.yaml", read(r, "clusters/prod-eu/tenants.yaml").replace("- name: infrastructure", "- name: nope")),
      { object: "Kustomization/flux-system/tenants", file: "clusters/prod-eu/tenants.yaml" }],
    ["depends-on-cycle", "infrastructure and tenants waiting on each other", (r) => write(r, "clusters/prod-eu/infrastructure.yaml", read(r, "clusters/prod-eu/infrastructure.yaml").replace("spec:\n", "spec:\n  dependsOn:\n    - name: tenants\n")),
      { object: "Kustomization/flux-system/infrastructure", file: "clusters/prod-eu/infrastructure.yaml" }],
    ["depends-on-direction", "infrastructure waiting on tenants", (r) => {
      write(r, "clusters/prod-eu/infrastructure.yaml", read(r, "clusters/prod-eu/infrastructure.yaml").replace("spec:\n", "spec:\n  dependsOn:\n    - name: tenants\n"));
      write(r, "clusters/prod-eu/tenants.yaml", read(r, "clusters/prod-eu/tenants.yaml").replace("  dependsOn:\n    - name: infrastructure\n", ""));
    }, { object: "Kustomization/flux-system/infrastructure", file: "clusters/prod-eu/infrastructure.yaml", severity: "warning" }],
    ["platform-service-account", "a platform Kustomization without serviceAccountName", (r) => write(r, "clusters/prod-eu/infrastructure.yaml", read(r, "clusters/prod-eu/infrastructure.yaml").replace("  serviceAccountName: kustomize-controller\n", "")),
      { object: "Kustomization/flux-system/infrastructure", file: "clusters/prod-eu/infrastructure.yaml" }],
    ["tenant-service-account", "a tenant Kustomization without serviceAccountName", (r) => write(r, "tenants/base/team-search/sync.yaml", read(r, "tenants/base/team-search/sync.yaml").replace("  serviceAccountName: reconciler\n", "")),
      { object: "Kustomization/team-search/team-search", file: "tenants/base/team-search/sync.yaml" }],
    ["tenant-target-namespace", "a tenant Kustomization aimed at another namespace", (r) => write(r, "tenants/base/team-search/sync.yaml", read(r, "tenants/base/team-search/sync.yaml").replace("targetNamespace: team-search", "targetNamespace: kube-system")),
      { object: "Kustomization/team-search/team-search", file: "tenants/base/team-search/sync.yaml" }],
    ["cross-namespace-ref", "a tenant reading the platform's source", (r) => write(r, "tenants/base/team-search/sync.yaml", read(r, "tenants/base/team-search/sync.yaml").replace("    kind: GitRepository\n    name: team-search\n", "    kind: GitRepository\n    name: flux-system\n    namespace: flux-system\n")),
      { object: "Kustomization/team-search/team-search", file: "tenants/base/team-search/sync.yaml" }],
    ["tenant-source-in-namespace", "a tenant whose source is missing", (r) => write(r, "tenants/base/team-search/sync.yaml", read(r, "tenants/base/team-search/sync.yaml").replace("    name: team-search\n", "    name: other\n")),
      { object: "Kustomization/team-search/team-search", file: "tenants/base/team-search/sync.yaml", severity: "warning" }],
    ["tenant-cluster-admin-rolebinding", "a tenant bound to cluster-admin in its namespace", (r) => write(r, "tenants/base/team-search/rbac.yaml", read(r, "tenants/base/team-search/rbac.yaml").replace("name: admin", "name: cluster-admin")),
      { object: "RoleBinding/team-search/reconciler", file: "tenants/base/team-search/rbac.yaml", severity: "warning" }],
    ["tenant-cluster-binding", "a ClusterRoleBinding for a tenant's reconciler", (r) => addClusterBinding(r, "view", "- kind: ServiceAccount\n    name: reconciler\n    namespace: team-search"),
      { object: "ClusterRoleBinding/tenant-extra", file: "infrastructure/base/extra.yaml" }],
    ["isolation-other-tenant-secrets", "a tenant able to read another tenant's secrets", (r) => addClusterBinding(r, "edit", "- kind: User\n    name: system:serviceaccount:team-search:reconciler"),
      { object: "ClusterRoleBinding/tenant-extra", file: "infrastructure/base/extra.yaml" }],
    ["isolation-cluster-scope", "every service account of a tenant namespace made cluster-admin", (r) => addClusterBinding(r, "cluster-admin", "- kind: Group\n    name: system:serviceaccounts:team-search\n    apiGroup: rbac.authorization.k8s.io"),
      { object: "ClusterRoleBinding/tenant-extra", file: "infrastructure/base/extra.yaml" }],
    ["tenant-object-namespace", "a tenant's quota in default", (r) => write(r, "tenants/prod/team-search/quota.yaml", read(r, "tenants/prod/team-search/quota.yaml").replace("kind: ResourceQuota\nmetadata:\n  name: team-search\n  namespace: team-search", "kind: ResourceQuota\nmetadata:\n  name: team-search\n  namespace: default")),
      { object: "ResourceQuota/default/team-search", file: "tenants/prod/team-search/quota.yaml", severity: "warning" }],
    ["tenant-file-platform-authority", "a file planted in a tenant's base: a Kustomization in flux-system running as the controller", (r) => {
      write(r, "tenants/base/team-search/escalate.yaml", "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: team-search-admin\n  namespace: flux-system\nspec:\n  serviceAccountName: kustomize-controller\n  interval: 5m\n  path: ./\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n");
      write(r, "tenants/base/team-search/kustomization.yaml", read(r, "tenants/base/team-search/kustomization.yaml").replace("resources:\n", "resources:\n  - escalate.yaml\n"));
    }, { object: "Kustomization/flux-system/team-search-admin", file: "tenants/base/team-search/escalate.yaml" }],
    ["prune", "a tenant Kustomization that does not prune", (r) => write(r, "tenants/base/team-search/sync.yaml", read(r, "tenants/base/team-search/sync.yaml").replace("prune: true", "prune: false")),
      { object: "Kustomization/team-search/team-search", file: "tenants/base/team-search/sync.yaml", severity: "warning" }],
    ["api-version", "an API version Flux 2.7 no longer serves", (r) => addInfra(r, "apiVersion: image.toolkit.fluxcd.io/v1beta1\nkind: ImagePolicy\nmetadata:\n  name: old\n  namespace: flux-system\nspec:\n  imageRepositoryRef:\n    name: old\n"),
      { object: "ImagePolicy/flux-system/old", file: "infrastructure/base/extra.yaml" }],
    ["version-pinned", "a Helm chart that follows a range", (r) => addInfra(r, "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: ingress\n  namespace: flux-system\nspec:\n  interval: 1h\n  chart:\n    spec:\n      chart: ingress-nginx\n      version: 4.x\n      sourceRef:\n        kind: HelmRepository\n        name: ingress\n"),
      { object: "HelmRelease/flux-system/ingress", file: "infrastructure/base/extra.yaml", severity: "warning" }],
    ["substitution-unresolved", "a ${var} with no value", (r) => addInfra(r, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dns\n  namespace: default\ndata:\n  zone: ${cluster_zone}\n"),
      // An error under the default pin (2.9 substitutes strictly); a warning before 2.9, below.
      { object: "ConfigMap/default/dns", file: "infrastructure/base/extra.yaml" }],
    ["substitution-source-missing", "substituteFrom a ConfigMap that is not there", (r) => write(r, "clusters/prod-eu/infrastructure.yaml", read(r, "clusters/prod-eu/infrastructure.yaml").replace("name: cluster-vars", "name: nope")),
      { object: "Kustomization/flux-system/infrastructure", file: "clusters/prod-eu/infrastructure.yaml", severity: "warning" }],
    ["duplicate-object", "one object applied by infrastructure and tenants both", (r) => {
      addInfra(r, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n  namespace: default\n");
      write(r, "tenants/prod/shared.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n  namespace: default\n");
      write(r, "tenants/prod/kustomization.yaml", read(r, "tenants/prod/kustomization.yaml").replace("resources:\n", "resources:\n  - shared.yaml\n"));
    }, { object: "ConfigMap/default/shared", file: "tenants/prod/shared.yaml", severity: "warning" }],
    ["lockdown", "a cluster bootstrapped without the lockdown patches", (r) => write(r, "clusters/prod-eu/flux-system/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gotk-components.yaml\n  - gotk-sync.yaml\n  - cluster-vars.yaml\n"),
      { object: "Deployment/flux-system/kustomize-controller", file: "clusters/prod-eu/flux-system/gotk-components.yaml" }],
    ["image-push-branch", "image automation pushing to the deployed branch", async (r) => expect((await fleet(["add-image-automation", "--tenant", "team-search", "--image", "ghcr.io/acme/s", "--semver", "^1.0", "--push-branch", "main", "--yes"], { cwd: r })).code).toBe(0),
      { object: "ImageUpdateAutomation/team-search/s", file: "tenants/base/team-search/image-s.yaml", severity: "warning" }],
  ];

  function addInfra(repo: string, yaml: string) {
    write(repo, "infrastructure/base/extra.yaml", yaml);
    write(repo, "infrastructure/base/kustomization.yaml", read(repo, "infrastructure/base/kustomization.yaml").replace("resources:\n", "resources:\n  - extra.yaml\n"));
  }
  function addClusterBinding(repo: string, role: string, subject: string) {
    addInfra(repo, `apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: tenant-extra\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: ${role}\nsubjects:\n  ${subject}\n`);
  }

  // One repo, broken in one way per case in a copy of it.
  let pristine: string;
  beforeAll(async () => {
    pristine = await fleetRepo();
  });
  it.each(cases)("%s: %s", async (id, _what, breakIt, where) => {
    const repo = path.join(tmpDir(), "fleet-infra");
    fs.cpSync(pristine, repo, { recursive: true });
    await breakIt(repo);
    const { code, report } = await validate(repo, "--cluster", "prod-eu");
    const hit = findings(report, id).find((f) => f.object === where.object);
    expect(hit, `${id} on ${where.object}; got ${JSON.stringify(report.clusters?.[0]?.findings.map((f) => [f.id, f.object]))}`).toBeDefined();
    expect(hit!.file).toBe(where.file);
    expect(hit!.severity).toBe(where.severity ?? "error");
    expect(hit!.fix.length).toBeGreaterThan(10);
    expect(code).toBe((where.severity ?? "error") === "error" ? 1 : report.errors > 0 ? 1 : 0);
  });
});

describe("postBuild substitution", () => {
  const ks = (spec: object): Applied["obj"] => ({ apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", metadata: { name: "apps", namespace: "flux-system" }, spec: { postBuild: spec } });
  const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "vars", namespace: "flux-system" }, data: { region: "eu-west-1", zone: "a", empty: "" } };
  const secret = { apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "flux-system" }, data: { token: Buffer.from("t0k").toString("base64") } };

  it("inline substitute wins over substituteFrom; Secrets are decoded", async () => {
    const { vars } = variablesFor(ks({ substitute: { region: "us-east-1" }, substituteFrom: [{ kind: "ConfigMap", name: "vars" }, { kind: "Secret", name: "s" }] }), [cm, secret]);
    expect(vars).toMatchObject({ region: "us-east-1", zone: "a", token: "t0k" });
  });

  it("defaults apply when a variable is unset or empty; $${var} stays a literal ${var}", async () => {
    const missing = new Set<string>();
    expect(substituteString("${region}-${nope:=x}-${empty:-y}-${nope2=z}-$${region}", { region: "eu", empty: "" }, missing)).toBe("eu-x-y-z-${region}");
    expect([...missing]).toEqual([]);
    substituteString("${gone}", {}, missing);
    expect([...missing]).toEqual(["gone"]);
  });

  it("a resource with the opt-out annotation is left as it is", async () => {
    const obj = { kind: "ConfigMap", metadata: { name: "script", annotations: { "kustomize.toolkit.fluxcd.io/substitute": "disabled" } }, data: { run: "echo ${HOME}" } };
    expect(substituteObject(obj, {})).toEqual({ obj, missing: [] });
  });

  it("an unresolved variable is a warning up to Flux 2.8 and an error from 2.9, where substitution is strict", async () => {
    for (const [pin, severity, code] of [["v2.8.5", "warning", 0], ["v2.9.4", "error", 1]] as const) {
      const repo = await fleetRepo();
      write(repo, "fleet.yaml", read(repo, "fleet.yaml").replace(`version: ${DEFAULT_FLUX_VERSION}`, `version: ${pin}`));
      write(repo, "infrastructure/base/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dns\n  namespace: default\ndata:\n  zone: ${cluster_zone}\n  region: ${region}\n");
      write(repo, "infrastructure/base/kustomization.yaml", read(repo, "infrastructure/base/kustomization.yaml").replace("resources:\n", "resources:\n  - extra.yaml\n"));
      const { code: exit, report } = await validate(repo, "--cluster", "prod-eu");
      const hits = findings(report, "substitution-unresolved");
      expect(hits.map((h) => [h.object, h.severity])).toEqual([["ConfigMap/default/dns", severity]]);
      expect(hits[0]!.message).toMatch(/\$\{cluster_zone\}/);
      expect(exit).toBe(code);
    }
  });
});

describe("the RBAC model", () => {
  const a = (obj: Applied["obj"]): Applied => ({ obj, file: "f.yaml", appliedBy: "" });
  const tenant = { namespace: "team-a", name: "reconciler" };
  const rb = (ns: string, role: string, subjects: unknown[], kind = "RoleBinding") =>
    a({ apiVersion: "rbac.authorization.k8s.io/v1", kind, metadata: { name: "b", ...(kind === "RoleBinding" ? { namespace: ns } : {}) }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role }, subjects: subjects as never });

  it("a RoleBinding to cluster-admin grants no cluster-scoped verb, only its own namespace", async () => {
    const m = new RbacModel([rb("team-a", "cluster-admin", [{ kind: "ServiceAccount", name: "reconciler", namespace: "team-a" }])]);
    expect(m.canI(tenant, "create", "rbac.authorization.k8s.io", "clusterrolebindings")).toEqual([]);
    expect(m.canI(tenant, "get", "", "secrets", "team-b")).toEqual([]);
    expect(m.canI(tenant, "get", "", "secrets", "team-a")).toHaveLength(1);
  });

  it("a ClusterRoleBinding to a tenant's service account grants everywhere", async () => {
    const m = new RbacModel([rb("", "view", [{ kind: "ServiceAccount", name: "reconciler", namespace: "team-a" }], "ClusterRoleBinding")]);
    expect(m.canI(tenant, "list", "", "pods", "team-b")).toHaveLength(1);
    expect(m.canI(tenant, "get", "", "secrets", "team-b")).toEqual([]);
    expect(m.canI(tenant, "create", "rbac.authorization.k8s.io", "clusterrolebindings")).toEqual([]);
  });

  it("group subjects count: system:serviceaccounts, system:serviceaccounts:<ns>, system:authenticated", async () => {
    for (const group of ["system:serviceaccounts", "system:serviceaccounts:team-a", "system:authenticated"]) {
      const m = new RbacModel([rb("", "cluster-admin", [{ kind: "Group", name: group }], "ClusterRoleBinding")]);
      expect(m.canI(tenant, "create", "rbac.authorization.k8s.io", "clusterrolebindings"), group).toHaveLength(1);
    }
    const other = new RbacModel([rb("", "cluster-admin", [{ kind: "Group", name: "system:serviceaccounts:team-b" }], "ClusterRoleBinding")]);
    expect(other.canI(tenant, "create", "rbac.authorization.k8s.io", "clusterrolebindings")).toEqual([]);
  });

  it("a tenant that may impersonate a more powerful account in its namespace has that account's power", async () => {
    const m = new RbacModel([
      rb("team-a", "admin", [{ kind: "ServiceAccount", name: "reconciler", namespace: "team-a" }]),
      rb("", "cluster-admin", [{ kind: "ServiceAccount", name: "deployer", namespace: "team-a" }], "ClusterRoleBinding"),
    ]);
    const g = m.canI(tenant, "create", "rbac.authorization.k8s.io", "clusterrolebindings");
    expect(g).toHaveLength(1);
    expect(g[0]!.role).toBe("ClusterRole cluster-admin after acting as system:serviceaccount:team-a:deployer");
  });

  it("edit granted cluster-wide reaches Flux's own reconcilers, and so cluster-admin", async () => {
    const m = new RbacModel([rb("", "edit", [{ kind: "ServiceAccount", name: "reconciler", namespace: "team-a" }], "ClusterRoleBinding")]);
    expect(m.canI(tenant, "create", "rbac.authorization.k8s.io", "clusterrolebindings")[0]!.role).toMatch(/after acting as system:serviceaccount:flux-system:(kustomize|helm)-controller/);
  });

  it("creating pods or tokens in flux-system is acting as Flux's reconcilers: a pod can mount kustomize-controller's account", async () => {
    for (const resource of ["pods", "serviceaccounts/token"]) {
      const role = a({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "r", namespace: "flux-system" }, rules: [{ apiGroups: [""], resources: [resource], verbs: ["create"] }] });
      const bind = a({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "x", namespace: "flux-system" }, roleRef: { kind: "Role", name: "r" }, subjects: [{ kind: "ServiceAccount", name: "reconciler", namespace: "team-a" }] });
      expect(new RbacModel([role, bind]).canI(tenant, "create", "rbac.authorization.k8s.io", "clusterrolebindings")[0]?.role, resource).toMatch(/cluster-admin after acting as system:serviceaccount:flux-system:(kustomize|helm)-controller/);
    }
  });

  it("view does not read secrets; a Role's own rules are used", async () => {
    const role = a({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "r", namespace: "team-b" }, rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }] });
    const bindRole = a({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "x", namespace: "team-b" }, roleRef: { kind: "Role", name: "r" }, subjects: [{ kind: "ServiceAccount", name: "reconciler", namespace: "team-a" }] });
    expect(new RbacModel([rb("team-b", "view", [{ kind: "ServiceAccount", name: "reconciler", namespace: "team-a" }])]).canI(tenant, "get", "", "secrets", "team-b")).toEqual([]);
    expect(new RbacModel([role, bindRole]).canI(tenant, "get", "", "secrets", "team-b")).toHaveLength(1);
  });
});

describe("repos fleet did not write", () => {
  it("Flux's multi-tenancy example: the cluster-admin RoleBinding is a warning and isolation still holds", async () => {
    const repo = path.join(tmpDir(), "mt");
    bootstrapStandIn(repo, "staging");
    write(repo, "clusters/staging/flux-system/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gotk-components.yaml\n  - gotk-sync.yaml\n");
    write(repo, "clusters/staging/tenants.yaml", "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: tenants\n  namespace: flux-system\nspec:\n  interval: 5m\n  serviceAccountName: kustomize-controller\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  path: ./tenants/staging\n  prune: true\n");
    write(repo, "tenants/staging/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../base/dev-team\npatches:\n  - path: dev-team-patch.yaml\n");
    write(repo, "tenants/staging/dev-team-patch.yaml", "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: dev-team\n  namespace: apps\nspec:\n  path: ./staging\n");
    write(repo, "tenants/base/dev-team/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: apps\nresources:\n  - rbac.yaml\n  - sync.yaml\n");
    write(repo, "tenants/base/dev-team/rbac.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n  labels:\n    toolkit.fluxcd.io/tenant: dev-team\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: dev-team\n  namespace: apps\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: dev-team-reconciler\n  namespace: apps\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n  - apiGroup: rbac.authorization.k8s.io\n    kind: User\n    name: gotk:apps:reconciler\n  - kind: ServiceAccount\n    name: dev-team\n    namespace: apps\n");
    write(repo, "tenants/base/dev-team/sync.yaml", "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: dev-team\n  namespace: apps\nspec:\n  interval: 1m\n  url: https://github.com/fluxcd/flux2-kustomize-helm-example\n  ref:\n    branch: dev-team\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: dev-team\n  namespace: apps\nspec:\n  serviceAccountName: dev-team\n  targetNamespace: apps\n  interval: 5m\n  sourceRef:\n    kind: GitRepository\n    name: dev-team\n  prune: true\n");
    const { report } = await validate(repo);
    const warn = findings(report, "tenant-cluster-admin-rolebinding");
    expect(warn.map((f) => [f.object, f.file, f.severity])).toEqual([["RoleBinding/apps/dev-team-reconciler", "tenants/base/dev-team/rbac.yaml", "warning"]]);
    expect(report.clusters[0]!.isolation).toEqual([{ identity: "system:serviceaccount:apps:dev-team", createClusterRoleBindings: false, readSecretsOf: [] }]);
    // The lockdown is missing on this cluster, and validate says so.
    expect(findings(report, "lockdown").map((f) => f.object)).toContain("Deployment/flux-system/kustomize-controller");
  });

  it("Flux's kustomize-helm example: every path builds, platform HelmReleases are not tenants, missing service accounts are named", async () => {
    const repo = path.join(tmpDir(), "kh");
    bootstrapStandIn(repo, "production");
    write(repo, "clusters/production/flux-system/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gotk-components.yaml\n  - gotk-sync.yaml\n");
    const ks = (name: string, p: string, dep?: string) => `---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: ${name}\n  namespace: flux-system\nspec:\n${dep ? `  dependsOn:\n    - name: ${dep}\n` : ""}  interval: 1h\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  path: ${p}\n  prune: true\n  wait: true\n`;
    write(repo, "clusters/production/infrastructure.yaml", ks("infra-controllers", "./infrastructure/controllers") + ks("infra-configs", "./infrastructure/configs", "infra-controllers"));
    write(repo, "clusters/production/apps.yaml", ks("apps", "./apps/production", "infra-configs"));
    write(repo, "infrastructure/controllers/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - cert-manager.yaml\n");
    write(repo, "infrastructure/controllers/cert-manager.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: cert-manager\n---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata:\n  name: cert-manager\n  namespace: cert-manager\nspec:\n  interval: 24h\n  url: https://charts.jetstack.io\n---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: cert-manager\n  namespace: cert-manager\nspec:\n  interval: 30m\n  chart:\n    spec:\n      chart: cert-manager\n      version: \"1.x\"\n      sourceRef:\n        kind: HelmRepository\n        name: cert-manager\n        namespace: cert-manager\n");
    write(repo, "infrastructure/configs/cluster-issuers.yaml", "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: letsencrypt\nspec:\n  acme:\n    server: https://acme-v02.api.letsencrypt.org/directory\n");
    write(repo, "apps/base/podinfo/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: podinfo\nresources:\n  - release.yaml\n");
    write(repo, "apps/base/podinfo/release.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: podinfo\n---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\nspec:\n  interval: 50m\n  chart:\n    spec:\n      chart: podinfo\n      sourceRef:\n        kind: HelmRepository\n        name: podinfo\n");
    write(repo, "apps/production/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../base/podinfo\n");
    const { report, code } = await validate(repo);
    expect(findings(report, "build-failed")).toEqual([]);
    // No lockdown, so no default account: a Kustomization without one acts as the controller, as meant.
    expect(findings(report, "platform-service-account")).toEqual([]);
    expect(findings(report, "tenant-service-account")).toEqual([]);
    // No tenants either: the missing lockdown is hardening, a warning per controller.
    const lockdown = findings(report, "lockdown");
    expect(lockdown.map((f) => f.object)).toContain("Deployment/flux-system/kustomize-controller");
    expect(new Set(lockdown.map((f) => f.severity))).toEqual(new Set(["warning"]));
    // A ClusterIssuer from a path with no kustomization.yaml: built the way Flux generates one.
    expect(report.clusters[0]!.findings.some((f) => f.object.startsWith("ClusterIssuer"))).toBe(false);
    expect(report.errors).toBe(0);
    expect(code).toBe(0);
  });
});

describe("when validate cannot run", () => {
  it("exits 3 naming kubectl when it is not on PATH", async () => {
    const repo = await fleetRepo();
    const r = await fleet(["validate"], { cwd: repo, env: { PATH: tmpDir("fleet-empty-path-") } });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/kubectl is not installed or not on PATH/);
  });

  it("exits 2 naming the cluster that does not exist", async () => {
    const repo = await fleetRepo();
    const r = await fleet(["validate", "--cluster", "nope"], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no cluster 'nope'.*prod-eu, staging-eu/);
  });
});

describe("--explain-access", () => {
  it("prints what an identity can do and which binding grants it", async () => {
    const repo = await fleetRepo();
    const r = await fleet(["validate", "--explain-access", "team-payments/reconciler", "--cluster", "prod-eu"], { cwd: repo });
    expect(r.stdout).toMatch(/RoleBinding reconciler \(tenants\/base\/team-payments\/rbac\.yaml\) -> ClusterRole admin, namespace team-payments/);
    expect(r.stdout).toMatch(/can-i create clusterrolebindings: no/);
  });

  it("with --json, prints the same answers as one JSON document", async () => {
    const repo = await fleetRepo();
    const r = await fleet(["validate", "--explain-access", "team-payments/reconciler", "--cluster", "prod-eu", "--json"], { cwd: repo });
    const doc = JSON.parse(r.stdout) as { explainAccess: { identity: string; clusters: Array<{ name: string; bindings: Array<{ name: string; role: string; file: string }>; createClusterRoleBindings: { allowed: boolean } }> } };
    expect(doc.explainAccess.identity).toBe("system:serviceaccount:team-payments:reconciler");
    const [cluster] = doc.explainAccess.clusters;
    expect(cluster!.name).toBe("prod-eu");
    expect(cluster!.bindings).toContainEqual(expect.objectContaining({ name: "reconciler", role: "ClusterRole admin", file: "tenants/base/team-payments/rbac.yaml" }));
    expect(cluster!.createClusterRoleBindings.allowed).toBe(false);
  });
});

describe("--source maps a tenant's repository to a local directory", () => {
  it("builds the tenant's own manifests under its Kustomization's targetNamespace and checks them", async () => {
    const repo = await fleetRepo();
    const tenantRepo = tmpDir();
    write(tenantRepo, "deploy/prod/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n");
    write(tenantRepo, "deploy/prod/crb.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: sneaky\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n  - kind: ServiceAccount\n    name: reconciler\n    namespace: team-payments\n");
    const { report } = await validate(repo, "--cluster", "prod-eu", "--source", `team-payments/team-payments=${tenantRepo}`);
    expect(report.clusters[0]!.notChecked.some((n) => n.includes("team-payments/team-payments"))).toBe(false);
    const hit = findings(report, "tenant-cluster-binding")[0]!;
    expect(hit.object).toBe("ClusterRoleBinding/sneaky");
  });

  it("a name no Kustomization reads, or a directory that is not there, is bad input: exit 2, naming --source", async () => {
    const repo = await fleetRepo();
    const tenantRepo = tmpDir();
    // A typo in the namespace: the tenant's content would silently go unchecked.
    const typo = await fleet(["validate", "--cluster", "prod-eu", "--source", `team-payment/team-payments=${tenantRepo}`], { cwd: repo });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/--source.*team-payment\/team-payments/);
    const missing = await fleet(["validate", "--source", `team-payments/team-payments=${path.join(tenantRepo, "nope")}`], { cwd: repo });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--source.*is no directory/);
  });
});
