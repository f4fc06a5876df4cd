/**
 * Output a person and a pipe can live with: a reader that leaves early (`| head`), --json on
 * every exit, help that shows each flag's default and values, "did you mean", shell completion.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, fleet, initRepo, run, tmpDir } from "./helpers.js";

const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const FLEET = `${sh(process.execPath)} ${sh(BIN)}`;

describe("a pipe", () => {
  it("fleet ... | head -1 on a long dry-run ends quietly with exit 0 once head has left", async () => {
    const dir = path.join(tmpDir(), "fleet-infra");
    // Ten environments: over 64 KiB of diff, more than a pipe holds, so fleet is still writing when head exits.
    const envs = Array.from({ length: 10 }, (_, i) => `e${i}`).join(",");
    const r = await run("bash", ["-c", `set -o pipefail; ${FLEET} init ${sh(dir)} --yes --dry-run --demo --env ${envs} | head -1`]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}created {3}\S+\n$/);
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe("--json on an error", () => {
  const documentOf = (r: { stdout: string; stderr: string; code: number }) => {
    expect(r.stderr).toBe("");
    return JSON.parse(r.stdout) as { command?: string; error: { message: string; field?: string; rule?: string; fix?: string; errors?: unknown[] }; exitCode: number };
  };

  it("a generator command prints one JSON document with each refused answer as a field and a rule", async () => {
    const r = await fleet(["init", path.join(tmpDir(), "x"), "--yes", "--dry-run", "--json", "--provider", "svn", "--branch", "a b"]);
    expect(r.code).toBe(2);
    const doc = documentOf(r);
    expect(doc).toMatchObject({ command: "init", exitCode: 2 });
    expect(doc.error.errors).toEqual([
      { field: "--provider", rule: "must be one of: github, gitlab, git" },
      { field: "--branch", rule: expect.stringMatching(/^may contain only/) },
    ]);
  });

  it("list and validate print the same document, a run that could not start included", async () => {
    const outside = tmpDir();
    const list = await fleet(["list", "--json"], { cwd: outside });
    expect(list.code).toBe(2);
    expect(documentOf(list)).toMatchObject({ command: "list", error: { field: "--repo", rule: expect.stringContaining("no fleet.yaml") }, exitCode: 2 });
    const validate = await fleet(["validate", "--json", "--strikt"], { cwd: outside });
    expect(validate.code).toBe(2);
    expect(documentOf(validate)).toMatchObject({
      command: "validate",
      error: { field: "fleet validate", rule: "Unknown option '--strikt'", fix: expect.stringContaining("did you mean --strict?") },
      exitCode: 2,
    });
  });
});

describe("help and typos", () => {
  it("--help shows each flag's default and the values it takes, and says which defaults fleet.yaml sets", async () => {
    const cluster = await fleet(["new-cluster", "--help"]);
    expect(cluster.code).toBe(0);
    expect(cluster.stdout).toMatch(/--bootstrap VALUE .*\n\s+one of: flux, terraform, operator, none; default: none\n/);
    expect(cluster.stdout).toMatch(/--cluster-domain VALUE .*\n\s+must be a host name such as github\.acme\.io; default: cluster\.local\n/);
    expect(cluster.stdout).toMatch(/--env VALUE .*\n\s+one of those in the repository \(fleet list shows them\)\n/);
    const tenant = await fleet(["new-tenant", "--help"]);
    expect(tenant.stdout).toMatch(/--branch VALUE .*\n\s+.*; default: fleet\.yaml tenantDefaults\.branch \(main unless set\)\n/);
  });

  it("an unknown command or flag names the closest one", async () => {
    const command = await fleet(["new-tenat", "team-x"], { cwd: tmpDir() });
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(/unknown command 'new-tenat'\n {2}fix: did you mean fleet new-tenant\?/);
    const flag = await fleet(["new-cluster", "c1", "--bootstrp", "flux"], { cwd: tmpDir() });
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/Unknown option '--bootstrp'\n {2}fix: did you mean --bootstrap\?/);
  });
});

describe("shell completion", () => {
  it("fleet completion bash loads in bash and completes commands and a flag's values", async () => {
    // `fleet` on PATH, as the README has people install it: the script calls fleet by that name.
    const bin = tmpDir();
    fs.writeFileSync(path.join(bin, "fleet"), `#!/bin/sh\nexec ${FLEET} "$@"\n`, { mode: 0o755 });
    const script = [
      "source <(fleet completion bash)",
      "complete -p fleet",
      `fn=$(complete -p fleet | sed -E 's/.* -F ([^ ]+) .*/\\1/')`,
      "COMP_WORDS=(fleet new-t); COMP_CWORD=1; $fn; echo \"new-t: ${COMPREPLY[*]}\"",
      'COMP_WORDS=(fleet new-cluster c1 --bootstrap ""); COMP_CWORD=4; $fn; echo "--bootstrap: ${COMPREPLY[*]}"',
    ].join("\n");
    const r = await run("bash", ["-c", script], { cwd: tmpDir(), env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe(
      ["complete -o default -F _fleet_completion fleet", "new-t: new-tenant", "--bootstrap: flux terraform operator none", ""].join("\n"),
    );
  });

  it("offers the repo's own values where the prompt would: the environments of this repo for --env", async () => {
    const repo = await initRepo();
    fs.writeFileSync(path.join(repo, "fleet.yaml"), fs.readFileSync(path.join(repo, "fleet.yaml"), "utf8").replace(/name: prod\b/, "name: live"));
    const r = await fleet(["__complete", "new-tenant", "team-x", "--env", ""], { cwd: path.join(repo, "tenants") });
    expect(r).toEqual({ code: 0, stdout: "staging\nlive\n", stderr: "" });
  });
});
