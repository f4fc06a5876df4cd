/**
 * The contract of every writing command (design section 5): dry-run writes nothing and shows
 * everything, a second run changes nothing, user edits survive, all or nothing, one process at
 * a time.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ChangeSet, realFs, type ApplyFs } from "../src/changeset/changeset.js";
import { BIN, buildAll, fleet, initRepo, read, snapshot, tmpDir, write, INIT_ARGS } from "./helpers.js";
import { flatRepo } from "./flat-layout.js";

const newTenant = (name: string, ...extra: string[]) => ["new-tenant", name, "--url", `https://github.com/acme/${name}`, "--yes", ...extra];

describe("dry run", () => {
  it("--dry-run writes nothing and shows a line per file and a unified diff", async () => {
    const repo = await initRepo();
    const before = snapshot(repo);
    const r = await fleet([...newTenant("team-dry"), "--dry-run"], { cwd: repo });
    expect(r.code).toBe(0);
    expect(snapshot(repo)).toEqual(before);
    expect(r.stdout).toMatch(/^ {2}created {3}tenants\/base\/team-dry\/sync\.yaml$/m);
    expect(r.stdout).toMatch(/^ {2}updated {3}tenants\/prod\/kustomization\.yaml$/m);
    expect(r.stdout).toMatch(/^\+\+\+ b\/tenants\/prod\/kustomization\.yaml$/m);
    expect(r.stdout).toMatch(/^\+ {2}- team-dry\.yaml$/m);
    expect(r.stdout).toMatch(/nothing was written/);
  });

  it("--dry-run of init into a new directory does not create it", async () => {
    const dir = path.join(tmpDir(), "not-yet");
    const r = await fleet(["init", dir, "--yes", ...INIT_ARGS, "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/created {3}fleet\.yaml/);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it("--dry-run --json gives the change list as data", async () => {
    const repo = await initRepo();
    const r = await fleet([...newTenant("team-json"), "--dry-run", "--json"], { cwd: repo });
    const out = JSON.parse(r.stdout);
    expect(out.dryRun).toBe(true);
    expect(out.changes).toContainEqual({ path: "tenants/base/team-json/rbac.yaml", change: "created" });
  });
});

describe("idempotency", () => {
  it("a second identical new-tenant leaves the tree byte-identical and says so", async () => {
    const repo = await initRepo();
    expect((await fleet(newTenant("team-twice", "--env", "prod"), { cwd: repo })).code).toBe(0);
    const once = snapshot(repo);
    const r = await fleet(newTenant("team-twice", "--env", "prod"), { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/nothing to do/);
    expect(snapshot(repo)).toEqual(once);
  });

  it("a second identical init changes nothing", async () => {
    const repo = await initRepo();
    const once = snapshot(repo);
    expect((await fleet(["init", repo, "--yes", ...INIT_ARGS])).stdout).toMatch(/nothing to do/);
    expect(snapshot(repo)).toEqual(once);
  });

  it("a second identical new-env changes nothing", async () => {
    const repo = await initRepo();
    expect((await fleet(["new-env", "qa", "--yes"], { cwd: repo })).code).toBe(0);
    const once = snapshot(repo);
    expect((await fleet(["new-env", "qa", "--yes"], { cwd: repo })).stdout).toMatch(/nothing to do/);
    expect(snapshot(repo)).toEqual(once);
  });
});

describe("edits keep what the user wrote", () => {
  it("an overlay's comments, key order, list style and unrelated entries survive new-tenant and remove-tenant byte for byte", async () => {
    // The seed's flat layout, where the overlay lists each tenant's entries itself.
    const repo = await flatRepo();
    const mine = [
      "# prod tenants: reviewed by the platform team",
      "apiVersion: kustomize.config.k8s.io/v1beta1",
      "kind: Kustomization",
      "generatorOptions:",
      "  labels:",
      "    acme.io/env: 'prod'   # quoted on purpose",
      "resources:",
      "- ../base/team-payments  # the first tenant",
      "- ../base/team-search",
      "- team-payments-quota.yaml",
      "- team-search-quota.yaml",
      "- extra/netpol.yaml",
      "patches:",
      "- path: team-payments-patch.yaml",
      "- path: team-search-patch.yaml",
      "# keep this trailing note",
      "",
    ].join("\n");
    write(repo, "tenants/prod/kustomization.yaml", mine);
    write(repo, "tenants/prod/extra/netpol.yaml", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: deny\n  namespace: team-search\nspec:\n  podSelector: {}\n");
    expect((await fleet(newTenant("team-new", "--env", "prod"), { cwd: repo })).code).toBe(0);
    const after = read(repo, "tenants/prod/kustomization.yaml");
    // resources is not sorted (extra/ after the quotas), so new entries go at its end; patches
    // is, so the new patch takes its sorted place.
    const expected = mine
      .replace("- extra/netpol.yaml\n", "- extra/netpol.yaml\n- ../base/team-new\n- team-new-quota.yaml\n")
      .replace("- path: team-payments-patch.yaml\n", "- path: team-new-patch.yaml\n- path: team-payments-patch.yaml\n");
    expect(after).toBe(expected);
    expect((await fleet(["remove-tenant", "team-new", "--yes", "--all-at-once"], { cwd: repo })).code).toBe(0);
    expect(read(repo, "tenants/prod/kustomization.yaml")).toBe(mine);
    await buildAll(repo);
  });

  it("a file fleet would create that the user wrote differently is not overwritten without --force", async () => {
    const repo = await initRepo();
    write(repo, "tenants/prod/team-own/quota.yaml", "# hand-written\n");
    const before = snapshot(repo);
    const r = await fleet(newTenant("team-own"), { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/tenants\/prod\/team-own\/quota\.yaml already exists.*--force/s);
    expect(snapshot(repo)).toEqual(before);
    expect((await fleet([...newTenant("team-own"), "--force"], { cwd: repo })).code).toBe(0);
    expect(read(repo, "tenants/prod/team-own/quota.yaml")).toMatch(/kind: ResourceQuota/);
  });
});

describe("all or nothing", () => {
  it("a directory where a file must go is refused before anything is written, by --dry-run too", async () => {
    const repo = await initRepo();
    // One of new-tenant's last files (its unit); a write that fails half way through the apply (the files before it
    // already in place) is in fs-failures.test.ts.
    write(repo, "tenants/staging/team-fail.yaml/blocker", "x");
    const before = snapshot(repo);
    expect((await fleet([...newTenant("team-fail"), "--dry-run"], { cwd: repo })).code).toBe(2);
    const r = await fleet(newTenant("team-fail"), { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/tenants\/staging\/team-fail\.yaml\/ is a directory; fleet expects a file there/);
    expect(snapshot(repo)).toEqual(before);
    expect(fs.existsSync(path.join(repo, "tenants/base/team-fail"))).toBe(false);
    expect(fs.readdirSync(path.join(repo, "tenants/prod")).filter((f) => f.includes("fleet-"))).toEqual([]);
  });

  it("rollback restores created, updated and deleted files when the Nth operation fails", async () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, "keep.yaml"), "old\n");
    fs.writeFileSync(path.join(dir, "gone.yaml"), "bye\n");
    const cs = new ChangeSet(dir);
    cs.write("a/new.yaml", "new\n");
    cs.write("keep.yaml", "changed\n", { overwrite: true });
    cs.delete("gone.yaml");
    cs.write("z/last.yaml", "last\n");
    let renames = 0;
    const failing: ApplyFs = {
      ...realFs,
      rename: async (from, to) => {
        if (++renames === 3) throw new Error("disk full (injected)");
        await realFs.rename(from, to);
      },
    };
    await expect(cs.apply({ fs: failing })).rejects.toThrow(/injected/);
    expect(snapshot(dir)).toEqual({ "keep.yaml": "old\n", "gone.yaml": "bye\n" });
  });
});

describe("one fleet process per repo", () => {
  it("a second process waits for the lock, then fails naming the holder, writing nothing", async () => {
    const repo = await initRepo();
    fs.writeFileSync(path.join(repo, ".fleet.lock"), JSON.stringify({ pid: process.pid, host: os.hostname(), command: "new-tenant" }));
    const before = snapshot(repo);
    const r = await fleet(newTenant("team-locked"), { cwd: repo, env: { FLEET_LOCK_WAIT_MS: "300" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`fleet new-tenant \\(pid ${process.pid}`));
    expect(snapshot(repo)).toEqual(before);
  });

  it("a lock left by a process that is gone is taken over", async () => {
    const repo = await initRepo();
    fs.writeFileSync(path.join(repo, ".fleet.lock"), JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), command: "x" }));
    expect((await fleet(newTenant("team-stale"), { cwd: repo })).code).toBe(0);
    expect(fs.existsSync(path.join(repo, ".fleet.lock"))).toBe(false);
  });

  it("two processes at once both land, one after the other, without losing either edit", async () => {
    const repo = await initRepo();
    const run = (name: string) =>
      new Promise<number>((resolve) => {
        // The lock is what is tested: without the proof's builds the three runs overlap more.
        const child = spawn(process.execPath, [BIN, ...newTenant(name), "--no-verify"], { cwd: repo, stdio: "ignore" });
        child.on("exit", (code) => resolve(code ?? -1));
      });
    expect(await Promise.all([run("team-one"), run("team-two"), run("team-three")])).toEqual([0, 0, 0]);
    for (const env of ["staging", "prod"]) {
      const k = read(repo, `tenants/${env}/kustomization.yaml`);
      for (const t of ["team-one", "team-two", "team-three"]) expect(k).toContain(`- ${t}.yaml`);
    }
    await buildAll(repo);
  });
});
