/**
 * fleet migrate-layout: a flat repo's tenants move into per-tenant units, and every cluster
 * applies the same objects before and after, except the units; the move is refused until the
 * objects are protected from the prune of the Kustomization they leave.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { stringify } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { fleet, kustomize, read, snapshot, tmpDir, write, type K8sObject } from "./helpers.js";
import { flatRepo as seedFlatRepo } from "./flat-layout.js";

const ENVS = ["prod", "staging"];
const TENANTS = ["team-payments", "team-search", "team-x"];
const CLUSTER_FILE = "clusters/stg1/tenants.yaml";
const PROTECTION = "kustomize.toolkit.fluxcd.io/prune: disabled";

let flat: string;
/** A copy of the flat repo (3 tenants, 2 environments, a cluster applying staging). */
const flatRepo = () => {
  const dir = path.join(tmpDir(), "fleet-infra");
  fs.cpSync(flat, dir, { recursive: true });
  return dir;
};

beforeAll(async () => {
  flat = await seedFlatRepo();
  for (const args of [
    ["new-tenant", "team-x", "--url", "https://github.com/acme/team-x", "--yes"],
    ["new-cluster", "stg1", "--env", "staging", "--bootstrap", "none", "--yes"],
  ]) {
    const r = await fleet([...args, "--repo", flat]);
    expect(r.code, r.stderr).toBe(0);
  }
}, 60_000);

const canonical = (o: K8sObject) => stringify(o, { sortMapEntries: true });
const isUnit = (o: K8sObject) => o.kind === "Kustomization" && o.apiVersion.startsWith("kustomize.toolkit.fluxcd.io/");

/** What tenants/<env> applies, following the units it lists (as Flux does), sorted. */
async function applied(repo: string, env: string): Promise<{ objects: string[]; units: string[] }> {
  const top = await kustomize(path.join(repo, "tenants", env));
  const units = top.filter((o) => isUnit(o) && o.metadata.namespace === "flux-system");
  const objects = top.filter((o) => !units.includes(o)).map(canonical);
  for (const built of await Promise.all(units.map((u) => kustomize(path.join(repo, String(u.spec!.path)))))) objects.push(...built.map(canonical));
  return { objects: objects.sort(), units: units.map((u) => u.metadata.name).sort() };
}

describe("fleet migrate-layout", () => {
  it("moves every tenant into its unit: each environment applies the same objects, plus only the units; a second run changes nothing", async () => {
    const repo = flatRepo();
    const before = await Promise.all(ENVS.map((e) => applied(repo, e)));
    expect((await fleet(["migrate-layout", "--prepare", "--yes", "--repo", repo])).code).toBe(0);
    expect(read(repo, CLUSTER_FILE)).toContain(PROTECTION);

    const r = await fleet(["migrate-layout", "--yes", "--repo", repo]);
    expect(r.code, r.stderr).toBe(0);
    const after = await Promise.all(ENVS.map((e) => applied(repo, e)));
    ENVS.forEach((env, i) => {
      expect(before[i]!.units, env).toEqual([]);
      expect(after[i]!.units, env).toEqual(TENANTS.map((t) => `tenant-${t}`));
      expect(after[i]!.objects, env).toEqual(before[i]!.objects);
      for (const t of TENANTS) expect(fs.existsSync(path.join(repo, "tenants", env, `${t}-patch.yaml`)), `${env}/${t}`).toBe(false);
    });
    // The move takes the protection off again: units are pruned as usual from then on.
    expect(read(repo, CLUSTER_FILE)).not.toContain("commonMetadata");

    const moved = snapshot(repo);
    const again = await fleet(["migrate-layout", "--yes", "--repo", repo]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("nothing to do");
    expect(snapshot(repo)).toEqual(moved);
  });

  it("refuses the move while a cluster's tenants Kustomization would prune the objects it stops applying, and writes nothing", async () => {
    const repo = flatRepo();
    const was = snapshot(repo);
    const r = await fleet(["migrate-layout", "--yes", "--repo", repo]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("Kustomization flux-system/tenants");
    expect(r.stderr).toContain("migrate-layout --prepare");
    expect(snapshot(repo)).toEqual(was);
  });

  it("--dry-run shows the move and writes nothing", async () => {
    const repo = flatRepo();
    expect((await fleet(["migrate-layout", "--prepare", "--yes", "--repo", repo])).code).toBe(0);
    const was = snapshot(repo);
    const r = await fleet(["migrate-layout", "--dry-run", "--yes", "--repo", repo]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("tenants/prod/team-x/patch.yaml");
    expect(r.stdout).toContain("proven: tenants/staging");
    expect(snapshot(repo)).toEqual(was);
  });

  it("refuses an overlay whose transformers apply to every tenant, and leaves the repo as it was", async () => {
    const repo = flatRepo();
    const file = "tenants/prod/kustomization.yaml";
    write(repo, file, `${read(repo, file)}commonLabels:\n  env: prod\n`);
    const was = snapshot(repo);
    const r = await fleet(["migrate-layout", "--env", "prod", "--yes", "--repo", repo]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("commonLabels");
    expect(snapshot(repo)).toEqual(was);
  });

  it("refuses, by its proof, a move that would change what is applied (a patch the overlay shares among tenants), and writes nothing", async () => {
    const repo = flatRepo();
    expect((await fleet(["migrate-layout", "--prepare", "--yes", "--repo", repo])).code).toBe(0);
    const labelled = (ns: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n  labels:\n    shared: "yes"\n`;
    write(repo, "tenants/staging/shared-patch.yaml", `${labelled("team-x")}---\n${labelled("team-search")}`);
    write(repo, "tenants/staging/kustomization.yaml", `${read(repo, "tenants/staging/kustomization.yaml")}patchesStrategicMerge:\n  - shared-patch.yaml\n`);
    const was = snapshot(repo);
    const r = await fleet(["migrate-layout", "--env", "staging", "--yes", "--repo", repo]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("would not build after the move");
    expect(r.stderr).toContain("team-x");
    expect(snapshot(repo)).toEqual(was);
  });

  it("its proof is bounded by --timeout and skipped by --no-verify, as every proof is", async () => {
    const repo = flatRepo();
    expect((await fleet(["migrate-layout", "--prepare", "--yes", "--repo", repo])).code).toBe(0);
    const was = snapshot(repo);
    // An empty build cache: a build served from it runs no kubectl, and so no timeout.
    const slow = await fleet(["migrate-layout", "--yes", "--timeout", "1ms", "--repo", repo], { env: { XDG_CACHE_HOME: tmpDir("fleet-cache-") } });
    expect(slow.code, slow.stderr).toBe(3);
    expect(slow.stderr).toContain("longer --timeout");
    expect(snapshot(repo)).toEqual(was);

    const unproven = await fleet(["migrate-layout", "--yes", "--no-verify", "--repo", repo]);
    expect(unproven.code, unproven.stderr).toBe(0);
    expect(unproven.stderr).toContain("not proven: --no-verify");
    expect(unproven.stdout).not.toContain("proven: tenants/");
    expect(fs.existsSync(path.join(repo, "tenants/prod/team-x/patch.yaml"))).toBe(true);
  });
});
