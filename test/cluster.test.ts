/**
 * Clusters: the entrypoint and its lockdown as the real kustomize builds them, the pinned
 * bootstrap through the flux CLI or Terraform (recording stand-ins first on PATH, since neither
 * a cluster nor the flux CLI is available here), and upgrades of the pin.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { apiVersions, DEFAULT_FLUX_VERSION, terraformProviderVersion } from "../src/flux/index.js";
import { bootstrapStandIn, buildAll, expectNoLeak, fleet, initRepo, kustomize, type K8sObject, pushAll, read, run, snapshot, tmpDir, write, INIT_ARGS } from "./helpers.js";

const TOKEN = "ghp_T0KEN_must_never_leak_42";

/** A `flux` or `terraform` that records its argv and secrets-bearing env, then behaves as told. */
function standIns(): { bin: string; log: string; calls: () => Array<{ tool: string; argv: string[]; env: Record<string, string | null> }> } {
  const bin = tmpDir("fleet-bin-");
  const log = path.join(bin, "calls.jsonl");
  const body = (tool: string) => `#!/usr/bin/env node
const fs = require("fs");
const argv = process.argv.slice(2);
const env = {};
for (const k of ["GITHUB_TOKEN", "GITLAB_TOKEN", "GIT_PASSWORD", "TF_VAR_git_token"]) env[k] = process.env[k] ?? null;
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ tool: ${JSON.stringify(tool)}, argv, env }) + "\\n");
if (argv[0] === "version") { console.log("flux: " + (process.env.STANDIN_FLUX_VERSION || ${JSON.stringify(DEFAULT_FLUX_VERSION)})); process.exit(0); }
// Tools echo things; a careless one echoes the token. fleet must redact it.
console.log("► working with token " + (process.env.GITHUB_TOKEN || process.env.TF_VAR_git_token || "none"));
const code = Number(process.env.STANDIN_EXIT || 0);
if (code !== 0) {
  for (let i = 1; i <= 25; i++) console.error("detail line " + i);
  console.error("✗ push rejected: authentication failed for " + (process.env.GITHUB_TOKEN || "?"));
}
process.exit(code);
`;
  for (const tool of ["flux", "terraform"]) {
    fs.writeFileSync(path.join(bin, tool), body(tool));
    fs.chmodSync(path.join(bin, tool), 0o755);
  }
  const calls = () =>
    fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
  return { bin, log, calls };
}



function setProvider(repo: string, lines: string): void {
  const text = read(repo, "fleet.yaml").replace(/git:\n(?: {2}.*\n)+/, `git:\n${lines}`);
  write(repo, "fleet.yaml", text);
}

const argsOf = (objs: K8sObject[], name: string) =>
  (objs.find((o) => o.kind === "Deployment" && o.metadata.name === name)!.spec!.template.spec.containers[0].args as string[]).slice(1);

describe("fleet new-cluster", () => {
  it("writes an entrypoint whose build carries the lockdown on the right controllers", async () => {
    const repo = await initRepo();
    const r = await fleet(["new-cluster", "prod-eu", "--env", "prod", "--var", "region=eu-west-1", "--var", "domain=eu.acme.io", "--yes"], { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    // --bootstrap none (the default): the exact command to run is printed.
    expect(r.stdout).toContain(
      `GITHUB_TOKEN=<token> flux bootstrap github --owner=acme --repository=fleet-infra --branch=main --path=clusters/prod-eu --version=${DEFAULT_FLUX_VERSION} --components-extra=image-reflector-controller,image-automation-controller --network-policy=true --cluster-domain=cluster.local`,
    );
    bootstrapStandIn(repo, "prod-eu");
    const objs = await kustomize(path.join(repo, "clusters/prod-eu"));
    const noXns = "--no-cross-namespace-refs=true";
    expect(argsOf(objs, "kustomize-controller")).toEqual([noXns, "--no-remote-bases=true", "--default-service-account=default"]);
    expect(argsOf(objs, "helm-controller")).toEqual([noXns, "--default-service-account=default"]);
    for (const c of ["notification-controller", "image-reflector-controller", "image-automation-controller"]) expect(argsOf(objs, c)).toEqual([noXns]);
    expect(argsOf(objs, "source-controller")).toEqual([]);

    const platform = objs.filter((o) => o.kind === "Kustomization");
    expect(platform.map((k) => k.metadata.name).sort()).toEqual(["flux-system", "infrastructure", "tenants"]);
    for (const k of platform) expect(k.spec!.serviceAccountName, k.metadata.name).toBe("kustomize-controller");
    const infra = platform.find((k) => k.metadata.name === "infrastructure")!;
    const tenants = platform.find((k) => k.metadata.name === "tenants")!;
    expect(infra.spec).toMatchObject({ path: "./infrastructure/prod", prune: true, wait: true, timeout: "5m" });
    expect(tenants.spec).toMatchObject({ path: "./tenants/prod", prune: true, dependsOn: [{ name: "infrastructure" }] });
    expect(infra.spec!.dependsOn).toBeUndefined();
    for (const k of [infra, tenants]) expect(k.spec!.postBuild).toEqual({ substituteFrom: [{ kind: "ConfigMap", name: "cluster-vars" }] });
    const vars = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === "cluster-vars") as K8sObject & { data: Record<string, string> };
    expect(vars.metadata.namespace).toBe("flux-system");
    expect(vars.data).toMatchObject({ region: "eu-west-1", domain: "eu.acme.io", cluster_name: "prod-eu", environment: "prod" });
    // The cluster directory holds only flux-system and Kustomizations pointing elsewhere.
    expect(fs.readdirSync(path.join(repo, "clusters/prod-eu")).sort()).toEqual(["flux-system", "infrastructure.yaml", "kustomization.yaml", "tenants.yaml"]);
    await buildAll(repo);
  });

  it.each([
    [["--env", "nope"], /--env: must be one of: staging, prod/],
    [["--env", "prod", "--var", "region"], /--var: 'region' must be key=value/],
    [["--env", "prod", "--var", "9lives=x"], /--var: '9lives' must be a variable name/],
    [["--env", "prod", "--var", "re-gion=x"], /--var: 're-gion' must be a variable name/],
    [["--env", "prod", "--var", "region=${other}"], /--var: value of 'region' must not contain \$\{\.\.\.\}/],
    [["--env", "prod", "--bootstrap", "helm"], /--bootstrap: must be one of: flux, terraform, operator, none/],
    [["--env", "prod", "--bootstrap", "flux"], /GITHUB_TOKEN: is not set/],
    [["--env", "prod", "--bootstrap", "terraform"], /GITHUB_TOKEN: is not set/],
  ])("refuses %j with exit 2, writing nothing and running nothing", async (args, message) => {
    const repo = await initRepo();
    const tools = standIns();
    const before = snapshot(repo);
    const r = await fleet(["new-cluster", "bad", ...args, "--yes"], { cwd: repo, env: { PATH: `${tools.bin}:${process.env.PATH}`, GITHUB_TOKEN: "" } });
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(snapshot(repo)).toEqual(before);
    expect(tools.calls()).toEqual([]);
  });

  it("refuses a cluster that already exists with other settings", async () => {
    const repo = await initRepo();
    expect((await fleet(["new-cluster", "c1", "--env", "prod", "--yes"], { cwd: repo })).code).toBe(0);
    const before = snapshot(repo);
    const r = await fleet(["new-cluster", "c1", "--env", "staging", "--yes"], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/<name>: cluster 'c1' already exists/);
    expect(snapshot(repo)).toEqual(before);
  });
});

describe("bootstrap through the flux CLI", () => {
  let repo: string;
  let tools: ReturnType<typeof standIns>;
  const env = (extra: Record<string, string> = {}) => ({ PATH: `${tools.bin}:${process.env.PATH}`, GITHUB_TOKEN: TOKEN, GITLAB_TOKEN: TOKEN, ...extra });
  beforeEach(async () => {
    repo = await initRepo();
    tools = standIns();
  });

  const noLeak = (r: { stdout: string; stderr: string }) => expectNoLeak(TOKEN, repo, tools.calls().map((c) => c.argv), r);

  it("runs flux bootstrap github with the pin, the full component set and the token only in the environment", async () => {
    expect((await fleet(["new-cluster", "prod-eu", "--env", "prod", "--yes"], { cwd: repo })).code).toBe(0);
    await pushAll(repo);
    const r = await fleet(["bootstrap", "prod-eu", "--yes"], { cwd: repo, env: env() });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [version, boot] = tools.calls();
    expect(version!.argv).toEqual(["version", "--client"]);
    expect(boot!.argv).toEqual([
      "bootstrap", "github", "--owner=acme", "--repository=fleet-infra", "--branch=main", "--path=clusters/prod-eu",
      `--version=${DEFAULT_FLUX_VERSION}`, "--components-extra=image-reflector-controller,image-automation-controller",
      "--network-policy=true", "--cluster-domain=cluster.local",
    ]);
    expect(boot!.env.GITHUB_TOKEN).toBe(TOKEN);
    expect(r.stdout).toMatch(/flux │ ► working with token \*\*\*/);
    noLeak(r);
  });

  it("runs flux bootstrap gitlab with GITLAB_TOKEN, personal owner and self-hosted host", async () => {
    setProvider(repo, "  provider: gitlab\n  owner: platform\n  repository: fleet\n  branch: main\n  personal: true\n  hostname: gitlab.acme.io\n");
    expect((await fleet(["new-cluster", "c1", "--env", "staging", "--network-policy=false", "--cluster-domain", "k8s.acme", "--yes"], { cwd: repo })).code).toBe(0);
    await pushAll(repo);
    const r = await fleet(["bootstrap", "c1", "--yes"], { cwd: repo, env: env({ GITHUB_TOKEN: "" }) });
    expect(r.stderr).toBe("");
    expect(tools.calls()[1]!.argv).toEqual([
      "bootstrap", "gitlab", "--owner=platform", "--repository=fleet", "--personal", "--hostname=gitlab.acme.io",
      "--branch=main", "--path=clusters/c1", `--version=${DEFAULT_FLUX_VERSION}`,
      "--components-extra=image-reflector-controller,image-automation-controller",
      "--network-policy=false", "--cluster-domain=k8s.acme",
    ]);
    expect(tools.calls()[1]!.env.GITLAB_TOKEN).toBe(TOKEN);
    noLeak(r);
  });

  it("runs flux bootstrap git with the URL; over ssh no token is needed, over https GIT_PASSWORD is", async () => {
    setProvider(repo, "  provider: git\n  owner: acme\n  repository: fleet\n  branch: main\n  url: ssh://git@git.acme.io/platform/fleet.git\n");
    expect((await fleet(["new-cluster", "c1", "--env", "prod", "--yes"], { cwd: repo })).code).toBe(0);
    await pushAll(repo);
    const r = await fleet(["bootstrap", "c1", "--yes"], { cwd: repo, env: env({ GITHUB_TOKEN: "", GIT_PASSWORD: "" }) });
    expect(r.stderr).toBe("");
    expect(tools.calls()[1]!.argv.slice(0, 4)).toEqual(["bootstrap", "git", "--url=ssh://git@git.acme.io/platform/fleet.git", "--branch=main"]);

    setProvider(repo, "  provider: git\n  owner: acme\n  repository: fleet\n  branch: main\n  url: https://git.acme.io/platform/fleet.git\n");
    await pushAll(repo);
    const missing = await fleet(["bootstrap", "c1", "--yes"], { cwd: repo, env: env({ GIT_PASSWORD: "" }) });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/GIT_PASSWORD: is not set/);
  });

  it("refuses when the flux CLI's minor differs from the pin, before running anything else", async () => {
    expect((await fleet(["new-cluster", "prod-eu", "--env", "prod", "--yes"], { cwd: repo })).code).toBe(0);
    await pushAll(repo);
    const r = await fleet(["bootstrap", "prod-eu", "--yes"], { cwd: repo, env: env({ STANDIN_FLUX_VERSION: "v2.6.4" }) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`flux CLI: is v2.6.4, but the repo pins Flux ${DEFAULT_FLUX_VERSION}`);
    expect(tools.calls().map((c) => c.argv[0])).toEqual(["version"]);
  });

  it("new-cluster --bootstrap flux checks the flux CLI before writing a file", async () => {
    const before = snapshot(repo);
    const r = await fleet(["new-cluster", "prod-eu", "--env", "prod", "--bootstrap", "flux", "--yes"], { cwd: repo, env: env({ STANDIN_FLUX_VERSION: "v2.8.5" }) });
    expect(r.code).toBe(2);
    expect(snapshot(repo)).toEqual(before);
  });

  it("waits to bootstrap until the lockdown is on the remote branch, and says what to push", async () => {
    await pushAll(repo);
    const r = await fleet(["new-cluster", "prod-eu", "--env", "prod", "--bootstrap", "flux", "--yes"], { cwd: repo, env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/flux bootstrap not run: clusters\/prod-eu\/flux-system\/kustomization\.yaml is not on origin\/main/);
    expect(r.stdout).toMatch(/then run: fleet bootstrap prod-eu/);
    expect(tools.calls().map((c) => c.argv[0])).toEqual(["version"]);
    // fleet bootstrap, asked explicitly, refuses the same way.
    const again = await fleet(["bootstrap", "prod-eu", "--yes"], { cwd: repo, env: env() });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/bootstrap: flux bootstrap not run/);
    // Once pushed, re-running new-cluster writes nothing and bootstraps.
    await pushAll(repo);
    const third = await fleet(["new-cluster", "prod-eu", "--env", "prod", "--bootstrap", "flux", "--yes"], { cwd: repo, env: env() });
    expect(third.code).toBe(0);
    expect(tools.calls().filter((c) => c.argv[0] === "bootstrap")).toHaveLength(1);
  });

  it("a failing flux bootstrap exits 3 with the tail of its stderr, redacted, and the repo still builds", async () => {
    expect((await fleet(["new-cluster", "prod-eu", "--env", "prod", "--yes"], { cwd: repo })).code).toBe(0);
    await pushAll(repo);
    const r = await fleet(["bootstrap", "prod-eu", "--yes"], { cwd: repo, env: env({ STANDIN_EXIT: "1" }) });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/flux exited with code 1/);
    expect(r.stderr).toMatch(/detail line 25\n\s+✗ push rejected: authentication failed for \*\*\*/);
    expect(r.stderr).not.toMatch(/detail line 5\b/);
    noLeak(r);
    bootstrapStandIn(repo, "prod-eu");
    await buildAll(repo);
    await kustomize(path.join(repo, "clusters/prod-eu"));
  });

  it("--dry-run shows the exact command line with the token as a variable, and runs nothing", async () => {
    await pushAll(repo);
    const r = await fleet(["new-cluster", "prod-eu", "--env", "prod", "--bootstrap", "flux", "--dry-run", "--yes"], { cwd: repo, env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`would run: flux bootstrap github --owner=acme --repository=fleet-infra --branch=main --path=clusters/prod-eu --version=${DEFAULT_FLUX_VERSION}`);
    expect(tools.calls()).toEqual([]);
    noLeak(r);
  });
});

describe("bootstrap through Terraform", () => {
  it("writes HCL that passes the real terraform fmt -check, pinned to the provider of the Flux minor", async () => {
    const repo = await initRepo();
    expect((await fleet(["new-cluster", "prod-eu", "--env", "prod", "--bootstrap", "terraform", "--dry-run", "--yes"], { cwd: repo })).code).toBe(0);
    const tools = standIns();
    const r = await fleet(["new-cluster", "prod-eu", "--env", "prod", "--bootstrap", "terraform", "--yes"], {
      cwd: repo,
      env: { PATH: `${tools.bin}:${process.env.PATH}`, GITHUB_TOKEN: TOKEN },
    });
    expect(r.code).toBe(0);
    const tf = ["versions.tf", "main.tf", "variables.tf"].map((f) => path.join(repo, "terraform/prod-eu", f));
    const fmt = await run("terraform", ["fmt", "-check", "-diff", ...tf]);
    expect(fmt.stdout + fmt.stderr, "terraform fmt -check").not.toMatch(/^[-+][^-+]/m);
    expect(fmt.code).toBe(0);
    expect(read(repo, "terraform/prod-eu/versions.tf")).toMatch(new RegExp(`source {2}= "fluxcd/flux"\\n\\s+version = "${terraformProviderVersion(DEFAULT_FLUX_VERSION)}"`));
    expect(read(repo, "terraform/prod-eu/versions.tf")).toMatch(/required_version = ">= 1\.5\.0, < 2\.0\.0"/);
    const main = read(repo, "terraform/prod-eu/main.tf");
    expect(main).toMatch(new RegExp(`version\\s+= "${DEFAULT_FLUX_VERSION}"`));
    expect(main).toMatch(/components_extra\s+= \["image-reflector-controller", "image-automation-controller"\]/);
    expect(main).toMatch(/kustomization_override = file\("\$\{path\.module\}\/\.\.\/\.\.\/clusters\/prod-eu\/flux-system\/kustomization\.yaml"\)/);
    expect(read(repo, "terraform/prod-eu/variables.tf")).toMatch(/variable "git_token" \{[^}]*sensitive\s+= true/);
    expect(read(repo, "terraform/prod-eu/variables.tf")).not.toMatch(/git_token[^}]*default/);

    const calls = tools.calls();
    expect(calls.map((c) => c.argv)).toEqual([
      ["-chdir=terraform/prod-eu", "init", "-input=false", "-upgrade"],
      ["-chdir=terraform/prod-eu", "apply", "-input=false", "-auto-approve"],
    ]);
    expect(calls[1]!.env.TF_VAR_git_token).toBe(TOKEN);
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
    for (const text of Object.values(snapshot(repo))) expect(text).not.toContain(TOKEN);
  });

  it("over ssh the HCL takes a private key variable, and still passes terraform fmt -check", async () => {
    const repo = await initRepo();
    setProvider(repo, "  provider: git\n  owner: acme\n  repository: fleet\n  branch: main\n  url: ssh://git@git.acme.io/platform/fleet.git\n");
    const tools = standIns();
    const r = await fleet(["new-cluster", "c1", "--env", "prod", "--bootstrap", "terraform", "--no-network-policy", "--yes"], {
      cwd: repo,
      env: { PATH: `${tools.bin}:${process.env.PATH}`, TF_VAR_git_private_key: "k", GITHUB_TOKEN: "" },
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const tf = ["versions.tf", "main.tf", "variables.tf"].map((f) => path.join(repo, "terraform/c1", f));
    const fmt = await run("terraform", ["fmt", "-check", "-diff", ...tf]);
    expect(fmt.code, fmt.stdout).toBe(0);
    const main = read(repo, "terraform/c1/main.tf");
    expect(main).toMatch(/url {4}= "ssh:\/\/git@git\.acme\.io\/platform\/fleet\.git"/);
    expect(main).toMatch(/ssh = \{\n\s+username {4}= "git"\n\s+private_key = var\.git_private_key/);
    expect(main).toMatch(/network_policy\s+= false/);
    expect(read(repo, "terraform/c1/variables.tf")).toMatch(/variable "git_private_key" \{[^}]*sensitive\s+= true/);
    expect(tools.calls()[1]!.env.TF_VAR_git_token).toBeNull();
  });

  it("without --yes and without a terminal, terraform apply is refused before anything is written", async () => {
    const repo = await initRepo();
    const before = snapshot(repo);
    const r = await fleet(["new-cluster", "c1", "--env", "prod", "--bootstrap", "terraform", "--env", "prod"], { cwd: repo, env: { GITHUB_TOKEN: TOKEN } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--yes: terraform apply asks for confirmation/);
    expect(snapshot(repo)).toEqual(before);
  });
});

describe("fleet upgrade", () => {
  it("2.6 to 2.7 rewrites image API versions from v1beta2 to v1, moves the pins, and leaves every other byte", async () => {
    const repo = path.join(tmpDir(), "fleet-infra");
    expect((await fleet(["init", repo, "--yes", ...INIT_ARGS, "--flux-version", "v2.6.4"])).code).toBe(0);
    expect((await fleet(["new-cluster", "c1", "--env", "prod", "--bootstrap", "terraform", "--dry-run", "--yes"], { cwd: repo })).code).toBe(0);
    const tools = standIns();
    expect((await fleet(["new-cluster", "c1", "--env", "prod", "--bootstrap", "terraform", "--yes"], { cwd: repo, env: { PATH: `${tools.bin}:${process.env.PATH}`, GITHUB_TOKEN: TOKEN } })).code).toBe(0);
    bootstrapStandIn(repo, "c1", "v2.6.4");
    const images = [
      "# image automation for payments",
      "apiVersion: image.toolkit.fluxcd.io/v1beta2 # pinned by hand",
      "kind: ImageRepository",
      "metadata:",
      "  name: payments-api",
      "  namespace: team-payments",
      "spec:",
      "  image: ghcr.io/acme/payments-api",
      "  interval: 5m",
      "---",
      'apiVersion: "image.toolkit.fluxcd.io/v1beta2"',
      "kind: ImagePolicy",
      "metadata: {name: payments-api, namespace: team-payments}",
      "spec:",
      "  imageRepositoryRef: {name: payments-api}",
      "  policy: {semver: {range: '>=1.4.0 <2.0.0'}}",
      "---",
      "apiVersion: source.toolkit.fluxcd.io/v1",
      "kind: GitRepository",
      "metadata: {name: other, namespace: team-payments}",
      "spec: {url: https://example.com/x, interval: 1m}",
      "",
    ].join("\n");
    write(repo, "tenants/base/team-payments/images.yaml", images);
    const before = snapshot(repo);
    const r = await fleet(["upgrade", "--flux-version", "v2.7.4", "--yes"], { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/note: cluster c1 runs Flux v2\.6\.4 .*run fleet bootstrap c1/);
    const after = snapshot(repo);
    const changed = Object.keys(after).filter((f) => after[f] !== before[f]).sort();
    expect(changed).toEqual(["fleet.yaml", "tenants/base/team-payments/images.yaml", "terraform/c1/main.tf", "terraform/c1/versions.tf"]);
    expect(after["tenants/base/team-payments/images.yaml"]).toBe(images.replace(/image\.toolkit\.fluxcd\.io\/v1beta2/g, "image.toolkit.fluxcd.io/v1"));
    expect(after["fleet.yaml"]).toBe(before["fleet.yaml"]!.replace("version: v2.6.4", "version: v2.7.4"));
    expect(after["terraform/c1/versions.tf"]).toBe(before["terraform/c1/versions.tf"]!.replace('version = "1.6.4"', 'version = "1.7.6"'));
    expect(after["terraform/c1/main.tf"]).toBe(before["terraform/c1/main.tf"]!.replaceAll("v2.6.4", "v2.7.4"));
    expect((await fleet(["upgrade", "--flux-version", "v2.7.4", "--yes"], { cwd: repo })).stdout).toMatch(/nothing to do/);
  });

  it("moves to a release newer than its facts, saying which facts it used, and refuses what is not a release", async () => {
    const repo = await initRepo();
    const before = snapshot(repo);
    const bad = await fleet(["upgrade", "--flux-version", "2.10", "--yes"], { cwd: repo });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--flux-version: must be a Flux release vX\.Y\.Z/);
    expect(snapshot(repo)).toEqual(before);
    const r = await fleet(["upgrade", "--flux-version", "v2.10.0", "--yes"], { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/note: Flux v2\.10\.0 is newer than fleet's facts .*treats it as 2\.9/);
    expect(snapshot(repo)["fleet.yaml"]).toBe(before["fleet.yaml"]!.replace(/version: v\d+\.\d+\.\d+/, "version: v2.10.0"));
  });
});

describe("API versions by pinned Flux minor", () => {
  it.each([
    ["v2.6.4", "v1beta2"],
    ["v2.7.4", "v1"],
    ["v2.8.5", "v1"],
    ["v2.9.4", "v1"],
  ])("Flux %s serves image.toolkit.fluxcd.io/%s and the stable kinds at v1/v2", async (pin, image) => {
    const api = apiVersions(pin);
    expect(api.ImagePolicy).toBe(`image.toolkit.fluxcd.io/${image}`);
    expect(api.ImageUpdateAutomation).toBe(`image.toolkit.fluxcd.io/${image}`);
    expect(api.Kustomization).toBe("kustomize.toolkit.fluxcd.io/v1");
    expect(api.GitRepository).toBe("source.toolkit.fluxcd.io/v1");
    expect(api.HelmRelease).toBe("helm.toolkit.fluxcd.io/v2");
    expect(api.Alert).toBe("notification.toolkit.fluxcd.io/v1beta3");
  });
});
