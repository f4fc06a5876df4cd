/**
 * fleet validate on a hostile repository: it reads nothing outside the repository, never goes
 * to the network, bounds every build in time, and prints what it read from the repository or a
 * build only escaped. Runs spawn the built CLI where the environment or timing matters.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { inspectBuild, remoteRef } from "../src/validate/inputs.js";
import { BIN, bootstrapStandIn, fleet, run, tmpDir, write } from "./helpers.js";

const SENTINEL = `fleet-sentinel-${process.pid}-${Date.now().toString(36)}`;

/**
 * A Flux repo with one cluster (c1, bootstrapped, flux-system platform-owned) and one
 * Kustomization `apps` -> ./apps holding the given files. With `lockdown`, kustomize-controller
 * runs with --no-remote-bases=true.
 */
function fluxRepo(apps: Record<string, string>, opts: { lockdown?: boolean; appsPath?: string } = {}): string {
  const repo = path.join(tmpDir(), "repo");
  bootstrapStandIn(repo, "c1");
  const args = ["--no-cross-namespace-refs=true", "--default-service-account=default", ...(opts.lockdown ? ["--no-remote-bases=true"] : [])];
  write(
    repo,
    "clusters/c1/flux-system/kustomization.yaml",
    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gotk-components.yaml\n  - gotk-sync.yaml\npatches:\n" +
      args.map((a) => `  - patch: |\n      - op: add\n        path: /spec/template/spec/containers/0/args/-\n        value: ${a}\n    target:\n      kind: Deployment\n      name: kustomize-controller\n`).join("") +
      "  - patch: |\n      - op: add\n        path: /spec/serviceAccountName\n        value: kustomize-controller\n    target:\n      kind: Kustomization\n      name: flux-system\n",
  );
  write(repo, "clusters/c1/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - flux-system\n  - apps.yaml\n");
  write(repo, "clusters/c1/apps.yaml", fluxKs("apps", opts.appsPath ?? "./apps"));
  for (const [f, text] of Object.entries(apps)) write(repo, `apps/${f}`, text);
  return repo;
}

const fluxKs = (name: string, p: string, source = "flux-system") =>
  `apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: ${name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ${p}\n  prune: true\n  serviceAccountName: kustomize-controller\n  sourceRef:\n    kind: GitRepository\n    name: ${source}\n`;

/**
 * apps/: a ConfigMap generated from what `generator` loads, copied by a replacement into the
 * source name of a Flux Kustomization, which validate prints among what it did not check.
 */
function loot(generator: string, more: Record<string, string> = {}): Record<string, string> {
  return {
    "kustomization.yaml":
      `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - stolen.yaml\n${generator}` +
      "replacements:\n  - source:\n      kind: ConfigMap\n      name: loot\n      fieldPath: data.loot\n    targets:\n      - select:\n          kind: Kustomization\n          name: stolen\n        fieldPaths:\n          - spec.sourceRef.name\n",
    "stolen.yaml": fluxKs("stolen", "./nowhere", "placeholder"),
    ...more,
  };
}
const generated = (files: string, key = "files") =>
  `configMapGenerator:\n  - name: loot\n    namespace: flux-system\n    options:\n      disableNameSuffixHash: true\n    ${key}:\n      - ${files}\n`;

interface Report {
  clusters: Array<{ objects: number; findings: Array<{ id: string; severity: string; object: string; file: string; message: string }>; notChecked: string[] }>;
}
const parse = (stdout: string) => JSON.parse(stdout) as Report;
const findings = (r: Report, id: string) => r.clusters.flatMap((c) => c.findings.filter((f) => f.id === id));

/** Run the built CLI in a process group of its own; kill the group if it outlives `limitMs`. */
function runGuarded(args: string[], cwd: string, limitMs: number, env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string; ms: number; killed: boolean }>((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env }, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let killed = false;
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      killed = true;
      process.kill(-child.pid!, "SIGKILL");
    }, limitMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0, killed });
    });
  });
}

const servers: Array<net.Server> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as net.AddressInfo).port;
}

describe("validate reads nothing outside the repository", () => {
  it("the process environment (GITHUB_TOKEN among it) never reaches the output", async () => {
    const repo = fluxRepo(loot(generated("loot=/proc/self/environ")));
    for (const extra of [[], ["--json"]]) {
      const r = await fleet(["validate", ...extra], { cwd: repo, env: { GITHUB_TOKEN: SENTINEL } });
      expect(`${r.stdout}${r.stderr}`).not.toContain(SENTINEL);
      expect(r.code).toBe(1);
    }
    const r = parse((await fleet(["validate", "--json"], { cwd: repo, env: { GITHUB_TOKEN: SENTINEL } })).stdout);
    const hit = findings(r, "build-failed").find((f) => f.object === "Kustomization/flux-system/apps");
    expect(hit?.message).toMatch(/files '\/proc\/self\/environ' is an absolute path/);
  });

  // Each way a kustomization can name a file out of the repository, as kustomize reads it.
  const outside = () => {
    const dir = tmpDir("fleet-outside-");
    fs.writeFileSync(path.join(dir, "token.txt"), SENTINEL);
    return path.join(dir, "token.txt");
  };
  const up = (file: string) => "../".repeat(12) + file.replace(/^\//, "");
  const cases: Array<[string, (file: string) => Record<string, string>]> = [
    ["a relative path that climbs out of the repository", (f) => loot(generated(`loot=${up(f)}`))],
    ["a symlink in the repository that points out of it", () => loot(generated("loot=link.txt"))],
    ["a field spelled in another case (kustomize matches fields case-insensitively)", (f) => loot(generated(`loot=${up(f)}`, "Files"))],
    ["a path hidden in a !!binary scalar", (f) => loot(generated(`!!binary ${Buffer.from(`loot=${up(f)}`).toString("base64")}`))],
    ["a path merged in with a YAML merge key", (f) => loot(`configMapGenerator:\n  - name: loot\n    namespace: flux-system\n    options:\n      disableNameSuffixHash: true\n    <<: {files: [loot=${up(f)}]}\n`)],
    ["an inline generator config", (f) => loot(`generators:\n  - |\n    apiVersion: builtin\n    kind: ConfigMapGenerator\n    metadata:\n      name: loot\n      namespace: flux-system\n    options:\n      disableNameSuffixHash: true\n    files:\n      - loot=${up(f)}\n`)],
  ];
  it.each(cases)("a file out of the repository is never read: %s", async (what, apps) => {
    const file = outside();
    const repo = fluxRepo(apps(file));
    if (what.startsWith("a symlink")) fs.symlinkSync(file, path.join(repo, "apps", "link.txt"));
    const r = await fleet(["validate", "--json"], { cwd: repo });
    expect(r.stdout + r.stderr).not.toContain(SENTINEL);
    const hit = findings(parse(r.stdout), "build-failed").find((f) => f.object === "Kustomization/flux-system/apps");
    expect(hit, r.stdout).toBeDefined();
    expect(hit!.severity).toBe("error");
  });

  it("a Flux path that leaves the repository is an error, and its target is never opened", async () => {
    // The target's kustomization.yaml is a FIFO: opening it blocks until the guard kills the run.
    const target = path.join(tmpDir("fleet-outside-"), "x");
    fs.mkdirSync(target);
    expect((await run("mkfifo", [path.join(target, "kustomization.yaml")])).code).toBe(0);
    const escape = `../../../../../../../../..${target}`;
    const repo = fluxRepo({ "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n  namespace: default\n" }, { appsPath: escape });
    const r = await runGuarded(["validate", "--json"], repo, 30_000);
    expect(r.killed).toBe(false);
    const hits = findings(parse(r.stdout), "path-outside-source");
    expect(hits.map((h) => [h.object, h.severity])).toEqual([["Kustomization/flux-system/apps", "error"]]);
    expect(hits[0]!.message).toContain(escape);
    expect(r.code).toBe(1);
  });
});

describe("what Flux builds, validate builds", () => {
  it("anywhere inside the repository: spec.path from its root, a patch in another directory, a symlink within it", async () => {
    const repo = fluxRepo(
      {
        "kustomization.yaml": "resources:\n  - ../shared/cm.yaml\n  - linked.yaml\npatches:\n  - path: ../shared/label.yaml\n    target:\n      kind: ConfigMap\n",
      },
      { appsPath: "/apps" },
    );
    write(repo, "shared/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n  namespace: default\n");
    write(repo, "shared/other.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n  namespace: default\n");
    write(repo, "shared/label.yaml", "- op: add\n  path: /metadata/labels\n  value:\n    toolkit.fluxcd.io/tenant: team-a\n");
    fs.symlinkSync("../shared/other.yaml", path.join(repo, "apps", "linked.yaml"));
    const r = parse((await fleet(["validate", "--json"], { cwd: repo })).stdout);
    expect(findings(r, "build-failed")).toEqual([]);
    // The patch from ../shared applied: both objects carry the tenant label, outside the tenant's namespace.
    expect(findings(r, "tenant-object-namespace").map((f) => [f.object, f.file])).toEqual([
      ["ConfigMap/default/other", "shared/other.yaml"],
      ["ConfigMap/default/shared", "shared/cm.yaml"],
    ]);
  });
});

describe("validate never goes to the network", () => {
  it("a remote base is reported, not fetched: an HTTP listener on 127.0.0.1 sees no request", async () => {
    let requests = 0;
    const port = await listen(
      http.createServer((_req, res) => {
        requests++;
        res.end("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fetched\n  namespace: default\n");
      }),
    );
    const remotes = [`http://127.0.0.1:${port}/cm.yaml`, `http://127.0.0.1:${port}/org/repo//deploy?ref=v1`];
    const apps = { "kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${remotes.map((u) => `  - ${u}\n`).join("")}` };
    // Without the lockdown, Flux would fetch it: not checked, and said so.
    const open = parse((await fleet(["validate", "--json"], { cwd: fluxRepo(apps) })).stdout);
    for (const u of remotes) expect(open.clusters[0]!.notChecked.some((n) => n.includes(`remote base ${u}`))).toBe(true);
    expect(findings(open, "remote-base")).toEqual([]);
    // Under --no-remote-bases, Flux refuses to build it: an error.
    const locked = await fleet(["validate", "--json"], { cwd: fluxRepo(apps, { lockdown: true }) });
    const hits = findings(parse(locked.stdout), "remote-base");
    expect(hits.map((h) => [h.object, h.file, h.severity])).toEqual(remotes.map(() => ["Kustomization/flux-system/apps", "apps/kustomization.yaml", "error"]));
    expect(hits.map((h) => h.message).join("\n")).toContain(remotes[0]);
    expect(locked.code).toBe(1);
    expect(requests).toBe(0);
  });

  it("a host that accepts and never answers does not hang validate", async () => {
    let connections = 0;
    const port = await listen(net.createServer(() => connections++));
    const apps = { "kustomization.yaml": `resources:\n  - https://127.0.0.1:${port}/org/repo//deploy?ref=v1\n  - http://127.0.0.1:${port}/cm.yaml\n` };
    const r = await runGuarded(["validate", "--json", "--timeout", "5s"], fluxRepo(apps), 40_000);
    expect(r.killed).toBe(false);
    expect(parse(r.stdout).clusters[0]!.notChecked.filter((n) => n.startsWith("remote base "))).toHaveLength(2);
    expect(connections).toBe(0);
  });

  it("every build is bounded by --timeout, and the one that ran out is named", async () => {
    const bin = tmpDir("fleet-slow-kubectl-");
    fs.writeFileSync(path.join(bin, "kubectl"), "#!/bin/sh\nexec sleep 30\n", { mode: 0o755 });
    const repo = fluxRepo({ "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ok\n  namespace: default\n" });
    const t0 = Date.now();
    const r = await fleet(["validate", "--json", "--timeout", "2s"], { cwd: repo, env: { PATH: `${bin}${path.delimiter}${process.env.PATH}` } });
    expect(Date.now() - t0).toBeLessThan(20_000);
    const hits = findings(parse(r.stdout), "build-failed");
    expect(hits.map((h) => [h.object, h.file])).toEqual([["Cluster/c1", "clusters/c1"]]);
    expect(hits[0]!.message).toMatch(/clusters\/c1.*did not finish within 2s.*--timeout/);
    expect(r.code).toBe(1);
  });

  it("--timeout takes a duration, and says so otherwise", async () => {
    const r = await fleet(["validate", "--timeout", "soon"], { cwd: fluxRepo({}) });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--timeout: 'soon' must be a duration such as 30s, 5m or 1h/);
  });
});

describe("what kustomize would fetch", () => {
  it("knows kustomize's remote forms, scheme-less ones included", () => {
    for (const ref of [
      "https://github.com/org/repo//deploy?ref=v1",
      "http://example.com/manifest.yaml",
      "HTTPS://example.com/x.yaml",
      "github.com/org/repo//deploy?ref=v1",
      "GitHub.com/org/repo",
      "git@github.com:org/repo.git//deploy",
      "ssh://git@example.com/org/repo",
      "git::https://example.com/org/repo",
      "file:///srv/repo//deploy",
      "oci://ghcr.io/org/manifests",
    ])
      expect(remoteRef(ref, "base"), ref).toBeDefined();
    for (const local of ["../base", "deploy.yaml", "base//overlay", "example.com/org/repo//deploy?ref=v1", "./github.com"]) expect(remoteRef(local, "base"), local).toBeUndefined();
    // A file kustomize loads is fetched only over HTTP.
    expect(remoteRef("https://example.com/p.yaml", "file")).toBeDefined();
    expect(remoteRef("github.com/org/repo/p.yaml", "file")).toBeUndefined();
  });

  it("a resource that is neither in the repository nor remote is an error fleet names", () => {
    const repo = fluxRepo({ "kustomization.yaml": "resources:\n  - missing.yaml\n" });
    const got = inspectBuild(repo, ["apps"]);
    expect(got.problems).toEqual(["apps/kustomization.yaml: resources 'missing.yaml' does not exist"]);
  });
});

describe("what validate prints from a repository is escaped", () => {
  it("control and bidirectional characters in names reach the terminal as visible escapes", async () => {
    const repo = fluxRepo({ "ks.yaml": fluxKs('"evil\\e[2J\\u202e"', "./x", '"src\\e]0;owned\\a"').replace("prune: true", "prune: false") });
    const r = await fleet(["validate"], { cwd: repo });
    expect(r.stdout).not.toMatch(/[\u001b\u0007\u202e]/);
    expect(r.stdout).toContain("Kustomization/flux-system/evil\\x1b[2J\\u202e");
    expect(r.stdout).toContain("src\\x1b]0;owned\\x07");
  });
});
