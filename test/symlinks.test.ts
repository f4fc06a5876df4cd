/**
 * Symbolic links never take fleet outside the repository: a link that leads out is refused (exit
 * 2, naming it) before anything is read through it, written or deleted; nothing outside changes
 * (hashed before and after); a link that stays inside the repository is followed.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { fleet, initRepo, read, snapshot, tmpDir, write } from "./helpers.js";

const SENTINEL = "kubeconfig-token-must-never-be-printed-7731";
const URL_OK = "https://github.com/acme/team-x-config";

/** Every file and link below `dir`, with its content or target, as one hash. */
function treeHash(dir: string): string {
  const h = createHash("sha256");
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      h.update(`${path.relative(dir, p)}\0`);
      if (e.isSymbolicLink()) h.update(`-> ${fs.readlinkSync(p)}\0`);
      else if (e.isDirectory()) walk(p);
      else h.update(fs.readFileSync(p));
    }
  };
  walk(dir);
  return h.digest("hex");
}

/** A directory outside the repository, holding what an attacker (or an accident) points at. */
function outside(files: Record<string, string>): string {
  const dir = tmpDir("fleet-outside-");
  for (const [f, text] of Object.entries(files)) write(dir, f, text);
  return dir;
}

/** Replace `rel` in the repo with a link to `target`. */
function link(repo: string, rel: string, target: string): void {
  fs.rmSync(path.join(repo, rel), { recursive: true, force: true });
  fs.symlinkSync(target, path.join(repo, rel));
}

async function expectRefusedNamingLink(repo: string, args: string[], linkPath: string, out: string): Promise<void> {
  const repoBefore = snapshot(repo);
  const outBefore = treeHash(out);
  const r = await fleet(args, { cwd: repo });
  const shown = `fleet ${args.join(" ")}\nexit ${r.code}\n${r.stdout}\n${r.stderr}`;
  expect(r.code, shown).toBe(2);
  expect(r.stderr, shown).toContain(`${linkPath} is a symbolic link to`);
  expect(r.stderr, shown).toMatch(/outside the repository/);
  expect(r.stdout + r.stderr, shown).not.toContain(SENTINEL);
  expect(treeHash(out), "nothing outside the repository changed").toBe(outBefore);
  expect(snapshot(repo), "nothing in the repository changed").toEqual(repoBefore);
}

describe("a link that leads out of the repository is refused, naming it", () => {
  it("an overlay's kustomization.yaml linked to a file outside: neither --dry-run nor a run reads or copies it", async () => {
    const repo = await initRepo();
    const out = outside({ "kubeconfig": `apiVersion: v1\nkind: Config\nusers:\n  - name: admin\n    user:\n      token: ${SENTINEL}\n` });
    link(repo, "tenants/staging/kustomization.yaml", path.join(out, "kubeconfig"));
    const args = ["new-tenant", "team-x", "--url", URL_OK, "--yes"];
    await expectRefusedNamingLink(repo, [...args, "--dry-run"], "tenants/staging/kustomization.yaml", out);
    await expectRefusedNamingLink(repo, args, "tenants/staging/kustomization.yaml", out);
  });

  it("a linked environment directory: new-tenant writes nothing into it", async () => {
    const repo = await initRepo();
    const out = outside({ "kustomization.yaml": read(repo, "tenants/staging/kustomization.yaml") });
    link(repo, "tenants/staging", out);
    await expectRefusedNamingLink(repo, ["new-tenant", "team-x", "--url", URL_OK, "--yes"], "tenants/staging", out);
  });

  it("a linked tenants/base: remove-tenant deletes nothing outside, an unrelated notes.txt included; new-tenant writes nothing there", async () => {
    const repo = await initRepo();
    const out = tmpDir("fleet-outside-");
    fs.cpSync(path.join(repo, "tenants/base"), out, { recursive: true });
    write(out, "notes.txt", "the team's notes, not fleet's\n");
    link(repo, "tenants/base", out);
    await expectRefusedNamingLink(repo, ["remove-tenant", "team-payments", "--yes"], "tenants/base", out);
    await expectRefusedNamingLink(repo, ["new-tenant", "team-x", "--url", URL_OK, "--yes"], "tenants/base", out);
  });

  it("a template override linked to a file outside is not rendered", async () => {
    const repo = await initRepo();
    const out = outside({ "passwd": `root:x:0:0:${SENTINEL}:/root:/bin/bash\n` });
    fs.mkdirSync(path.join(repo, ".fleet/templates/tenant"), { recursive: true });
    fs.symlinkSync(path.join(out, "passwd"), path.join(repo, ".fleet/templates/tenant/namespace.yaml.hbs"));
    await expectRefusedNamingLink(
      repo,
      ["new-tenant", "team-x", "--url", URL_OK, "--yes", "--dry-run"],
      ".fleet/templates/tenant/namespace.yaml.hbs",
      out,
    );
  });
});

describe("a link that stays inside the repository is followed", () => {
  it("CODEOWNERS linked to a file elsewhere in the repo is edited where it lives, and stays a link", async () => {
    const repo = await initRepo();
    // The tenant lines older fleet wrote, which remove-tenant takes out.
    fs.writeFileSync(path.join(repo, "CODEOWNERS"), `${read(repo, ".github/CODEOWNERS")}/tenants/base/team-search/ @acme/search\n/tenants/base/team-search/rbac.yaml @acme/platform\n`);
    fs.rmSync(path.join(repo, ".github/CODEOWNERS"));
    fs.symlinkSync("../CODEOWNERS", path.join(repo, ".github/CODEOWNERS"));
    // CODEOWNERS lines go in offboarding's last step: both at once here.
    const r = await fleet(["remove-tenant", "team-search", "--yes", "--all-at-once"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.lstatSync(path.join(repo, ".github/CODEOWNERS")).isSymbolicLink()).toBe(true);
    expect(read(repo, "CODEOWNERS")).not.toContain("team-search");
    expect(read(repo, "CODEOWNERS")).toMatch(/^\* @acme\/platform$/m);
  });
});

describe("team generators", () => {
  it("a team generator linked to a module outside the repository is listed as refused and never run", async () => {
    const repo = await initRepo();
    const out = tmpDir("fleet-outside-");
    const marker = path.join(out, "ran");
    write(out, "evil.mjs", `// ${SENTINEL}\nimport { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "ran");\nexport default { name: "evil", answers: [], actions: () => [] };\n`);
    fs.mkdirSync(path.join(repo, ".fleet/generators"), { recursive: true });
    fs.symlinkSync(path.join(out, "evil.mjs"), path.join(repo, ".fleet/generators/evil.mjs"));
    const help = await fleet(["--help"], { cwd: repo, spawn: true });
    expect(help.stdout).toMatch(/evil +refused: \.fleet\/generators\/evil\.mjs is a symbolic link to .*outside the repository/);
    expect(help.stdout).not.toContain(SENTINEL);
    const r = await fleet(["evil", "--yes"], { cwd: repo, spawn: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/outside the repository/);
    expect(fs.existsSync(marker), "the module outside was not imported").toBe(false);
  });
});

describe("links inside what fleet deletes or lists", () => {
  it("remove-tenant refuses a tenant directory holding a linked directory, deleting nothing, least of all what the link points to", async () => {
    const repo = await initRepo();
    write(repo, "common/netpol.yaml", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: shared\n");
    fs.symlinkSync("../../../common", path.join(repo, "tenants/base/team-payments/shared"));
    const before = snapshot(repo);
    // The base directory is deleted in offboarding's last step: both at once here.
    const r = await fleet(["remove-tenant", "team-payments", "--yes", "--all-at-once"], { cwd: repo });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain("tenants/base/team-payments/shared is a symbolic link to a directory inside tenants/base/team-payments");
    expect(snapshot(repo)).toEqual(before);
  });

  it("a tenant whose kustomization.yaml links out of the repository stops fleet list, naming the link", async () => {
    const repo = await initRepo();
    const out = outside({ "kustomization.yaml": `resources: []\n# ${SENTINEL}\n` });
    link(repo, "tenants/base/team-search/kustomization.yaml", path.join(out, "kustomization.yaml"));
    const r = await fleet(["list"], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("tenants/base/team-search/kustomization.yaml is a symbolic link to");
    expect(r.stdout + r.stderr).not.toContain(SENTINEL);
  });

  it("a .fleet directory linked out of the repository offers no team generator from there", async () => {
    const repo = await initRepo();
    const out = tmpDir("fleet-outside-");
    fs.renameSync(path.join(repo, ".fleet"), path.join(out, ".fleet"));
    fs.symlinkSync(path.join(out, ".fleet"), path.join(repo, ".fleet"));
    const help = await fleet(["--help"], { cwd: repo });
    expect(help.stdout).not.toMatch(/allow-ingress/);
    expect((await fleet(["allow-ingress", "--help"], { cwd: repo })).code).toBe(2);
  });
});

describe("what fleet prints from files in the repository is escaped", () => {
  it("a lock record and tenant names with terminal escapes and bidi controls reach the terminal as visible escapes", async () => {
    const repo = await initRepo();
    const evil = "team-\u001b[2J\u202e";
    fs.cpSync(path.join(repo, "tenants/base/team-search"), path.join(repo, "tenants/base", evil), { recursive: true });
    const listed = await fleet(["list"], { cwd: repo });
    expect(listed.stdout).toContain("team-\\x1b[2J\\u202e");
    fs.writeFileSync(path.join(repo, ".fleet.lock"), JSON.stringify({ pid: process.pid, host: "h\u001b]0;pwned\u0007", command: "x\u001b[2J" }));
    const blocked = await fleet(["new-tenant", "team-z", "--url", URL_OK, "--yes"], { cwd: repo, env: { FLEET_LOCK_WAIT_MS: "200" } });
    expect(blocked.code).toBe(2);
    expect(blocked.stderr).toContain("fleet x\\x1b[2J");
    for (const out of [listed.stdout, listed.stderr, blocked.stdout, blocked.stderr]) expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u202e]/);
  });
});
