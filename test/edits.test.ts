/**
 * new-tenant and remove-tenant edit files people wrote: only the tenant's own items and lines
 * change, every other byte stays (flow-style lists, CRLF line endings, a missing final newline),
 * remove-tenant finds the tenant's entries however they are spelled, and offboarding twice is
 * "nothing to do".
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { flatRepo } from "./flat-layout.js";
import { fleet, kustomize, read, snapshot, write } from "./helpers.js";

/** The CODEOWNERS lines fleet wrote for a tenant before tenant teams owned nothing here. */
const LEGACY_SEARCH_LINES = "/tenants/base/team-search/ @acme/team-search\n/tenants/base/team-search/rbac.yaml @acme/platform\n";

// These edits are written against the seed's flat layout, where each overlay lists every tenant's
// entries itself; offboarding runs both of its steps at once (test/offboarding.test.ts has the steps).
const newTenant = (name: string, ...more: string[]) => ["new-tenant", name, "--url", `https://github.com/acme/${name}-config`, "--yes", ...more];

async function ok(args: string[], repo: string) {
  const r = await fleet(args, { cwd: repo });
  expect(r.code, `fleet ${args.join(" ")}\n${r.stderr}`).toBe(0);
  return r;
}

/** The built objects of a tenant, by kind/name, in an overlay. */
const namesIn = (objs: Awaited<ReturnType<typeof kustomize>>, ns: string) =>
  objs.filter((o) => o.metadata.namespace === ns || o.metadata.name === ns).map((o) => `${o.kind}/${o.metadata.name}`);

describe("flow-style lists are edited inside their brackets", () => {
  it("new-tenant adds into `resources: [a, b]` and a one-per-line flow list; remove-tenant gives the file back byte for byte", async () => {
    const repo = await flatRepo();
    const mine = [
      "apiVersion: kustomize.config.k8s.io/v1beta1",
      "kind: Kustomization",
      "resources: [../base/team-payments, ../base/team-search, team-payments-quota.yaml, team-search-quota.yaml]  # one line",
      "patches: [",
      "  {path: team-payments-patch.yaml},   # payments",
      "  {path: team-search-patch.yaml}",
      "]",
      "generatorOptions: {disableNameSuffixHash: true}",
      "",
    ].join("\n");
    write(repo, "tenants/prod/kustomization.yaml", mine);
    await ok(newTenant("team-new", "--env", "prod"), repo);
    expect(read(repo, "tenants/prod/kustomization.yaml")).toBe(
      mine
        .replace("[../base/team-payments,", "[../base/team-new, ../base/team-payments,")
        .replace(" team-payments-quota.yaml,", " team-new-quota.yaml, team-payments-quota.yaml,")
        .replace("  {path: team-payments-patch.yaml},", "  {path: team-new-patch.yaml},\n  {path: team-payments-patch.yaml},"),
    );
    expect(namesIn(await kustomize(path.join(repo, "tenants/prod")), "team-new")).toContain("ResourceQuota/team-new");
    await ok(["remove-tenant", "team-new", "--yes", "--all-at-once"], repo);
    expect(read(repo, "tenants/prod/kustomization.yaml")).toBe(mine);
    await kustomize(path.join(repo, "tenants/prod"));
  });
});

describe("line endings and final newlines stay the file's", () => {
  it("a CRLF overlay gets CRLF lines, CODEOWNERS keeps CRLF when older fleet's tenant lines go, and nothing else changes", async () => {
    const repo = await flatRepo();
    const files = ["tenants/staging/kustomization.yaml", ".github/CODEOWNERS"];
    write(repo, files[1]!, read(repo, files[1]!) + LEGACY_SEARCH_LINES);
    for (const f of files) write(repo, f, read(repo, f).replace(/\n/g, "\r\n"));
    const before = snapshot(repo);
    await ok(newTenant("team-new"), repo);
    const after = read(repo, files[0]!);
    expect(after.replace(/\r\n/g, "")).not.toContain("\n");
    // Taking the tenant's lines out again gives back the very bytes.
    expect(after.split("\r\n").filter((l) => !l.includes("team-new")).join("\r\n")).toBe(before[files[0]!]);
    expect(namesIn(await kustomize(path.join(repo, "tenants/staging")), "team-new")).toContain("Namespace/team-new");
    await ok(["remove-tenant", "team-new", "--yes", "--all-at-once"], repo);
    expect(snapshot(repo)).toEqual(before);
    await ok(["remove-tenant", "team-search", "--yes", "--all-at-once"], repo);
    expect(read(repo, files[1]!)).toBe(before[files[1]!]!.replace(/[^\n]*team-search[^\n]*\r\n/g, ""));
  });

  it("CODEOWNERS and an overlay without a final newline get none, whatever is added or removed at their end", async () => {
    const repo = await flatRepo();
    const files = ["tenants/prod/kustomization.yaml", ".github/CODEOWNERS"];
    write(repo, files[1]!, read(repo, files[1]!) + LEGACY_SEARCH_LINES);
    for (const f of files) write(repo, f, read(repo, f).replace(/\n$/, ""));
    const before = snapshot(repo);
    // team-zeta sorts last: its items and lines go at the very end of both files.
    await ok(newTenant("team-zeta"), repo);
    expect(read(repo, "tenants/prod/kustomization.yaml")).toBe(
      `${before[files[0]!]!
        .replace("  - ../base/team-search\n", "  - ../base/team-search\n  - ../base/team-zeta\n")
        .replace("  - team-search-quota.yaml\n", "  - team-search-quota.yaml\n  - team-zeta-quota.yaml\n")}\n  - path: team-zeta-patch.yaml`,
    );
    expect(read(repo, ".github/CODEOWNERS")).toBe(before[files[1]!]);
    await kustomize(path.join(repo, "tenants/prod"));
    await ok(["remove-tenant", "team-zeta", "--yes", "--all-at-once"], repo);
    expect(snapshot(repo)).toEqual(before);
    // Removing the last line of a file without a final newline leaves none either.
    await ok(["remove-tenant", "team-search", "--yes", "--all-at-once"], repo);
    expect(read(repo, "tenants/prod/kustomization.yaml")).toBe(before[files[0]!]!.replace(/\n[^\n]*team-search[^\n]*/g, ""));
    expect(read(repo, ".github/CODEOWNERS")).toBe(before[files[1]!]!.replace(/\n[^\n]*team-search[^\n]*/g, ""));
  });
});

describe("remove-tenant finds the tenant's entries however they are spelled", () => {
  it("../base/t/, ./../base/t, ../base/./t, ./t-quota.yaml and path: ./t-patch.yaml go; a tenant whose name extends it stays", async () => {
    const repo = await flatRepo();
    await ok(newTenant("team-search-eu"), repo);
    const spell = (f: string, from: string, to: string) => write(repo, f, read(repo, f).replace(from, to));
    spell("tenants/prod/kustomization.yaml", "- ../base/team-search\n", "- ../base/team-search/\n");
    spell("tenants/prod/kustomization.yaml", "- team-search-quota.yaml", "- ./team-search-quota.yaml");
    spell("tenants/prod/kustomization.yaml", "- path: team-search-patch.yaml", "- path: ./team-search-patch.yaml");
    spell("tenants/staging/kustomization.yaml", "- ../base/team-search\n", "- ./../base/team-search\n");
    write(repo, "tenants/qa/kustomization.yaml", "resources: [../base/./team-search, ../base/team-search-eu]\n");
    const eu = snapshot(path.join(repo, "tenants/base/team-search-eu"));
    await ok(["remove-tenant", "team-search", "--yes", "--all-at-once"], repo);
    for (const env of ["prod", "staging", "qa"]) {
      const k = read(repo, `tenants/${env}/kustomization.yaml`);
      expect(k.replace(/team-search-eu/g, ""), env).not.toContain("team-search");
      expect(k, env).toContain("../base/team-search-eu");
    }
    expect(read(repo, "tenants/qa/kustomization.yaml")).toBe("resources: [../base/team-search-eu]\n");
    for (const env of ["prod", "staging"]) {
      expect(fs.readdirSync(path.join(repo, "tenants", env)).filter((f) => f.startsWith("team-search-") && !f.startsWith("team-search-eu"))).toEqual([]);
      const objs = await kustomize(path.join(repo, "tenants", env));
      expect(namesIn(objs, "team-search")).toEqual([]);
      expect(namesIn(objs, "team-search-eu")).toContain("ResourceQuota/team-search-eu");
    }
    expect(snapshot(path.join(repo, "tenants/base/team-search-eu"))).toEqual(eu);
  });
});

describe("remove-tenant in a layout whose overlays list ../base", () => {
  it("takes the tenant out of tenants/base/kustomization.yaml, however spelled, and the overlay still builds", async () => {
    const repo = await flatRepo();
    write(repo, "tenants/base/kustomization.yaml", "resources:\n  - team-payments # first\n  - ./team-search/\n");
    const prod = "tenants/prod/kustomization.yaml";
    write(repo, prod, read(repo, prod).replace("  - ../base/team-payments\n  - ../base/team-search\n", "  - ../base\n"));
    expect(namesIn(await kustomize(path.join(repo, "tenants/prod")), "team-search")).toContain("Namespace/team-search");
    await ok(["remove-tenant", "team-search", "--yes", "--all-at-once"], repo);
    expect(read(repo, "tenants/base/kustomization.yaml")).toBe("resources:\n  - team-payments # first\n");
    const objs = await kustomize(path.join(repo, "tenants/prod"));
    expect(namesIn(objs, "team-search")).toEqual([]);
    expect(namesIn(objs, "team-payments")).toContain("Namespace/team-payments");
  });
});

describe("offboarding twice", () => {
  it("a second identical remove-tenant changes nothing, says so and exits 0", async () => {
    const repo = await flatRepo();
    await ok(["remove-tenant", "team-search", "--yes", "--all-at-once"], repo);
    const once = snapshot(repo);
    const r = await ok(["remove-tenant", "team-search", "--yes", "--all-at-once"], repo);
    expect(r.stdout).toMatch(/nothing to do/);
    expect(r.stdout).toMatch(/nothing of tenant 'team-search' is left .*; tenants in this repo: team-payments/);
    expect(snapshot(repo)).toEqual(once);
  });

  it("a name never there is the same: nothing to do, exit 0, naming the tenants there are", async () => {
    const repo = await flatRepo();
    const before = snapshot(repo);
    const r = await ok(["remove-tenant", "team-paymnets", "--yes", "--all-at-once"], repo);
    expect(r.stdout).toMatch(/nothing of tenant 'team-paymnets' is left .*tenants in this repo: team-payments, team-search/);
    expect(snapshot(repo)).toEqual(before);
  });

  it("what a half-done offboarding left (base gone, overlays and CODEOWNERS not) is removed", async () => {
    const repo = await flatRepo();
    write(repo, ".github/CODEOWNERS", read(repo, ".github/CODEOWNERS") + LEGACY_SEARCH_LINES);
    fs.rmSync(path.join(repo, "tenants/base/team-search"), { recursive: true });
    await ok(["remove-tenant", "team-search", "--yes", "--all-at-once"], repo);
    expect(read(repo, "tenants/prod/kustomization.yaml")).not.toContain("team-search");
    expect(read(repo, ".github/CODEOWNERS")).not.toContain("team-search");
    await kustomize(path.join(repo, "tenants/prod"));
  });
});

describe("a value added to one object of a multi-document file", () => {
  const FILE = "# Platform Kustomizations.\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: infra\n  namespace: flux-system\nspec:\n  # every 10 minutes\n  interval: 10m\n  path: ./infra\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: apps\n  namespace: flux-system\nspec: {interval: 5m, path: ./apps}\n";

  it("goes in as one line of that object; every other byte, the other object and the comments stay", async () => {
    const { putInObject } = await import("../src/core/yaml-edit.js");
    const out = putInObject("x.yaml", FILE, { kind: "Kustomization", name: "infra" }, ["spec", "serviceAccountName"], "kustomize-controller");
    expect(out).toBe(FILE.replace("spec:\n  # every", "spec:\n  serviceAccountName: kustomize-controller\n  # every"));
    expect(putInObject("x.yaml", out, { kind: "Kustomization", name: "infra" }, ["spec", "serviceAccountName"], "kustomize-controller")).toBe(out);
  });

  it("is refused, naming the object, where it cannot be proven a one-line edit (flow style) or the key holds another value", async () => {
    const { putInObject } = await import("../src/core/yaml-edit.js");
    expect(() => putInObject("x.yaml", FILE, { kind: "Kustomization", name: "apps" }, ["spec", "serviceAccountName"], "kustomize-controller")).toThrow(/Kustomization apps: spec is not a block map/);
    const named = FILE.replace("  interval: 10m\n", "  interval: 10m\n  serviceAccountName: infra\n");
    expect(() => putInObject("x.yaml", named, { kind: "Kustomization", name: "infra" }, ["spec", "serviceAccountName"], "kustomize-controller")).toThrow(/already sets spec.serviceAccountName to "infra"/);
  });
});
