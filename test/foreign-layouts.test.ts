/**
 * fleet edits repos it did not write, in the shapes real Flux repos have, and every touched
 * overlay still builds with the existing tenants' objects byte-identical (the real
 * `kubectl kustomize` output compared), or it refuses and writes nothing.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { fleet, kustomize, read, snapshot, tmpDir, write } from "./helpers.js";

const y = (...lines: string[]) => lines.join("\n") + "\n";

/** Objects of a build by kind/namespace/name, each as its canonical JSON. */
async function built(repo: string, dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const o of await kustomize(path.join(repo, dir))) out.set(`${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`, JSON.stringify(o));
  return out;
}

/** Every object of `before` is in `after`, unchanged. */
function unchanged(before: Map<string, string>, after: Map<string, string>): void {
  for (const [k, v] of before) expect(after.get(k), k).toBe(v);
}

const inNamespace = (objs: Map<string, string>, tenant: string) =>
  [...objs.entries()].filter(([, v]) => JSON.stringify(JSON.parse(v).metadata).includes(tenant)).map(([k]) => k);

async function ok(args: string[], repo: string) {
  const r = await fleet([...args, "--yes"], { cwd: repo });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return r;
}

const newTenant = (name: string, ...more: string[]) => ["new-tenant", name, "--url", `https://github.com/acme/${name}`, ...more];

/** fluxcd/flux2-multi-tenancy: `namespace: apps` in the base and in both environment overlays. */
function multiTenancy(): string {
  const repo = path.join(tmpDir(), "flux2-multi-tenancy");
  write(repo, "tenants/base/dev-team/kustomization.yaml", y("apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "namespace: apps", "resources:", "  - rbac.yaml", "  - sync.yaml"));
  write(repo, "tenants/base/dev-team/rbac.yaml", y(
    "---", "apiVersion: v1", "kind: Namespace", "metadata:", "  labels:", "    toolkit.fluxcd.io/tenant: dev-team", "  name: apps",
    "---", "apiVersion: v1", "kind: ServiceAccount", "metadata:", "  name: dev-team", "  namespace: apps",
    "---", "apiVersion: rbac.authorization.k8s.io/v1", "kind: RoleBinding", "metadata:", "  name: gotk-reconciler", "  namespace: apps",
    "roleRef:", "  apiGroup: rbac.authorization.k8s.io", "  kind: ClusterRole", "  name: cluster-admin",
    "subjects:", "- kind: User", "  name: gotk:apps:reconciler", "- kind: ServiceAccount", "  name: dev-team", "  namespace: apps",
  ));
  write(repo, "tenants/base/dev-team/sync.yaml", y(
    "apiVersion: source.toolkit.fluxcd.io/v1beta2", "kind: GitRepository", "metadata:", "  name: dev-team", "  namespace: apps",
    "spec:", "  interval: 1m", "  url: https://github.com/fluxcd/flux2-multi-tenancy", "  ref:", "    branch: dev-team",
    "---", "apiVersion: kustomize.toolkit.fluxcd.io/v1beta2", "kind: Kustomization", "metadata:", "  name: dev-team", "  namespace: apps",
    "spec:", "  serviceAccountName: dev-team", "  interval: 5m", "  sourceRef:", "    kind: GitRepository", "    name: dev-team", "  prune: true",
  ));
  for (const env of ["staging", "production"]) {
    write(repo, `tenants/${env}/kustomization.yaml`, y("apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "namespace: apps", "resources:", "  - ../base/dev-team", "patches:", "  - path: dev-team-patch.yaml"));
    write(repo, `tenants/${env}/dev-team-patch.yaml`, y("apiVersion: kustomize.toolkit.fluxcd.io/v1beta2", "kind: Kustomization", "metadata:", "  name: dev-team", "  namespace: apps", "spec:", `  path: ./${env}`));
  }
  write(repo, "infrastructure/kyverno/kustomization.yaml", y("apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources: []"));
  write(repo, "infrastructure/kyverno-policies/kustomization.yaml", y("apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources: []"));
  return repo;
}

describe("Flux's multi-tenancy example (namespace: apps in every overlay)", () => {
  it("adopt, new-tenant, new-env and remove-tenant all work, dev-team's built objects never change, and the round trip gives the repo back", async () => {
    const repo = multiTenancy();
    await ok(["init", ".", "--adopt"], repo);
    const adopted = snapshot(repo);
    const before = { staging: await built(repo, "tenants/staging"), production: await built(repo, "tenants/production") };

    await ok(newTenant("team-x"), repo);
    for (const env of ["staging", "production"] as const) {
      const after = await built(repo, `tenants/${env}`);
      unchanged(before[env], after);
      // Outside the overlay's `namespace: apps`: team-x's objects are in team-x, its Namespace is its own.
      expect(after.has("Namespace//team-x")).toBe(true);
      expect(after.has("RoleBinding/team-x/reconciler")).toBe(true);
      expect(inNamespace(after, "team-x").every((k) => !k.includes("/apps/"))).toBe(true);
    }
    expect(read(repo, "tenants/staging/_transformed/kustomization.yaml")).toMatch(/namespace: apps[\s\S]*- \.\.\/\.\.\/base\/dev-team[\s\S]*- path: dev-team-patch\.yaml/);

    // new-env: the adopted tenant's patch is written at the v1beta2 its base uses, so it applies.
    await ok(["new-env", "qa"], repo);
    const qa = await built(repo, "tenants/qa");
    expect(JSON.parse(qa.get("Kustomization/apps/dev-team")!).spec.path).toBe("./qa");
    expect(JSON.parse(qa.get("GitRepository/apps/dev-team")!).apiVersion).toBe("source.toolkit.fluxcd.io/v1beta2");
    expect(fs.existsSync(path.join(repo, "infrastructure/qa"))).toBe(false);

    await ok(["remove-tenant", "qa-less-name-never-there"], repo);
    // Both steps at once here (test/offboarding.test.ts has the two steps; this is about the layout).
    await ok(["remove-tenant", "team-x", "--all-at-once"], repo);
    // Its next steps name the namespace it lives in, not its name.
    expect((await ok(["remove-tenant", "dev-team", "--all-at-once"], repo)).stdout).toContain("kubectl -n apps delete secret git-auth");
    for (const env of ["staging", "production", "qa"]) await kustomize(path.join(repo, `tenants/${env}`));
    expect(fs.existsSync(path.join(repo, "tenants/staging/_transformed"))).toBe(false);
    expect(read(repo, "tenants/staging/kustomization.yaml")).toBe(adopted["tenants/staging/kustomization.yaml"]!.replace("  - ../base/dev-team\n", "").replace("resources:\n", "resources: []\n").replace("patches:\n  - path: dev-team-patch.yaml\n", ""));
  });

  it("new-tenant then remove-tenant gives every file back byte for byte", async () => {
    const repo = multiTenancy();
    await ok(["init", ".", "--adopt"], repo);
    const adopted = snapshot(repo);
    await ok(newTenant("team-x"), repo);
    await ok(["remove-tenant", "team-x"], repo);
    await ok(["remove-tenant", "team-x"], repo);
    const after = snapshot(repo);
    // CODEOWNERS is the platform team's business and is checked elsewhere; every overlay file is back.
    for (const f of Object.keys({ ...adopted, ...after }).filter((f) => f.startsWith("tenants/"))) expect(after[f], f).toBe(adopted[f]);
  });

  it("a tenant named after a namespace another tenant owns is refused, nothing written", async () => {
    const repo = multiTenancy();
    await ok(["init", ".", "--adopt"], repo);
    const before = snapshot(repo);
    const r = await fleet([...newTenant("apps"), "--yes"], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/namespace 'apps' is tenant dev-team's/);
    expect(snapshot(repo)).toEqual(before);
  });
});

/** A bootstrapped cluster as flux writes it: the gotk header says the release it runs. */
function cluster(repo: string, name: string, version: string): void {
  write(repo, `clusters/${name}/flux-system/gotk-components.yaml`, y("---", "# This manifest was generated by flux. DO NOT EDIT.", `# Flux Version: ${version}`, "# Components: source-controller,kustomize-controller", "apiVersion: v1", "kind: Namespace", "metadata:", "  name: flux-system"));
  write(repo, `clusters/${name}/flux-system/gotk-sync.yaml`, y(
    "apiVersion: source.toolkit.fluxcd.io/v1beta2", "kind: GitRepository", "metadata:", "  name: flux-system", "  namespace: flux-system",
    "spec:", "  interval: 1m0s", "  ref:", "    branch: main", "  url: ssh://git@github.com/fluxcd/flux2-multi-tenancy",
    "---", "apiVersion: kustomize.toolkit.fluxcd.io/v1beta2", "kind: Kustomization", "metadata:", "  name: flux-system", "  namespace: flux-system",
    "spec:", "  interval: 10m0s", `  path: ./clusters/${name}`, "  prune: true", "  sourceRef:", "    kind: GitRepository", "    name: flux-system",
  ));
  write(repo, `clusters/${name}/flux-system/kustomization.yaml`, y("apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:", "  - gotk-components.yaml", "  - gotk-sync.yaml"));
}

describe("clusters on older Flux releases", () => {
  it("adopt pins each cluster at the release its gotk header says, and new-tenant writes API versions the oldest one serves", async () => {
    const repo = multiTenancy();
    cluster(repo, "staging", "v2.1.0");
    cluster(repo, "production", "v0.30.2");
    await ok(["init", ".", "--adopt"], repo);
    const config = read(repo, "fleet.yaml");
    expect(config).toMatch(/production:\s+version: v0\.30\.2|staging:\s+version: v2\.1\.0/);
    await ok(newTenant("team-x"), repo);
    expect(read(repo, "tenants/base/team-x/sync.yaml")).toMatch(/apiVersion: source\.toolkit\.fluxcd\.io\/v1beta2[\s\S]*apiVersion: kustomize\.toolkit\.fluxcd\.io\/v1beta2/);
    const staging = await built(repo, "tenants/staging");
    expect(JSON.parse(staging.get("Kustomization/team-x/team-x")!).apiVersion).toBe("kustomize.toolkit.fluxcd.io/v1beta2");
    expect(JSON.parse(staging.get("Kustomization/team-x/team-x")!).spec.path).toBe("./deploy/staging");
  });
});

describe("overlays spelled otherwise", () => {
  it("an overlay with no patches: list and one named kustomization.yml: new-tenant then remove-tenant gives both back byte for byte", async () => {
    const repo = sharedNamespace("staging");
    fs.rmSync(path.join(repo, "tenants/staging/team-a-patch.yaml"));
    // Without the overlay's namespace, each tenant lives in its own.
    for (const t of ["team-a", "team-b"]) write(repo, `tenants/base/${t}/sync.yaml`, read(repo, `tenants/base/${t}/sync.yaml`).replace(`  name: ${t}\n`, `  name: ${t}\n  namespace: ${t}\n`));
    write(repo, "tenants/staging/kustomization.yaml", y("apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:", "  - ../base/team-a", "  - ../base/team-b"));
    write(repo, "tenants/prod/kustomization.yml", y("apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:", "  - ../base/team-a"));
    await ok(["init", ".", "--adopt"], repo);
    const adopted = snapshot(repo);
    await ok(newTenant("team-x"), repo);
    expect(fs.existsSync(path.join(repo, "tenants/prod/kustomization.yaml"))).toBe(false);
    expect(read(repo, "tenants/prod/kustomization.yml")).toContain("../base/team-x");
    await kustomize(path.join(repo, "tenants/prod"));
    await ok(["remove-tenant", "team-x", "--all-at-once"], repo);
    expect(snapshot(repo)).toEqual(adopted);
  });
});

describe("a tenant's files that act cluster-wide under a namespace they cannot have", () => {
  it("a Cluster* kind with a namespace in a tenant's base is refused by the proof", async () => {
    const repo = sharedNamespace("staging");
    write(repo, "tenants/base/team-a/store.yaml", y("apiVersion: external-secrets.io/v1beta1", "kind: ClusterSecretStore", "metadata:", "  name: all-secrets", "  namespace: staging", "spec: {}"));
    write(repo, "tenants/base/team-a/kustomization.yaml", y("apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:", "  - sync.yaml", "  - store.yaml"));
    await ok(["init", ".", "--adopt"], repo);
    const r = await fleet([...newTenant("team-x"), "--yes"], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("ClusterSecretStore/all-secrets is cluster-scoped");
  });
});

describe("a namespace something else in the repo already uses", () => {
  it("is refused as a new tenant's name, naming the file, nothing written", async () => {
    const repo = multiTenancy();
    write(repo, "infrastructure/kyverno/namespace.yaml", y("apiVersion: v1", "kind: Namespace", "metadata:", "  name: kyverno"));
    await ok(["init", ".", "--adopt"], repo);
    const before = snapshot(repo);
    const r = await fleet([...newTenant("kyverno"), "--yes"], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/namespace 'kyverno' is already used by infrastructure\/kyverno\/namespace\.yaml/);
    expect(snapshot(repo)).toEqual(before);
  });
});

/** Tenants without a namespace of their own, put into a shared one by the overlay, with patchesStrategicMerge. */
function sharedNamespace(ns: string, extra: string[] = []): string {
  const repo = path.join(tmpDir(), "shared");
  for (const t of ["team-a", "team-b"]) {
    write(repo, `tenants/base/${t}/kustomization.yaml`, y("apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:", "  - sync.yaml"));
    write(repo, `tenants/base/${t}/sync.yaml`, y(
      "apiVersion: kustomize.toolkit.fluxcd.io/v1", "kind: Kustomization", "metadata:", `  name: ${t}`,
      "spec:", "  interval: 5m", `  serviceAccountName: ${t}`, "  sourceRef:", "    kind: GitRepository", `    name: ${t}`, "  path: ./", "  prune: true",
    ));
  }
  write(repo, "tenants/staging/kustomization.yaml", y(
    "apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", `namespace: ${ns}`, ...extra,
    "resources:", "  - ../base/team-a", "  - ../base/team-b", "patchesStrategicMerge:", "  - team-a-patch.yaml",
  ));
  write(repo, "tenants/staging/team-a-patch.yaml", y("apiVersion: kustomize.toolkit.fluxcd.io/v1", "kind: Kustomization", "metadata:", "  name: team-a", "spec:", "  path: ./staging"));
  write(repo, "infrastructure/base/kustomization.yaml", y("apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources: []"));
  write(repo, "infrastructure/staging/kustomization.yaml", y("apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:", "  - ../base"));
  return repo;
}

describe("overlays whose transformers would capture a new tenant", () => {
  it("namespace: flux-system with commonLabels: the existing tenants already live in flux-system, so any edit is refused until that is fixed, nothing written", async () => {
    const repo = sharedNamespace("flux-system", ["commonLabels:", "  toolkit.fluxcd.io/tenant: team-a"]);
    await ok(["init", ".", "--adopt"], repo);
    const before = snapshot(repo);
    const r = await fleet([...newTenant("team-x"), "--yes"], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Kustomization/team-a is in namespace flux-system, not team-a; already in the repo, not added by this change");
    expect(snapshot(repo)).toEqual(before);
  });

  for (const [ns, extra] of [["staging", []], ["staging", ["commonLabels:", "  toolkit.fluxcd.io/tenant: team-a"]]] as const) {
    it(`namespace: ${ns}${extra.length ? " with commonLabels" : ""}: the new tenant lands in its own namespace, unlabelled, and the others are unchanged`, async () => {
      const repo = sharedNamespace(ns, [...extra]);
      await ok(["init", ".", "--adopt"], repo);
      const before = await built(repo, "tenants/staging");
      await ok(newTenant("team-x"), repo);
      const after = await built(repo, "tenants/staging");
      unchanged(before, after);
      const mine = [...after.entries()].filter(([k]) => !before.has(k));
      expect(mine.length).toBeGreaterThan(0);
      for (const [k, v] of mine) {
        expect(k === "Namespace//team-x" || k.split("/")[1] === "team-x", k).toBe(true);
        expect(JSON.parse(v).metadata.labels?.["toolkit.fluxcd.io/tenant"] ?? "team-x", k).toBe("team-x");
      }
      // Offboarding team-a finds its patchesStrategicMerge entry inside the sub-overlay (step 1: it patches only the sync).
      await ok(["remove-tenant", "team-a"], repo);
      expect(fs.existsSync(path.join(repo, "tenants/staging/_transformed/team-a-patch.yaml"))).toBe(false);
      await ok(["remove-tenant", "team-a"], repo);
      expect(fs.existsSync(path.join(repo, "tenants/staging/_transformed/team-a-patch.yaml"))).toBe(false);
      expect(read(repo, "tenants/staging/_transformed/kustomization.yaml")).not.toMatch(/base\/team-a|team-a-patch/);
      await kustomize(path.join(repo, "tenants/staging"));
    });
  }

  it("new-env where tenants have no namespace of their own but the overlay's: refused by the proof (they would land in none), nothing written", async () => {
    const repo = sharedNamespace("staging");
    await ok(["init", ".", "--adopt"], repo);
    const before = snapshot(repo);
    const r = await fleet(["new-env", "qa", "--yes"], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/fails the proof before write[\s\S]*tenants\/qa:/);
    expect(snapshot(repo)).toEqual(before);
  });

  it("an overlay whose transformers fleet cannot move (a transformers: file) is refused with the reason, nothing written", async () => {
    const repo = sharedNamespace("staging", ["transformers:", "  - labels.yaml"]);
    write(repo, "tenants/staging/labels.yaml", y("apiVersion: builtin", "kind: LabelTransformer", "metadata:", "  name: l", "labels:", "  a: b", "fieldSpecs:", "  - path: metadata/labels", "    create: true"));
    await ok(["init", ".", "--adopt"], repo);
    const before = snapshot(repo);
    const r = await fleet([...newTenant("team-x"), "--yes"], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/tenants\/staging\/kustomization\.yaml: .*namespace: staging.*cannot move its transformers/);
    expect(snapshot(repo)).toEqual(before);
  });
});

describe("single-file tenants and infrastructure that is not per environment", () => {
  function singleFiles(): string {
    const repo = path.join(tmpDir(), "single");
    for (const t of ["team1", "team2"])
      write(repo, `tenants/base/${t}.yaml`, y(
        "apiVersion: v1", "kind: Namespace", "metadata:", `  name: ${t}`,
        "---", "apiVersion: source.toolkit.fluxcd.io/v1", "kind: GitRepository", "metadata:", `  name: ${t}`, `  namespace: ${t}`,
        "spec:", "  interval: 1m", `  url: https://github.com/acme/${t}`, "  ref:", "    branch: main",
        "---", "apiVersion: kustomize.toolkit.fluxcd.io/v1", "kind: Kustomization", "metadata:", `  name: ${t}`, `  namespace: ${t}`,
        "spec:", "  interval: 5m", "  serviceAccountName: reconciler", "  sourceRef:", "    kind: GitRepository", `    name: ${t}`, "  path: ./", "  prune: true",
      ));
    write(repo, "tenants/base/kustomization.yaml", y("apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:", "  - team1.yaml", "  - team2.yaml"));
    write(repo, "tenants/staging/kustomization.yaml", y("apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:", "  - ../base"));
    write(repo, "infrastructure/_base/kustomization.yaml", y("apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources: []"));
    write(repo, "infrastructure/staging/kustomization.yaml", y("apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", "resources:", "  - ../_base"));
    return repo;
  }

  it("new-env includes every tenant as the existing overlay does (../base), and the infrastructure base it uses (../_base)", async () => {
    const repo = singleFiles();
    await ok(["init", ".", "--adopt"], repo);
    await ok(["new-env", "qa"], repo);
    expect(read(repo, "tenants/qa/kustomization.yaml")).toMatch(/resources:\n  - \.\.\/base\n/);
    expect(read(repo, "infrastructure/qa/kustomization.yaml")).toMatch(/- \.\.\/_base/);
    expect(fs.existsSync(path.join(repo, "infrastructure/base"))).toBe(false);
    const qa = await built(repo, "tenants/qa");
    for (const t of ["team1", "team2"]) {
      expect(JSON.parse(qa.get(`Kustomization/${t}/${t}`)!).spec.path).toBe("./qa");
      expect(qa.has(`ResourceQuota/${t}/${t}`)).toBe(true);
    }
  });

  it("remove-tenant takes a single-file tenant out of the base's kustomization and deletes its file", async () => {
    const repo = singleFiles();
    await ok(["init", ".", "--adopt"], repo);
    // Step 1 takes only the Flux documents out of the single file; step 2 the file.
    await ok(["remove-tenant", "team1"], repo);
    expect(read(repo, "tenants/base/team1.yaml")).not.toMatch(/apiVersion: (source|kustomize)\.toolkit\.fluxcd\.io/);
    expect(read(repo, "tenants/base/team1.yaml")).toContain("kind: Namespace");
    await kustomize(path.join(repo, "tenants/staging"));
    await ok(["remove-tenant", "team1"], repo);
    expect(fs.existsSync(path.join(repo, "tenants/base/team1.yaml"))).toBe(false);
    expect(read(repo, "tenants/base/kustomization.yaml")).not.toMatch(/team1/);
    const staging = await built(repo, "tenants/staging");
    expect([...staging.keys()].some((k) => k.includes("team1"))).toBe(false);
    expect(staging.has("Kustomization/team2/team2")).toBe(true);
  });

  it("infrastructure laid out per component gets no environment overlay, and new-env says so", async () => {
    const repo = multiTenancy();
    await ok(["init", ".", "--adopt"], repo);
    const r = await ok(["new-env", "qa"], repo);
    expect(r.stdout).toMatch(/infrastructure\/ is laid out per component \(kyverno, kyverno-policies\)/);
    expect(fs.readdirSync(path.join(repo, "infrastructure")).sort()).toEqual(["kyverno", "kyverno-policies"]);
  });
});

