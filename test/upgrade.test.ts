/**
 * Moving Flux: a repo pinned at any release is read, written and upgraded; a downgrade needs
 * --allow-downgrade; each minor an upgrade crosses says what a platform team must act on and
 * which objects of the repo it affects; FluxInstances move with the pin; and the Renovate
 * pull request fleet configures moves the same pins `fleet upgrade` does.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_FLUX_VERSION, terraformProviderVersion } from "../src/flux/index.js";
import { fleet, initRepo, read, snapshot, tmpDir, write } from "./helpers.js";

const pinAt = (repo: string, pin: string) => write(repo, "fleet.yaml", read(repo, "fleet.yaml").replace(/\n {2}version: v\d+\.\d+\.\d+/, `\n  version: ${pin}`));

/** A demo repo with one cluster (not bootstrapped yet), pinned at `pin`. */
async function repoAt(pin: string): Promise<string> {
  const repo = await initRepo();
  expect((await fleet(["new-cluster", "prod-eu", "--env", "prod", "--yes"], { cwd: repo })).code).toBe(0);
  pinAt(repo, pin);
  return repo;
}

const NEWER = /is newer than fleet's facts/g;

describe("a repo pinned at any release", () => {
  it.each([
    // The default pin: moving below it is a downgrade.
    ["v2.9.5", "v2.9.4", 2, /--flux-version: v2\.9\.4 is older than the pin v2\.9\.5/],
    // Past fleet's facts: warned once, about the pin the upgrade leaves.
    ["v2.10.0", "v2.10.1", 0, /note: Flux v2\.10\.1 is newer than fleet's facts/],
    // Far below: every minor crossed says what to act on.
    ["v2.1.0", DEFAULT_FLUX_VERSION, 0, /note: Flux 2\.8 helm-server-side-apply: [^]*note: Flux 2\.9 strict-substitution: /],
  ])("at %s: list, new-tenant --dry-run and validate work, with one warning only past fleet's facts; upgrade to %s exits %d", async (pin, to, code, says) => {
    const repo = await repoAt(pin);
    const warned = pin === "v2.10.0" ? 1 : 0;
    const list = await fleet(["list"], { cwd: repo });
    expect([list.code, list.stderr]).toEqual([0, ""]);

    const before = snapshot(repo);
    const tenant = await fleet(["new-tenant", "team-x", "--url", "https://github.com/acme/team-x", "--dry-run", "--yes"], { cwd: repo });
    expect(tenant.stderr).toBe("");
    expect(tenant.code).toBe(0);
    expect(tenant.stdout.match(NEWER)?.length ?? 0).toBe(warned);
    expect(snapshot(repo)).toEqual(before);

    const validate = await fleet(["validate", "--json"], { cwd: repo });
    expect(validate.code, validate.stderr).toBe(0);
    const [c] = (JSON.parse(validate.stdout) as { clusters: Array<{ flux: string; notChecked: string[] }> }).clusters;
    expect(c!.flux).toBe(pin);
    expect(c!.notChecked.filter((n) => n.match(NEWER)).length).toBe(warned);

    const up = await fleet(["upgrade", "--flux-version", to, "--yes"], { cwd: repo });
    expect(up.code, up.stderr).toBe(code);
    expect(up.stdout + up.stderr).toMatch(says);
    expect((up.stdout + up.stderr).match(NEWER)?.length ?? 0).toBe(warned);
    expect(read(repo, "fleet.yaml")).toContain(`\n  version: ${code === 0 ? to : pin}\n`);
  });

  it("upgrading to a minor past fleet's facts says once what fleet cannot vouch for", async () => {
    const repo = await repoAt("v2.9.5");
    const r = await fleet(["upgrade", "--flux-version", "v2.10.0", "--dry-run", "--yes"], { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stdout.match(NEWER)?.length).toBe(1);
    expect(r.stdout).toMatch(/note: fleet lists none of Flux 2\.10's behaviour changes and pins the newest Terraform provider it knows \(1\.9\.5\): read Flux 2\.10's release notes/);
  });
});

describe("a downgrade", () => {
  it("is refused, naming both releases, with nothing written; --allow-downgrade moves the pin", async () => {
    const repo = await repoAt("v2.9.5");
    const before = snapshot(repo);
    const r = await fleet(["upgrade", "--flux-version", "v2.8.5", "--yes"], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--flux-version: v2\.8\.5 is older than the pin v2\.9\.5 \(fleet\.yaml\): a downgrade.*--allow-downgrade/);
    expect(snapshot(repo)).toEqual(before);
    const ok = await fleet(["upgrade", "--flux-version", "v2.8.5", "--allow-downgrade", "--yes"], { cwd: repo });
    expect([ok.code, ok.stderr]).toEqual([0, ""]);
    expect(read(repo, "fleet.yaml")).toContain("\n  version: v2.8.5\n");
  });

  it("of any pin is refused: a cluster's own pin above the new release counts", async () => {
    const repo = await repoAt("v2.8.5");
    write(repo, "fleet.yaml", read(repo, "fleet.yaml").replace("  componentsExtra:", "  clusters:\n    prod-eu:\n      version: v2.9.5\n  componentsExtra:"));
    const r = await fleet(["upgrade", "--flux-version", "v2.9.0", "--yes"], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/v2\.9\.0 is older than the pin v2\.9\.5 \(fleet\.yaml\)/);
  });

  it("to a release whose controllers do not take a flag fleet's lockdown sets is refused, even allowed", async () => {
    const repo = await repoAt("v2.9.5");
    const r = await fleet(["upgrade", "--flux-version", "v0.28.0", "--allow-downgrade", "--yes"], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Flux v0\.28\.0's kustomize-controller does not take --no-remote-bases \(from v0\.30\.0\), which fleet's lockdown sets \(clusters\/prod-eu\/flux-system\/kustomization\.yaml\)/);
    expect((await fleet(["upgrade", "--flux-version", "v0.30.0", "--allow-downgrade", "--dry-run", "--yes"], { cwd: repo })).code).toBe(0);
  });

  it("to a minor without source-watcher is refused while fleet.yaml installs it", async () => {
    const repo = await initRepo(["--components-extra", "source-watcher"]);
    const r = await fleet(["upgrade", "--flux-version", "v2.6.4", "--allow-downgrade", "--yes"], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Flux 2\.6 cannot install source-watcher \(fleet\.yaml flux\.componentsExtra\)/);
  });
});

describe("behaviour changes of each minor crossed", () => {
  const settings = [
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata: {name: settings, namespace: default}",
    "data: {region: '${REGION}', zone: '${ZONE:=a}', cluster: '${cluster_name}'}",
    "---",
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata:",
    "  name: raw",
    "  namespace: default",
    "  annotations: {kustomize.toolkit.fluxcd.io/substitute: disabled}",
    "data: {script: '${NOT_A_FLUX_VARIABLE}'}",
    "---",
    "apiVersion: helm.toolkit.fluxcd.io/v2",
    "kind: HelmRelease",
    "metadata: {name: ingress, namespace: default}",
    "spec:",
    "  interval: 10m",
    "  chart: {spec: {chart: ingress-nginx, sourceRef: {kind: HelmRepository, name: ingress}}}",
    "  install: {serverSideApply: false}",
    "  postRenderers: [{kustomize: {patches: []}}]",
    "---",
    "apiVersion: notification.toolkit.fluxcd.io/v1",
    "kind: Receiver",
    "metadata: {name: gcr, namespace: default}",
    "spec: {type: gcr, secretRef: {name: gcr-token}, resources: [{kind: ImageRepository, name: '*'}]}",
    "",
  ].join("\n");

  it("2.7 -> 2.9 names the Kustomization whose manifests use ${var} with no value or default, and what each other change affects", async () => {
    const repo = await repoAt("v2.7.4");
    write(repo, "infrastructure/base/settings.yaml", settings);
    write(repo, "infrastructure/base/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - settings.yaml\n");
    const before = snapshot(repo);
    const r = await fleet(["upgrade", "--flux-version", "v2.9.5", "--dry-run", "--json", "--yes"], { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(snapshot(repo)).toEqual(before);
    const up = (JSON.parse(r.stdout) as { upgrade: { from: string; to: string; minors: Array<{ minor: string; changes: Array<{ id: string; affected: unknown[] }> }> } }).upgrade;
    expect([up.from, up.to]).toEqual(["v2.7.4", "v2.9.5"]);
    const affected = Object.fromEntries(up.minors.flatMap((m) => m.changes.map((c) => [`${m.minor} ${c.id}`, c.affected])));
    const ingress = { object: "HelmRelease/default/ingress", file: "infrastructure/base/settings.yaml", clusters: ["prod-eu"] };
    expect(affected).toEqual({
      "2.8 helm-server-side-apply": [],
      "2.8 helm-kstatus-health": [ingress],
      "2.8 gcr-receiver-audience": [{ object: "Receiver/default/gcr", file: "infrastructure/base/settings.yaml", detail: "Secret gcr-token", clusters: ["prod-eu"] }],
      "2.9 strict-substitution": [
        {
          object: "Kustomization/flux-system/infrastructure",
          file: "clusters/prod-eu/infrastructure.yaml",
          detail: "${REGION} in ConfigMap/default/settings (infrastructure/base/settings.yaml)",
          clusters: ["prod-eu"],
        },
      ],
      "2.9 helm-post-render-combined": [ingress],
      "2.9 gcr-receiver-email-audience": [{ object: "Receiver/default/gcr", file: "infrastructure/base/settings.yaml", detail: "Secret gcr-token", clusters: ["prod-eu"] }],
    });

    const text = await fleet(["upgrade", "--flux-version", "v2.9.5", "--dry-run", "--yes"], { cwd: repo });
    expect(text.stdout).toContain(
      "note: Flux 2.9 strict-substitution: kustomize-controller substitutes strictly: a ${var} with no value and no default fails the Kustomization instead of becoming an empty string (fluxcd/kustomize-controller CHANGELOG.md, 1.9.0)\n  do: give the variable a value",
    );
    expect(text.stdout).toContain("  affects:\n    Kustomization/flux-system/infrastructure (clusters/prod-eu/infrastructure.yaml): ${REGION} in ConfigMap/default/settings (infrastructure/base/settings.yaml) [cluster prod-eu]\n");
  });

  it("a patch upgrade lists none, and builds nothing for them", async () => {
    const repo = await repoAt("v2.9.4");
    const r = await fleet(["upgrade", "--flux-version", "v2.9.5", "--dry-run", "--json", "--yes"], { cwd: repo });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).upgrade).toEqual({ from: "v2.9.4", to: "v2.9.5", minors: [], notChecked: [] });
  });
});

/** A FluxInstance as `fleet new-cluster --bootstrap operator` writes it. */
const fluxInstance = (version: string) =>
  [
    "apiVersion: fluxcd.controlplane.io/v1",
    "kind: FluxInstance",
    "metadata:",
    "  name: flux",
    "  namespace: flux-system",
    "spec:",
    "  distribution:",
    `    version: ${version}`,
    "    registry: ghcr.io/fluxcd",
    "  cluster:",
    "    multitenant: true",
    "    tenantDefaultServiceAccount: default",
    "  sync:",
    "    kind: GitRepository",
    "    url: https://github.com/acme/fleet-infra",
    "    ref: refs/heads/main",
    "    path: clusters/op-1",
    "",
  ].join("\n");

describe("FluxInstance clusters", () => {
  it("move with the pin, and an upgrade counts from the release a cluster runs when it is older than fleet.yaml's pin", async () => {
    const repo = await initRepo();
    write(repo, "clusters/op-1/flux-system/flux-instance.yaml", fluxInstance("v2.8.5"));
    const r = await fleet(["upgrade", "--flux-version", DEFAULT_FLUX_VERSION, "--dry-run", "--json", "--yes"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { changes: Array<{ path: string; change: string }>; upgrade: { from: string; minors: Array<{ minor: string; changes: Array<{ id: string }> }> } };
    expect(out.changes.filter((c) => c.change !== "unchanged")).toEqual([{ path: "clusters/op-1/flux-system/flux-instance.yaml", change: "updated" }]);
    expect(out.upgrade.from).toBe("v2.8.5");
    expect(out.upgrade.minors.find((m) => m.minor === "2.9")?.changes.map((c) => c.id)).toContain("strict-substitution");
  });
});

/** `flux` and `terraform` that do nothing: new-cluster --bootstrap terraform writes its HCL, then runs them. */
function quietTools(): string {
  const bin = tmpDir("fleet-bin-");
  for (const tool of ["flux", "terraform"]) {
    fs.writeFileSync(path.join(bin, tool), "#!/bin/sh\nexit 0\n");
    fs.chmodSync(path.join(bin, tool), 0o755);
  }
  return bin;
}

/**
 * What Renovate does on its branch, from the renovate.json fleet wrote: each regex manager's
 * currentValue replaced with the new release, and its terraform manager's provider bump.
 */
function renovate(repo: string, flux: string, provider: string): void {
  const config = JSON.parse(read(repo, "renovate.json")) as {
    customManagers: Array<{ managerFilePatterns: string[]; matchStrings: string[]; depNameTemplate: string }>;
  };
  const files = Object.keys(snapshot(repo));
  for (const m of config.customManagers) {
    if (m.depNameTemplate !== "fluxcd/flux2") continue;
    const patterns = m.managerFilePatterns.map((p) => new RegExp(p.slice(1, -1)));
    for (const file of files.filter((f) => patterns.some((p) => p.test(f)))) {
      let text = read(repo, file);
      for (const s of m.matchStrings) {
        const edits = [...text.matchAll(new RegExp(s, "gd"))].map((hit) => hit.indices!.groups!.currentValue!);
        for (const [start, end] of edits.reverse()) text = text.slice(0, start) + flux + text.slice(end);
      }
      write(repo, file, text);
    }
  }
  for (const file of files.filter((f) => /^terraform\/[^/]+\/versions\.tf$/.test(f)))
    write(repo, file, read(repo, file).replace(/(source\s*=\s*"fluxcd\/flux"\s*\n\s*version\s*=\s*")[^"]*/, `$1${provider}`));
}

describe("the Renovate pull request and fleet upgrade", () => {
  it("move the same pins: fleet upgrade on Renovate's branch gives the tree fleet upgrade alone gives", async () => {
    const repo = await initRepo();
    pinAt(repo, "v2.8.5");
    const made = await fleet(["new-cluster", "c1", "--env", "prod", "--bootstrap", "terraform", "--yes"], { cwd: repo, env: { PATH: `${quietTools()}:${process.env.PATH}`, GITHUB_TOKEN: "t" } });
    expect(made.code, made.stderr).toBe(0);
    expect(read(repo, "terraform/c1/versions.tf")).toContain('version = "1.8.5"');
    write(repo, "clusters/op-1/flux-system/flux-instance.yaml", fluxInstance("v2.8.5"));

    const config = JSON.parse(read(repo, "renovate.json")) as { packageRules: Array<{ groupName?: string; matchDepNames?: string[]; matchPackageNames?: string[] }> };
    const grouped = config.packageRules.filter((r) => r.groupName === "flux").flatMap((r) => [...(r.matchDepNames ?? []), ...(r.matchPackageNames ?? [])]);
    expect(grouped).toEqual(expect.arrayContaining(["fluxcd/flux2", "fluxcd/flux", "ghcr.io/controlplaneio-fluxcd/charts/flux-operator"]));

    const alone = path.join(tmpDir(), "fleet-infra");
    fs.cpSync(repo, alone, { recursive: true });
    const upAlone = await fleet(["upgrade", "--flux-version", DEFAULT_FLUX_VERSION, "--yes"], { cwd: alone });
    expect([upAlone.code, upAlone.stderr]).toEqual([0, ""]);
    expect(read(alone, "clusters/op-1/flux-system/flux-instance.yaml")).toBe(fluxInstance(DEFAULT_FLUX_VERSION));

    const before = snapshot(repo);
    renovate(repo, DEFAULT_FLUX_VERSION, terraformProviderVersion(DEFAULT_FLUX_VERSION));
    const renovated = snapshot(repo);
    const byRenovate = Object.keys(renovated).filter((f) => renovated[f] !== before[f]).sort();
    expect(byRenovate).toEqual(["clusters/op-1/flux-system/flux-instance.yaml", "fleet.yaml", "terraform/c1/main.tf", "terraform/c1/versions.tf"]);
    const up = await fleet(["upgrade", "--flux-version", DEFAULT_FLUX_VERSION, "--yes"], { cwd: repo });
    expect([up.code, up.stderr]).toEqual([0, ""]);
    expect(snapshot(repo)).toEqual(snapshot(alone));
  });
});
