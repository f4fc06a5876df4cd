/**
 * Per-tenant reconciliation units (design section 2): fleet writes each tenant in each
 * environment as its own Flux Kustomization applying a directory of its own; a broken tenant
 * file fails only that tenant's unit; every command keeps working on the seed's flat layout.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import newTenantGen from "../generators/new-tenant.js";
import { tenantProof } from "../generators/tenant-proof.js";
import { prove } from "../src/changeset/proof.js";
import { repoContext } from "../src/core/context.js";
import { ProofError } from "../src/core/errors.js";
import { resolveAnswers, stageGenerator } from "../src/core/run-generator.js";
import { readRepo } from "../src/model/repo.js";
import { flatRepo } from "./flat-layout.js";
import { buildAll, fleet, initRepo, kustomize, read, write } from "./helpers.js";

const ENVS = ["staging", "prod"];
const TENANTS = ["team-payments", "team-search"];
const newTenant = (name: string, ...more: string[]) => ["new-tenant", name, "--url", `https://github.com/acme/${name}-config`, "--yes", ...more];

describe("fleet init writes one reconciliation unit per tenant and environment", () => {
  it("tenants/<env> lists a platform Kustomization per tenant, applying ./tenants/<env>/<t> as kustomize-controller after infrastructure", async () => {
    const repo = await initRepo();
    for (const env of ENVS) {
      const units = await kustomize(path.join(repo, `tenants/${env}`));
      expect(units.map((u) => u.metadata.name).sort()).toEqual(TENANTS.map((t) => `tenant-${t}`));
      for (const u of units) {
        const t = u.metadata.name.slice("tenant-".length);
        expect(u.kind).toBe("Kustomization");
        expect(u.apiVersion).toBe("kustomize.toolkit.fluxcd.io/v1");
        expect(u.metadata.namespace).toBe("flux-system");
        expect(u.spec).toMatchObject({
          path: `./tenants/${env}/${t}`,
          prune: true,
          serviceAccountName: "kustomize-controller",
          dependsOn: [{ name: "infrastructure" }],
          postBuild: { substituteFrom: [{ kind: "ConfigMap", name: "cluster-vars" }] },
        });
      }
    }
  });

  it("every unit directory builds with real kubectl into its tenant's objects only, all in its namespace, with its env's patch and quota", async () => {
    const repo = await initRepo();
    const built = await buildAll(repo);
    for (const env of ENVS)
      for (const t of TENANTS) {
        const objs = built.get(`tenants/${env}/${t}`)!;
        expect(objs.map((o) => o.kind).sort()).toEqual(["GitRepository", "Kustomization", "LimitRange", "Namespace", "NetworkPolicy", "ResourceQuota", "RoleBinding", "ServiceAccount"]);
        for (const o of objs) expect(o.kind === "Namespace" ? o.metadata.name : o.metadata.namespace).toBe(t);
        expect(objs.find((o) => o.kind === "Kustomization")!.spec!.path).toBe(`./deploy/${env}`);
      }
  });

  it("a broken file of one tenant fails only that tenant's unit: the other units and the environment's list still build", async () => {
    const repo = await initRepo();
    write(repo, "tenants/prod/team-search/quota.yaml", "apiVersion: v1\nkind: ResourceQuota\nmetadata: [broken\n");
    await expect(kustomize(path.join(repo, "tenants/prod/team-search"))).rejects.toThrow();
    expect((await kustomize(path.join(repo, "tenants/prod/team-payments"))).length).toBeGreaterThan(0);
    expect((await kustomize(path.join(repo, "tenants/prod"))).length).toBe(2);
  });

  it("the repo model reads the layout from the tree: units in a fleet repo, flat in the seed's layout", async () => {
    const units = readRepo(repoContext(await initRepo()).cs);
    expect(units.overlays.map((o) => o.layout)).toEqual(["units", "units"]);
    const staging = units.overlays.find((o) => o.env === "staging")!;
    expect([...staging.units.keys()].sort()).toEqual(TENANTS);
    expect(staging.units.get("team-search")).toMatchObject({ file: "tenants/staging/team-search.yaml", dir: "tenants/staging/team-search" });
    const flat = readRepo(repoContext(await flatRepo()).cs);
    expect(flat.overlays.map((o) => o.layout)).toEqual(["flat", "flat"]);
    expect(flat.overlays[0]!.units.size).toBe(0);
  });
});

describe("commands work on both layouts, and a flat repo stays flat", () => {
  it("new-tenant in a units repo adds its unit in every environment; every directory builds", async () => {
    const repo = await initRepo();
    const r = await fleet(newTenant("team-x"), { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const env of ENVS) {
      expect(read(repo, `tenants/${env}/kustomization.yaml`)).toContain("- team-x.yaml");
      expect(read(repo, `tenants/${env}/team-x/kustomization.yaml`)).toContain("../../base/team-x");
    }
    const built = await buildAll(repo);
    expect(built.get("tenants/prod")!.map((u) => u.metadata.name)).toContain("tenant-team-x");
    expect(built.get("tenants/prod/team-x")!.find((o) => o.kind === "ResourceQuota")!.metadata.namespace).toBe("team-x");
  });

  it("another tenant's unit file that does not parse leaves its environment in units: new-tenant writes a unit there, not the flat layout", async () => {
    const repo = await initRepo();
    write(repo, "tenants/prod/team-search.yaml", "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: [broken\n");
    const r = await fleet(["new-tenant", "team-x", "--url", "https://github.com/acme/x", "--yes", "--no-verify"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(read(repo, "tenants/prod/kustomization.yaml")).toContain("  - team-x.yaml\n");
    expect(read(repo, "tenants/prod/kustomization.yaml")).not.toContain("base/team-x");
    expect((await kustomize(path.join(repo, "tenants/prod/team-x"))).length).toBeGreaterThan(0);
  });

  it("new-tenant in a flat repo writes the flat layout: ../base/<t>, <t>-quota.yaml, <t>-patch.yaml in the overlay", async () => {
    const repo = await flatRepo();
    const r = await fleet(newTenant("team-x"), { cwd: repo });
    expect(r.code).toBe(0);
    const overlay = read(repo, "tenants/prod/kustomization.yaml");
    expect(overlay).toContain("- ../base/team-x");
    expect(overlay).toContain("- team-x-quota.yaml");
    expect(overlay).toContain("- path: team-x-patch.yaml");
    expect(fs.existsSync(path.join(repo, "tenants/prod/team-x.yaml"))).toBe(false);
    expect((await buildAll(repo)).get("tenants/prod")!.some((o) => o.kind === "Namespace" && o.metadata.name === "team-x")).toBe(true);
  });

  it("new-env writes the new environment in the repo's layout", async () => {
    const units = await initRepo();
    expect((await fleet(["new-env", "qa", "--yes"], { cwd: units })).code).toBe(0);
    expect(read(units, "tenants/qa/kustomization.yaml")).toContain("- team-search.yaml");
    expect((await kustomize(path.join(units, "tenants/qa/team-search"))).some((o) => o.kind === "ResourceQuota")).toBe(true);
    const flat = await flatRepo();
    expect((await fleet(["new-env", "qa", "--yes"], { cwd: flat })).code).toBe(0);
    expect(read(flat, "tenants/qa/kustomization.yaml")).toContain("- ../base/team-search");
    expect(fs.existsSync(path.join(flat, "tenants/qa/team-search.yaml"))).toBe(false);
    await buildAll(flat);
  });

  it("new-env gives a tenant whose base is one file (an adopted repo's shape) a unit that includes that file, and it builds", async () => {
    const repo = await initRepo();
    const ns = (kind: string, name: string, body: string) => `---\napiVersion: ${kind}\nmetadata:\n  name: ${name}\n  namespace: legacy\n${body}`;
    write(
      repo,
      "tenants/base/legacy.yaml",
      "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: legacy\n" +
        ns("source.toolkit.fluxcd.io/v1\nkind: GitRepository", "legacy", "spec:\n  interval: 1m\n  url: https://github.com/acme/legacy\n  ref:\n    branch: main\n") +
        ns("kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization", "legacy", "spec:\n  interval: 5m\n  path: ./\n  prune: true\n  serviceAccountName: reconciler\n  targetNamespace: legacy\n  sourceRef:\n    kind: GitRepository\n    name: legacy\n"),
    );
    const r = await fleet(["new-env", "qa", "--yes"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(read(repo, "tenants/qa/legacy/kustomization.yaml")).toContain("- ../../base/legacy.yaml");
    // A file, not a directory, outside the unit's own: Flux builds without kustomize's load restrictions.
    const built = await kustomize(path.join(repo, "tenants/qa/legacy"), { asFlux: true });
    expect(built.filter((o) => o.metadata.namespace === "legacy").map((o) => o.kind).sort()).toEqual(["GitRepository", "Kustomization", "LimitRange", "ResourceQuota"]);
  });

  it("fleet list reads tenants per environment from units and from flat overlays alike", async () => {
    for (const repo of [await initRepo(), await flatRepo()]) {
      const r = await fleet(["list", "--json"], { cwd: repo });
      expect(r.code).toBe(0);
      const inv = JSON.parse(r.stdout) as { environments: Array<{ name: string; tenants: string[] }> };
      expect(inv.environments.map((e) => [e.name, [...e.tenants].sort()])).toEqual(ENVS.map((e) => [e, TENANTS]));
    }
  });
});

describe("the proof before write in the units layout", () => {
  it("builds only the touched tenant's unit and unit file, not the others' (which the environment's list passes through as they are)", async () => {
    const repo = await initRepo();
    const ctx = repoContext(repo);
    const answers = await resolveAnswers(newTenantGen, ctx, { name: "team-x", url: "https://github.com/acme/x" }, undefined);
    await stageGenerator(newTenantGen, ctx, answers);
    const plan = tenantProof(ctx, ["team-x"]);
    expect(plan.overlays).toEqual(["tenants/prod", "tenants/prod/team-x", "tenants/staging", "tenants/staging/team-x"]);
    expect(plan.parts).toEqual({ "tenants/prod": ["tenants/prod/team-x.yaml"], "tenants/staging": ["tenants/staging/team-x.yaml"] });
    const result = await prove(ctx.cs, plan);
    expect(result.overlays.find((o) => o.path === "tenants/prod")).toEqual({ path: "tenants/prod", after: 1 });
  });

  it("refuses a unit whose Kustomization another file of the environment's list already declares: the list would not build", async () => {
    const repo = await initRepo();
    const legacy = read(repo, "tenants/prod/team-search.yaml").replace("name: tenant-team-search", "name: tenant-team-x").replace("./tenants/prod/team-search", "./apps/legacy");
    write(repo, "tenants/prod/legacy.yaml", legacy);
    write(repo, "tenants/prod/kustomization.yaml", read(repo, "tenants/prod/kustomization.yaml").replace("resources:\n", "resources:\n  - legacy.yaml\n"));
    const ctx = repoContext(repo);
    const answers = await resolveAnswers(newTenantGen, ctx, { name: "team-x", url: "https://github.com/acme/x" }, undefined);
    await stageGenerator(newTenantGen, ctx, answers);
    const plan = tenantProof(ctx, ["team-x"]);
    expect(plan.parts?.["tenants/prod"]).toEqual(["tenants/prod/legacy.yaml", "tenants/prod/team-x.yaml"]);
    const err = await prove(ctx.cs, plan).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProofError);
    expect((err as Error).message).toMatch(/tenants\/prod:\n\s+- would not build after this change: .*tenant-team-x/);
  });

  it("builds a tenant directory the change writes even when no unit lists it, so a broken one is refused", async () => {
    const repo = await initRepo();
    const ctx = repoContext(repo);
    const answers = await resolveAnswers(newTenantGen, ctx, { name: "team-x", url: "https://github.com/acme/x" }, undefined);
    await stageGenerator(newTenantGen, ctx, answers);
    ctx.cs.write("tenants/prod/kustomization.yaml", ctx.cs.read("tenants/prod/kustomization.yaml")!.replace("  - team-x.yaml\n", ""), { overwrite: true });
    ctx.cs.write("tenants/prod/team-x/kustomization.yaml", `${ctx.cs.read("tenants/prod/team-x/kustomization.yaml")}  - missing.yaml\n`, { overwrite: true });
    const plan = tenantProof(ctx, ["team-x"]);
    expect(plan.overlays).toContain("tenants/prod/team-x");
    await expect(prove(ctx.cs, plan)).rejects.toThrow(/tenants\/prod\/team-x/);
  });

  it("refuses a change whose unit is not where a platform unit lives (flux-system), naming the unit and its file", async () => {
    const repo = await initRepo();
    const ctx = repoContext(repo);
    const answers = await resolveAnswers(newTenantGen, ctx, { name: "team-x", url: "https://github.com/acme/x" }, undefined);
    await stageGenerator(newTenantGen, ctx, answers);
    ctx.cs.write("tenants/prod/team-x.yaml", ctx.cs.read("tenants/prod/team-x.yaml")!.replace("namespace: flux-system", "namespace: team-x"), { overwrite: true });
    const err = await prove(ctx.cs, tenantProof(ctx, ["team-x"])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProofError);
    expect((err as Error).message).toContain("Kustomization/team-x/tenant-team-x: a tenant's unit lives in flux-system, beside the platform's Kustomizations (tenants/prod/team-x.yaml)");
  });
});
