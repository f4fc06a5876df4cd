/**
 * Proof before write: a change to tenants is built as it is and as it would be, and refused
 * (exit 2, nothing written) when an overlay's transformers would move the tenant, when it would
 * change anything that is not the tenant's, or when a tenant's files carry platform authority.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import newEnvGen from "../generators/new-env.js";
import newTenantGen, { overlayLayouts } from "../generators/new-tenant.js";
import removeTenantGen from "../generators/remove-tenant.js";
import { tenantProof } from "../generators/tenant-proof.js";
import { prove } from "../src/changeset/proof.js";
import { tempDir } from "../src/validate/build.js";
import { main } from "../src/cli/main.js";
import { repoContext } from "../src/core/context.js";
import { ProofError } from "../src/core/errors.js";
import type { Generator } from "../src/core/generator.js";
import { stageAction } from "../src/core/actions.js";
import { tenantActions } from "../generators/tenant-actions.js";
import { resolveAnswers, stageGenerator } from "../src/core/run-generator.js";
import { flatRepo } from "./flat-layout.js";
import { fleet, initRepo, read, run, snapshot, tmpDir, write } from "./helpers.js";

const newTenant = (name: string, ...more: string[]) => ["new-tenant", name, "--url", `https://github.com/acme/${name}-config`, "--yes", ...more];

/** A fleet generator's change staged in this worker, with its proof plan. */
const GENERATORS: Record<string, Generator> = { "new-tenant": newTenantGen, "remove-tenant": removeTenantGen, "new-env": newEnvGen };

async function staged(repo: string, command: string, flags: Record<string, string>) {
  const ctx = repoContext(repo);
  const gen = GENERATORS[command]!;
  const answers = await resolveAnswers(gen, ctx, flags, undefined);
  await stageGenerator(gen, ctx, answers);
  const plan = gen.proof!(answers, ctx)!;
  if ("prove" in plan) throw new Error(`${command} has a custom proof, not a plan of overlays`);
  return { ctx, plan };
}

/**
 * Flux's multi-tenancy example (fluxcd/flux2-multi-tenancy): tenant dev-team in namespace apps,
 * its staging overlay sets `namespace:` and patches the tenant's Kustomization. `withNamespace`
 * false: the namespace is made elsewhere (so a second tenant's Namespace does not collide).
 */
async function multiTenancy(overlay: { namespace: string; extra?: string; withNamespace?: boolean }): Promise<string> {
  const repo = await initRepo();
  fs.rmSync(path.join(repo, "tenants"), { recursive: true });
  const label = "  labels:\n    toolkit.fluxcd.io/tenant: dev-team\n";
  write(repo, "tenants/base/dev-team/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: apps\nresources:\n  - rbac.yaml\n  - sync.yaml\n");
  write(
    repo,
    "tenants/base/dev-team/rbac.yaml",
    (overlay.withNamespace === false ? "" : `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n${label}---\n`) +
      `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: dev-team\n  namespace: apps\n${label}---\n` +
      `apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: gotk-reconciler\n  namespace: apps\n${label}` +
      "roleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n" +
      "  - apiGroup: rbac.authorization.k8s.io\n    kind: User\n    name: gotk:apps:reconciler\n  - kind: ServiceAccount\n    name: dev-team\n    namespace: apps\n",
  );
  write(
    repo,
    "tenants/base/dev-team/sync.yaml",
    "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: dev-team\n  namespace: apps\nspec:\n  interval: 1m\n  url: https://github.com/fluxcd/flux2-multi-tenancy\n  ref:\n    branch: dev-team\n---\n" +
      "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: dev-team\n  namespace: apps\nspec:\n  serviceAccountName: dev-team\n  interval: 5m\n  path: ./\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: dev-team\n",
  );
  write(
    repo,
    "tenants/staging/kustomization.yaml",
    `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: ${overlay.namespace}\n${overlay.extra ?? ""}resources:\n  - ../base/dev-team\npatches:\n  - path: dev-team-patch.yaml\n`,
  );
  write(
    repo,
    "tenants/staging/dev-team-patch.yaml",
    "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: dev-team\n  namespace: apps\nspec:\n  path: ./staging\n",
  );
  return repo;
}

/**
 * The proof on its own, on an edit that adds team-x beside the overlay's transformers as older
 * fleet did (new-tenant now moves them into a sub-overlay first: test/foreign-layouts.test.ts).
 */
async function capturingEdit(repo: string): Promise<string> {
  const ctx = repoContext(repo);
  const t = { name: "team-x", url: "https://github.com/acme/x", ref: { branch: "main" }, secretRef: "git-auth", path: "./deploy", interval: "1m", role: "admin", environments: ["staging"], quota: [], flagged: "", podSecurity: "restricted" as const };
  for (const action of tenantActions(t, ctx.config, overlayLayouts(ctx))) stageAction(ctx.cs, action);
  const err = await prove(ctx.cs, tenantProof(ctx, ["team-x"]), {}).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ProofError);
  return (err as Error).message;
}

describe("the proof refuses an edit that an overlay's transformers would capture", () => {
  it("namespace: apps (flux2-multi-tenancy): the build fails, naming the overlay and `namespace: apps`", async () => {
    const msg = await capturingEdit(await multiTenancy({ namespace: "apps" }));
    expect(msg).toContain("tenants/staging:");
    expect(msg).toContain("namespace: apps in tenants/staging/kustomization.yaml would move team-x's objects into apps");
    expect(msg).toContain("ID conflict");
  });

  it("namespace: staging builds, but every object of team-x would move into staging: refused naming the moved objects", async () => {
    const msg = await capturingEdit(await multiTenancy({ namespace: "staging", withNamespace: false }));
    expect(msg).toContain("Namespace/team-x became Namespace/staging (tenants/base/team-x/namespace.yaml)");
    expect(msg).toContain("RoleBinding/reconciler is in namespace staging, not team-x");
    expect(msg).toContain("ResourceQuota/team-x is in namespace staging, not team-x (tenants/staging/team-x-quota.yaml)");
    expect(msg).toContain("namespace: staging in tenants/staging/kustomization.yaml would move team-x's objects into staging");
  });

  it("namespace: flux-system with commonLabels: team-x's reconciler and its binding would land in flux-system; both transformers are named", async () => {
    const msg = await capturingEdit(await multiTenancy({ namespace: "flux-system", extra: "commonLabels:\n  acme.io/env: staging\n", withNamespace: false }));
    expect(msg).toContain("RoleBinding/reconciler is in namespace flux-system, not team-x");
    expect(msg).toContain("Kustomization/team-x is in namespace flux-system, not team-x");
    expect(msg).toContain("namespace: flux-system in tenants/staging/kustomization.yaml would move team-x's objects into flux-system");
    expect(msg).toContain("commonLabels in tenants/staging/kustomization.yaml would relabel team-x's objects");
  });

  it("new-tenant itself moves the transformers aside, and the proof passes: dev-team's objects are unchanged", async () => {
    const repo = await multiTenancy({ namespace: "apps" });
    const r = await fleet(newTenant("team-x", "--env", "staging"), { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(read(repo, "tenants/staging/_transformed/kustomization.yaml")).toContain("namespace: apps");
  });
});

// The proofs below are of the seed's flat layout, where each overlay holds every tenant; the units
// layout's proof is in test/units.test.ts.
describe("fleet's own changes to its own repo pass the proof and are written", () => {
  it("new-tenant is proven on every overlay it touches, with every other object unchanged", async () => {
    const { ctx, plan } = await staged(await flatRepo(), "new-tenant", { name: "team-x", url: "https://github.com/acme/x" });
    expect(plan.overlays).toEqual(["tenants/prod", "tenants/staging"]);
    expect(plan.tenants.find((t) => t.name === "team-x")).toEqual({
      name: "team-x",
      namespace: "team-x",
      owns: ["tenants/base/team-x", "tenants/prod/team-x-patch.yaml", "tenants/prod/team-x-quota.yaml", "tenants/staging/team-x-patch.yaml", "tenants/staging/team-x-quota.yaml"],
      units: [],
    });
    const result = await prove(ctx.cs, plan, {});
    // Each overlay gains team-x's namespace, account, binding, source, Kustomization, quota, limit range and NetworkPolicy.
    for (const o of result.overlays) expect(o.after - o.before!, o.path).toBe(8);
  });

  it("remove-tenant is proven as before minus the tenant, new-env on its new overlay alone; both then write", async () => {
    const repo = await flatRepo();
    const removal = await staged(repo, "remove-tenant", { name: "team-search", allAtOnce: "true" });
    expect(removal.plan.changed).toEqual(["team-search"]);
    const removed = await prove(removal.ctx.cs, removal.plan, {});
    for (const o of removed.overlays) expect(o.before! - o.after, o.path).toBe(8);
    await removal.ctx.cs.apply();
    const env = await staged(repo, "new-env", { name: "perf" });
    expect(env.plan.overlays).toEqual(["tenants/perf"]);
    expect(await prove(env.ctx.cs, env.plan, {})).toEqual({ overlays: [{ path: "tenants/perf", after: 8 }] });
    // On a terminal, stderr says what the wait is for.
    let stderr = "";
    const code = await main(["new-env", "perf", "--yes"], { out: () => undefined, err: (s) => (stderr += s), cwd: repo, terminal: false, errTerminal: true });
    expect(code, stderr).toBe(0);
    expect(stderr).toContain("proving: building 1 overlay before and after (kubectl kustomize) ...");
    expect(read(repo, "tenants/perf/kustomization.yaml")).toContain("../base/team-payments");
    expect(fs.existsSync(path.join(repo, "tenants/base/team-search"))).toBe(false);
  });

  it("a change that would also alter another tenant's objects is refused, naming each object and how it changes", async () => {
    const repo = await flatRepo();
    const ctx = repoContext(repo);
    // Staged as an edit to team-x would be, but it relabels team-search's quota in staging too.
    const quota = "tenants/staging/team-search-quota.yaml";
    ctx.cs.write(quota, ctx.cs.read(quota)!.replace("toolkit.fluxcd.io/tenant: team-search", "toolkit.fluxcd.io/tenant: team-x"), { overwrite: true });
    const plan = { ...tenantProof(ctx, ["team-payments"]) };
    const err = await prove(ctx.cs, plan, {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProofError);
    const msg = (err as Error).message;
    expect(msg).toContain("tenants/staging:");
    expect(msg).toContain("ResourceQuota/team-search/team-search: label toolkit.fluxcd.io/tenant: team-search -> team-x");
    expect(msg).toContain("fix: correct the overlay or the objects named above by hand");
    expect(msg).not.toContain("tenants/prod:");
  });
});

describe("platform authority planted in a tenant's files is refused", () => {
  it("a Kustomization in flux-system without serviceAccountName in team-search's base stops new-tenant of another tenant", async () => {
    const repo = await flatRepo();
    write(
      repo,
      "tenants/base/team-search/extra.yaml",
      "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: team-search-extra\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: team-search\n    namespace: team-search\n",
    );
    write(repo, "tenants/base/team-search/kustomization.yaml", `${read(repo, "tenants/base/team-search/kustomization.yaml")}  - extra.yaml\n`);
    const before = snapshot(repo);
    const r = await fleet(newTenant("team-x"), { cwd: repo });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      "tenants/base/team-search/extra.yaml (tenant team-search): Kustomization/team-search-extra is in namespace flux-system, not team-search",
    );
    expect(r.stderr).toContain("sets no serviceAccountName: it would run as kustomize-controller (cluster-admin); already in the repo, not added by this change");
    expect(r.stderr).toContain("--no-verify");
    expect(snapshot(repo)).toEqual(before);
    // --dry-run runs the same proof; --no-verify writes, saying it was not proven.
    const dry = await fleet(newTenant("team-x", "--dry-run"), { cwd: repo });
    expect(dry.code, dry.stderr).toBe(2);
    expect(dry.stderr).toContain("tenants/base/team-search/extra.yaml (tenant team-search)");
    expect(snapshot(repo)).toEqual(before);
    const forced = await fleet(newTenant("team-x", "--no-verify"), { cwd: repo });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toMatch(/^warning: not proven: /m);
    expect(read(repo, "tenants/staging/kustomization.yaml")).toContain("../base/team-x");
  });
});

describe("a proof or a validate killed outright leaves no copy of the repo behind for long", () => {
  it("the next proof removes the shadow trees and build directories of runs whose process is gone, and keeps a live one's", async () => {
    const gone = await run(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
    const dead = ["fleet-proof-", "fleet-validate-"].map((p) => path.join(os.tmpdir(), `${p}${gone.stdout}-left`));
    const live = path.join(os.tmpdir(), `fleet-proof-${process.pid}-live`);
    for (const d of [...dead, live]) fs.mkdirSync(path.join(d, "tenants"), { recursive: true });
    try {
      const { ctx, plan } = await staged(await flatRepo(), "new-tenant", { name: "team-x", url: "https://github.com/acme/x" });
      await prove(ctx.cs, plan, {});
      for (const d of dead) expect(fs.existsSync(d), d).toBe(false);
      expect(fs.existsSync(live)).toBe(true);
      // validate's own build directory is named for its process, so a run after a kill finds it.
      expect(path.basename(path.dirname(tempDir()))).toMatch(new RegExp(`^fleet-validate-${process.pid}-`));
    } finally {
      for (const d of [...dead, live]) fs.rmSync(d, { recursive: true, force: true });
    }
  });
});

describe("the proof needs kubectl, in time", () => {
  it("a build past --timeout stops the run: exit 3 naming the overlay and both ways out, nothing written", async () => {
    const repo = await flatRepo();
    const before = snapshot(repo);
    // An empty build cache: a build served from it runs no kubectl, and so no timeout.
    const r = await fleet(newTenant("team-x", "--timeout", "1ms"), { cwd: repo, env: { XDG_CACHE_HOME: tmpDir("fleet-cache-") } });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/tenants\/(prod|staging): kubectl kustomize did not finish within 1ms/);
    expect(r.stderr).toContain("fix: run again with a longer --timeout, or with --no-verify");
    expect(snapshot(repo)).toEqual(before);
  });

  it("without kubectl on PATH: exit 3 naming kubectl and --no-verify, nothing written", async () => {
    const repo = await flatRepo();
    const before = snapshot(repo);
    const r = await fleet(newTenant("team-x"), { cwd: repo, env: { PATH: path.join(repo, "no-tools-here") } });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain("kubectl is not installed or not on PATH");
    expect(r.stderr).toContain("--no-verify");
    expect(snapshot(repo)).toEqual(before);
  });
});
