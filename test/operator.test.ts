/**
 * `--bootstrap operator`: the FluxInstance fleet writes, as the real `kubectl kustomize` builds it
 * and as validate reads it, and the install through recording stand-ins for helm and kubectl
 * (neither a cluster nor helm is available here).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { OPERATOR_CHART } from "../src/flux/operator.js";
import { DEFAULT_FLUX_VERSION } from "../src/flux/index.js";
import { expectNoLeak, fleet, initRepo, kustomize, pushAll, read, snapshot, tmpDir } from "./helpers.js";

const TOKEN = "ghp_0perat0r_T0KEN_never_leaks_7";

interface Call {
  tool: string;
  argv: string[];
  token: string | null;
  stdin: string;
}

/** `helm` and `kubectl` that record their argv, the token in their environment and their stdin. */
function standIns(): { bin: string; calls: () => Call[] } {
  const bin = tmpDir("fleet-bin-");
  const log = path.join(bin, "calls.jsonl");
  const body = (tool: string) => `#!/usr/bin/env node
const fs = require("fs");
const argv = process.argv.slice(2);
if (argv[0] === "version") { console.log(${JSON.stringify(tool === "helm" ? "v3.15.2+g1a500d5" : "Client Version: v1.31.0")}); process.exit(0); }
let stdin = "";
try { stdin = fs.readFileSync(0, "utf8"); } catch {}
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ tool: ${JSON.stringify(tool)}, argv, token: process.env.GITHUB_TOKEN ?? null, stdin }) + "\\n");
// A careless tool echoes what it was given; fleet must redact it.
console.log("read " + stdin.length + " bytes: " + stdin);
if (process.env.STANDIN_FAIL === ${JSON.stringify(tool)}) { console.error("Error: INSTALLATION FAILED: token " + process.env.GITHUB_TOKEN); process.exit(1); }
`;
  for (const tool of ["helm", "kubectl"]) {
    fs.writeFileSync(path.join(bin, tool), body(tool));
    fs.chmodSync(path.join(bin, tool), 0o755);
  }
  const calls = () => (fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Call) : []);
  return { bin, calls };
}



const INSTANCE = "clusters/prod-eu/flux-system/flux-instance.yaml";

describe("--bootstrap operator", () => {
  let repo: string;
  let tools: ReturnType<typeof standIns>;
  const env = (extra: Record<string, string> = {}) => ({ PATH: `${tools.bin}:${process.env.PATH}`, GITHUB_TOKEN: TOKEN, ...extra });
  beforeEach(async () => {
    repo = await initRepo();
    tools = standIns();
  });

  const noLeak = (r: { stdout: string; stderr: string }) => expectNoLeak(TOKEN, repo, tools.calls().map((c) => c.argv), r);

  it("writes a FluxInstance the cluster path builds with the exact pin, the lockdown and this repo's sync, and validate reads it", async () => {
    await pushAll(repo);
    const r = await fleet(["new-cluster", "prod-eu", "--env", "prod", "--bootstrap", "operator", "--yes"], { cwd: repo, env: env() });
    expect(r.code).toBe(0);
    // Nothing is on a remote yet: the install waits for the push, having run nothing.
    expect(r.stdout).toMatch(/Flux Operator install not run: clusters\/prod-eu\/flux-system\/flux-instance\.yaml is not on origin\/main/);
    expect(tools.calls()).toEqual([]);
    expect(fs.readdirSync(path.join(repo, "clusters/prod-eu/flux-system")).sort()).toEqual(["cluster-vars.yaml", "flux-instance.yaml", "kustomization.yaml"]);

    const built = await kustomize(path.join(repo, "clusters/prod-eu"));
    const fi = built.find((o) => o.kind === "FluxInstance")!;
    expect(fi.apiVersion).toBe("fluxcd.controlplane.io/v1");
    expect(fi.spec!.distribution).toEqual({ version: DEFAULT_FLUX_VERSION, registry: "ghcr.io/fluxcd" });
    expect(fi.spec!.components).toEqual(["source-controller", "kustomize-controller", "helm-controller", "notification-controller", "image-reflector-controller", "image-automation-controller"]);
    expect(fi.spec!.cluster).toMatchObject({ multitenant: true, tenantDefaultServiceAccount: "default", networkPolicy: true, domain: "cluster.local" });
    expect(fi.spec!.sync).toEqual({ kind: "GitRepository", url: "https://github.com/acme/fleet-infra.git", ref: "refs/heads/main", path: "clusters/prod-eu", pullSecret: "flux-system" });

    const report = async () => JSON.parse((await fleet(["validate", "--json"], { cwd: repo })).stdout);
    const ok = await report();
    const cluster = ok.clusters.find((c: { name: string }) => c.name === "prod-eu");
    expect(cluster.flux).toBe(DEFAULT_FLUX_VERSION);
    expect(cluster.findings.filter((f: { id: string }) => f.id === "lockdown")).toEqual([]);
    // The same cluster without the operator's lockdown is what validate would flag.
    fs.writeFileSync(path.join(repo, INSTANCE), read(repo, INSTANCE).replace("multitenant: true", "multitenant: false"));
    const open = (await report()).clusters.find((c: { name: string }) => c.name === "prod-eu");
    expect(open.findings.filter((f: { id: string }) => f.id === "lockdown").length).toBeGreaterThan(0);
  });

  it("installs the pinned chart, then the sync secret from the token on stdin, then the FluxInstance", async () => {
    expect((await fleet(["new-cluster", "prod-eu", "--env", "prod", "--bootstrap", "operator", "--dry-run", "--yes"], { cwd: repo })).stdout).toContain(
      `would run: helm upgrade --install flux-operator ${OPERATOR_CHART.url} --version=${OPERATOR_CHART.version} --namespace=flux-system --create-namespace --wait`,
    );
    expect(fs.existsSync(path.join(repo, "clusters/prod-eu"))).toBe(false);
    expect((await fleet(["new-cluster", "prod-eu", "--env", "prod", "--bootstrap", "none", "--yes"], { cwd: repo })).code).toBe(0);
    // A cluster written for flux bootstrap is not one the operator can take.
    const wrong = await fleet(["bootstrap", "prod-eu", "--method", "operator", "--yes"], { cwd: repo });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/--method: cluster 'prod-eu' has no clusters\/prod-eu\/flux-system\/flux-instance\.yaml/);
    fs.rmSync(path.join(repo, "clusters/prod-eu"), { recursive: true });

    expect((await fleet(["new-cluster", "prod-eu", "--env", "prod", "--bootstrap", "operator", "--yes"], { cwd: repo, env: env() })).code).toBe(0);
    await pushAll(repo);
    const r = await fleet(["bootstrap", "prod-eu", "--yes"], { cwd: repo, env: env() });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const calls = tools.calls();
    expect(calls.map((c) => [c.tool, ...c.argv])).toEqual([
      ["helm", "upgrade", "--install", "flux-operator", "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator", `--version=${OPERATOR_CHART.version}`, "--namespace=flux-system", "--create-namespace", "--wait"],
      ["kubectl", "delete", "secret", "flux-system", "--namespace=flux-system", "--ignore-not-found"],
      ["kubectl", "create", "secret", "generic", "flux-system", "--namespace=flux-system", "--from-literal=username=git", "--from-file=password=/dev/stdin"],
      ["kubectl", "apply", `--filename=${INSTANCE}`],
    ]);
    // The token reaches kubectl only as its standard input (and the environment every child inherits).
    expect(calls.map((c) => c.stdin)).toEqual(["", "", TOKEN, ""]);
    expect(calls.every((c) => c.token === TOKEN)).toBe(true);
    expect(r.stdout).toContain(`read ${TOKEN.length} bytes: ***`);
    noLeak(r);
  });

  it("a failing helm exits 3, redacted, and nothing after it runs", async () => {
    expect((await fleet(["new-cluster", "prod-eu", "--env", "prod", "--bootstrap", "operator", "--yes"], { cwd: repo, env: env() })).code).toBe(0);
    await pushAll(repo);
    const r = await fleet(["bootstrap", "prod-eu", "--yes"], { cwd: repo, env: env({ STANDIN_FAIL: "helm" }) });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/helm exited with code 1/);
    expect(r.stderr).toMatch(/INSTALLATION FAILED: token \*\*\*/);
    expect(tools.calls().map((c) => c.tool)).toEqual(["helm"]);
    expect(r.stdout).not.toMatch(/FluxInstance of cluster/);
    noLeak(r);
  });

  it("refuses a pin the pinned operator cannot install, before writing anything", async () => {
    const old = await initRepo(["--flux-version", "v2.8.4"]);
    const before = snapshot(old);
    const r = await fleet(["new-cluster", "prod-eu", "--env", "prod", "--bootstrap", "operator", "--yes"], { cwd: old });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`--bootstrap: the Flux Operator chart ${OPERATOR_CHART.version.replace(/\./g, "\\.")} fleet pins cannot install Flux v2\\.8\\.4`));
    expect(snapshot(old)).toEqual(before);
  });
});
