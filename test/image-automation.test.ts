/** fleet add-image-automation: reviewable image updates, in the tenant's namespace and files. */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { buildAll, fleet, initRepo, kustomize, read, snapshot, tmpDir, write, INIT_ARGS } from "./helpers.js";

const add = (...args: string[]) => ["add-image-automation", ...args, "--yes"];
const payments = ["--tenant", "team-payments", "--image", "ghcr.io/acme/payments-api", "--semver", ">=1.4.0 <2.0.0"];

describe("image automation for a tenant", () => {
  it("writes the three objects in the tenant's namespace, reading its own source, pushing to a review branch", async () => {
    const repo = await initRepo();
    const r = await fleet(add(...payments), { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    for (const env of ["staging", "prod"]) {
      const objs = (await buildAll(repo)).get(`tenants/${env}/team-payments`)!.filter((o) => o.kind.startsWith("Image"));
      expect(objs.map((o) => o.kind).sort()).toEqual(["ImagePolicy", "ImageRepository", "ImageUpdateAutomation"]);
      for (const o of objs) {
        expect(o.apiVersion).toBe("image.toolkit.fluxcd.io/v1");
        expect(o.metadata).toMatchObject({ name: "payments-api", namespace: "team-payments", labels: { "toolkit.fluxcd.io/tenant": "team-payments" } });
      }
      const policy = objs.find((o) => o.kind === "ImagePolicy")!;
      expect(policy.spec).toEqual({ imageRepositoryRef: { name: "payments-api" }, policy: { semver: { range: ">=1.4.0 <2.0.0" } } });
      const auto = objs.find((o) => o.kind === "ImageUpdateAutomation")!;
      expect(auto.spec!.sourceRef).toEqual({ kind: "GitRepository", name: "team-payments" });
      expect(auto.spec!.git.checkout.ref.branch).toBe("main");
      expect(auto.spec!.git.push.branch).toBe("flux-image-updates");
      expect(auto.spec!.git.commit.messageTemplate).toContain("{{ range .Changed.Changes -}}");
      expect(auto.spec!.update).toEqual({ path: "./deploy", strategy: "Setters" });
    }
    // The tenant's manifests live in its own repository: fleet says exactly what to add there.
    expect(r.stdout).toContain(`image: ghcr.io/acme/payments-api:<tag> # {"$imagepolicy": "team-payments:payments-api"}`);
  });

  it("a second identical run changes nothing", async () => {
    const repo = await initRepo();
    expect((await fleet(add(...payments), { cwd: repo })).code).toBe(0);
    const once = snapshot(repo);
    expect((await fleet(add(...payments), { cwd: repo })).stdout).toMatch(/nothing to do/);
    expect(snapshot(repo)).toEqual(once);
  });

  it("writes image API versions from the pin: v1beta2 under Flux 2.6, v1 under 2.7", async () => {
    const repo = path.join(tmpDir(), "fleet-infra");
    expect((await fleet(["init", repo, "--yes", ...INIT_ARGS, "--flux-version", "v2.6.4"])).code).toBe(0);
    expect((await fleet(add(...payments), { cwd: repo })).code).toBe(0);
    const kinds = (await kustomize(path.join(repo, "tenants/prod/team-payments"))).filter((o) => o.kind.startsWith("Image"));
    expect(new Set(kinds.map((o) => o.apiVersion))).toEqual(new Set(["image.toolkit.fluxcd.io/v1beta2"]));
  });

  it("adds the image controllers to componentsExtra when missing, and says each cluster must be bootstrapped again", async () => {
    const repo = path.join(tmpDir(), "fleet-infra");
    expect((await fleet(["init", repo, "--yes", ...INIT_ARGS, "--components-extra", "source-watcher"])).code).toBe(0);
    expect((await fleet(["new-cluster", "prod-eu", "--env", "prod", "--yes"], { cwd: repo })).code).toBe(0);
    const before = read(repo, "fleet.yaml");
    const r = await fleet(add(...payments), { cwd: repo });
    expect(r.code).toBe(0);
    expect(read(repo, "fleet.yaml")).toBe(
      before.replace("    - source-watcher\n", "    - source-watcher\n    - image-reflector-controller\n    - image-automation-controller\n"),
    );
    expect(r.stdout).toMatch(/bootstrap each cluster again.*fleet bootstrap prod-eu/);
  });

  it.each([
    [["--semver", "latest"], /--semver: 'latest' is not a semver range/],
    [["--semver", ">=3.0.0 <2.0.0"], /matches no version/],
    [["--semver", ">=1.0.0"], /--semver: '>=1\.0\.0' crosses a major version.*--allow-major/],
    [["--semver", "^1.0 || ^2.0"], /crosses a major version/],
    [["--image", "ghcr.io/acme/api:1.2.3"], /--image: must be an image repository .* without a tag/],
    [["--tenant", "nobody"], /--tenant: must be one of/],
    [["--push-branch", "a b"], /--push-branch/],
  ])("refuses %j with exit 2 and writes nothing", async (override, message) => {
    const repo = await initRepo();
    const args = [...payments];
    for (let i = 0; i < override.length; i += 2) {
      const at = args.indexOf(override[i]!);
      if (at === -1) args.push(override[i]!, override[i + 1]!);
      else args[at + 1] = override[i + 1]!;
    }
    const before = snapshot(repo);
    const r = await fleet(add(...args), { cwd: repo });
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(snapshot(repo)).toEqual(before);
  });

  it("--allow-major permits a range that crosses a major, with a warning", async () => {
    const repo = await initRepo();
    const r = await fleet(add("--tenant", "team-payments", "--image", "ghcr.io/acme/payments-api", "--semver", ">=1.0.0", "--allow-major"), { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/WARNING: the range >=1\.0\.0 crosses a major version/);
  });

  it("pushing to the branch Flux deploys is allowed when named, and warned about", async () => {
    const repo = await initRepo();
    const r = await fleet(add(...payments, "--push-branch", "main"), { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/WARNING: the automation pushes straight to main/);
  });
});

describe("image automation for the platform", () => {
  const deployment = [
    "# payments gateway, owned by the platform",
    "apiVersion: apps/v1",
    "kind: Deployment",
    "metadata:",
    "  name: gateway # keep this comment",
    "  namespace: ingress",
    "spec:",
    "  template:",
    "    spec:",
    "      containers:",
    "        - name: gateway",
    "          image: ghcr.io/acme/gateway:1.4.2",
    "        - name: sidecar",
    "          image: ghcr.io/acme/gateway-sidecar:0.3.0",
    "        - name: pinned",
    "          image: ghcr.io/acme/gateway:1.4.2 # pinned on purpose",
    "",
  ].join("\n");
  const values = ["gateway:", "  image:", "    repository: ghcr.io/acme/gateway", "    tag: 1.4.2", "  replicas: 2", ""].join("\n");

  it("marks the lines that use the image with setter markers, keeping every other byte", async () => {
    const repo = await initRepo();
    write(repo, "infrastructure/base/gateway/deployment.yaml", deployment);
    write(repo, "infrastructure/base/gateway/values.yaml", values);
    const r = await fleet(add("--platform", "--image", "ghcr.io/acme/gateway", "--semver", "^1.4"), { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const m = '# {"$imagepolicy": "flux-system:gateway"}';
    expect(read(repo, "infrastructure/base/gateway/deployment.yaml")).toBe(
      deployment.replace("          image: ghcr.io/acme/gateway:1.4.2\n", `          image: ghcr.io/acme/gateway:1.4.2 ${m}\n`),
    );
    expect(read(repo, "infrastructure/base/gateway/values.yaml")).toBe(
      values
        .replace("repository: ghcr.io/acme/gateway\n", 'repository: ghcr.io/acme/gateway # {"$imagepolicy": "flux-system:gateway:name"}\n')
        .replace("tag: 1.4.2\n", 'tag: 1.4.2 # {"$imagepolicy": "flux-system:gateway:tag"}\n'),
    );
    const objs = await kustomize(path.join(repo, "infrastructure/base"));
    const auto = objs.find((o) => o.kind === "ImageUpdateAutomation")!;
    expect(auto.metadata.namespace).toBe("flux-system");
    expect(auto.spec!.sourceRef).toEqual({ kind: "GitRepository", name: "flux-system" });
    expect(auto.spec!.update.path).toBe("./infrastructure");
    const once = snapshot(repo);
    expect((await fleet(add("--platform", "--image", "ghcr.io/acme/gateway", "--semver", "^1.4"), { cwd: repo })).stdout).toMatch(/nothing to do/);
    expect(snapshot(repo)).toEqual(once);
  });

  it("says exactly what to add when no line uses the image", async () => {
    const repo = await initRepo();
    const r = await fleet(add("--platform", "--image", "ghcr.io/acme/nowhere", "--semver", "~1.2"), { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no line under ./infrastructure uses ghcr.io/acme/nowhere; add the marker at the end of the line that sets it:\n    image: ghcr.io/acme/nowhere:<tag> # {"$imagepolicy": "flux-system:nowhere"}');
  });
});
