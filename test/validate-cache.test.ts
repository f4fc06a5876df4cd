/**
 * validate on a per-tenant repo (one Flux Kustomization per tenant): tenant units are built
 * together, a broken tenant fails only its own unit, and builds are cached by content between
 * runs, so a second run builds nothing and a change to one tenant rebuilds that tenant only.
 * kubectl is counted by a recording stand-in first on PATH that runs the real one.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Builder, type Built, type BuildRequest } from "../src/validate/build.js";
import { BuildCache } from "../src/validate/cache.js";
import { bootstrapStandIn, fleet, initRepo, read, tmpDir, write } from "./helpers.js";

const TENANTS = ["t1", "t2", "t3", "t4"];

const fluxKs = (name: string, p: string, extra = "") =>
  `apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: ${name}\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ${p}\n  prune: true\n  serviceAccountName: kustomize-controller\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n${extra}`;

/** One cluster; tenants/staging lists a Flux Kustomization per tenant, each building tenants/staging/<t>/ (design section 2). */
function unitsRepo(): string {
  const repo = path.join(tmpDir(), "repo");
  bootstrapStandIn(repo, "c1");
  write(repo, "clusters/c1/flux-system/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - gotk-components.yaml\n  - gotk-sync.yaml\n");
  write(repo, "clusters/c1/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - flux-system\n  - tenants.yaml\n");
  write(repo, "clusters/c1/tenants.yaml", fluxKs("tenants", "./tenants/staging"));
  write(repo, "tenants/staging/kustomization.yaml", `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n${TENANTS.map((t) => `  - ${t}.yaml\n`).join("")}`);
  for (const t of TENANTS) {
    write(repo, `tenants/staging/${t}.yaml`, fluxKs(`tenant-${t}`, `./tenants/staging/${t}`));
    write(repo, `tenants/staging/${t}/kustomization.yaml`, "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base/" + t + "\n  - quota.yaml\npatches:\n  - path: patch.yaml\n");
    write(repo, `tenants/staging/${t}/quota.yaml`, `apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: ${t}\n  namespace: ${t}\nspec:\n  hard:\n    pods: "10"\n`);
    write(repo, `tenants/staging/${t}/patch.yaml`, `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: reconciler\n  namespace: ${t}\n  labels:\n    env: staging\n`);
    write(repo, `tenants/base/${t}/kustomization.yaml`, "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - namespace.yaml\n  - rbac.yaml\n");
    write(repo, `tenants/base/${t}/namespace.yaml`, `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${t}\n`);
    write(
      repo,
      `tenants/base/${t}/rbac.yaml`,
      `apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: reconciler\n  namespace: ${t}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: reconciler\n  namespace: ${t}\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: admin\nsubjects:\n  - kind: ServiceAccount\n    name: reconciler\n    namespace: ${t}\n`,
    );
  }
  return repo;
}

interface Report {
  clusters: Array<{ objects: number; findings: Array<{ id: string; object: string; file: string; message: string }>; isolation: Array<{ identity: string }> }>;
}

let log: string;
let saved: { PATH?: string; XDG_CACHE_HOME?: string };

beforeEach(() => {
  saved = { PATH: process.env.PATH, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME };
  const bin = tmpDir("fleet-rec-kubectl-");
  log = path.join(bin, "calls.log");
  fs.writeFileSync(log, "");
  // validate runs kubectl with PATH alone in its environment: the log's place is written in.
  fs.writeFileSync(path.join(bin, "kubectl"), `#!/bin/sh\necho "$*" >> '${log}'\nPATH='${process.env.PATH}' kubectl "$@"\nrc=$?\necho "exit $rc" >> '${log}'\nexit $rc\n`, { mode: 0o755 });
  process.env.PATH = `${bin}${path.delimiter}${process.env.PATH}`;
  process.env.XDG_CACHE_HOME = tmpDir("fleet-cache-");
});

afterEach(() => {
  for (const [k, v] of Object.entries(saved))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
});

let failedBuilds = 0;
/** The kubectl kustomize processes run since the last call (and how many of them failed, in failedBuilds). */
function builds(): number {
  const lines = fs.readFileSync(log, "utf8").split("\n");
  fs.writeFileSync(log, "");
  failedBuilds = lines.filter((l, i) => lines[i - 1]?.startsWith("kustomize ") && l.startsWith("exit ") && l !== "exit 0").length;
  return lines.filter((l) => l.startsWith("kustomize ")).length;
}

async function validate(repo: string, ...args: string[]): Promise<Report> {
  const r = await fleet(["validate", "--json", ...args], { cwd: repo });
  return JSON.parse(r.stdout) as Report;
}

const findings = (r: Report, id: string) => r.clusters.flatMap((c) => c.findings.filter((f) => f.id === id));
const cacheFiles = () => (fs.readdirSync(process.env.XDG_CACHE_HOME!, { recursive: true }) as string[]).filter((f) => f.endsWith(".json"));

describe("validate on per-tenant units", () => {
  it("a broken tenant file fails that tenant's unit only, its neighbours in the same kubectl are built", async () => {
    const healthy = await validate(unitsRepo(), "--no-cache");
    expect(findings(healthy, "build-failed")).toEqual([]);
    const repo = unitsRepo();
    write(repo, "tenants/staging/t2/quota.yaml", "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: t2\n  namespace: t2\nspec: [\n");
    builds();
    const report = await validate(repo, "--no-cache");
    const failed = findings(report, "build-failed");
    expect(failed.map((f) => f.object)).toEqual(["Kustomization/flux-system/tenant-t2"]);
    expect(failed[0]!.message).toMatch(/tenants\/staging\/t2/);
    // Every other tenant's objects are there: only t2's namespace, account, binding and quota are missing.
    expect(report.clusters[0]!.objects).toBe(healthy.clusters[0]!.objects - 4);
  });

  it("a second run builds nothing, and a change to one tenant rebuilds that tenant's unit only", async () => {
    const repo = unitsRepo();
    const cold = await validate(repo);
    const coldBuilds = builds();
    expect(coldBuilds).toBeGreaterThan(0);
    expect(findings(cold, "build-failed")).toEqual([]);

    // Content, not time: files touched without a change are still cached.
    for (const f of fs.readdirSync(repo, { recursive: true }) as string[]) fs.utimesSync(path.join(repo, f), new Date(), new Date());
    const warm = await validate(repo);
    expect(builds()).toBe(0);
    expect(warm).toEqual(cold);

    const rbac = fs.readFileSync(path.join(repo, "tenants/base/t3/rbac.yaml"), "utf8");
    write(repo, "tenants/base/t3/rbac.yaml", `${rbac}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: t3\n`);
    const changed = await validate(repo);
    expect(builds()).toBe(1);
    expect(changed.clusters[0]!.objects).toBe(cold.clusters[0]!.objects + 1);
  });

  it("a file edited back to its old size and mtime is still seen as changed", async () => {
    const repo = unitsRepo();
    // Old enough that the cache trusts what stat says of them (a file written just now may not be).
    const past = new Date(Date.now() - 3600_000);
    for (const f of fs.readdirSync(repo, { recursive: true }) as string[]) fs.utimesSync(path.join(repo, f), past, past);
    await validate(repo);
    builds();
    await validate(repo);
    expect(builds()).toBe(0);

    const quota = path.join(repo, "tenants/staging/t2/quota.yaml");
    const before = fs.statSync(quota);
    fs.writeFileSync(quota, fs.readFileSync(quota, "utf8").replace('pods: "10"', 'pods: "20"'));
    fs.utimesSync(quota, before.atime, before.mtime);
    expect(fs.statSync(quota).size).toBe(before.size);
    expect(fs.statSync(quota).mtimeMs).toBe(before.mtimeMs);
    await validate(repo);
    expect(builds()).toBe(1);
  });

  it("--no-cache builds everything and writes nothing; a corrupt entry is built again", async () => {
    const repo = unitsRepo();
    const cold = await validate(repo, "--no-cache");
    const coldBuilds = builds();
    expect(cacheFiles()).toEqual([]);
    await validate(repo);
    expect(builds()).toBe(coldBuilds);
    expect(cacheFiles().length).toBeGreaterThan(0);
    expect(await validate(repo, "--no-cache")).toEqual(cold);
    expect(builds()).toBe(coldBuilds);

    for (const f of cacheFiles()) fs.writeFileSync(path.join(process.env.XDG_CACHE_HOME!, f), '{"format":');
    expect(await validate(repo)).toEqual(cold);
    expect(builds()).toBe(coldBuilds);
  });
});

describe("what a run read, known again by its stat", () => {
  // The cache keeps a reading only when its paths were last changed 3 s before the run began
  // (cache.ts: nothing the run read changed under it): these repos are made first, then aged.
  const fixtures: { apps?: string; fleetRepo?: string; units?: string; linked?: string } = {};
  const configMap = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: default\n`;
  beforeAll(async () => {
    const apps = unitsRepo();
    write(apps, "clusters/c1/apps.yaml", fluxKs("apps", "./apps"));
    write(apps, "clusters/c1/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - flux-system\n  - tenants.yaml\n  - apps.yaml\n");
    write(apps, "apps/one.yaml", configMap("one"));
    const fleetRepo = await initRepo();
    for (const [c, env] of [["prod-eu", "prod"], ["staging-eu", "staging"]]) {
      expect((await fleet(["new-cluster", c!, "--env", env!, "--yes"], { cwd: fleetRepo })).code).toBe(0);
      bootstrapStandIn(fleetRepo, c!);
    }
    // A tenant whose base is a link to a directory that is not there yet (moved away, say).
    const linked = await initRepo();
    expect((await fleet(["new-cluster", "prod-eu", "--env", "prod", "--yes", "--no-verify"], { cwd: linked })).code).toBe(0);
    bootstrapStandIn(linked, "prod-eu");
    expect((await fleet(["new-tenant", "team-z", "--url", "https://github.com/acme/team-z", "--yes", "--no-verify"], { cwd: linked })).code).toBe(0);
    write(linked, "tenants/prod/team-z/extra.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: sneaky\n  namespace: team-payments\n");
    write(linked, "tenants/prod/team-z/kustomization.yaml", `${read(linked, "tenants/prod/team-z/kustomization.yaml").replace("  - quota.yaml\n", "  - quota.yaml\n  - extra.yaml\n")}`);
    fs.mkdirSync(path.join(linked, "shared"));
    fs.renameSync(path.join(linked, "tenants/base/team-z"), path.join(linked, "shared/team-z-away"));
    fs.symlinkSync("../../shared/team-z", path.join(linked, "tenants/base/team-z"));
    Object.assign(fixtures, { apps, fleetRepo, units: unitsRepo(), linked });
    await new Promise((resolve) => setTimeout(resolve, 3200));
  });

  it("a manifest added to a directory Flux builds without a kustomization.yaml is built", async () => {
    const repo = fixtures.apps!;
    const before = await validate(repo);
    await validate(repo);
    builds();
    // No file the build read changes: only the directory's listing says there is more to build.
    write(repo, "apps/two.yaml", configMap("two"));
    const after = await validate(repo);
    expect(builds()).toBe(1);
    expect(after.clusters[0]!.objects).toBe(before.clusters[0]!.objects + 1);
  });

  it("an edit to a file two environments share is seen by both, and by the tenants the repo model reads", async () => {
    const repo = fixtures.fleetRepo!;
    await validate(repo);
    await validate(repo);
    // team-payments moves to namespace payments: its base edited in place (what both clusters'
    // units and the repo model read), its prod unit by rename, as sed -i and editors save.
    for (const env of ["base", "prod", "staging"]) {
      const dir = path.join(repo, "tenants", env, "team-payments");
      for (const f of fs.readdirSync(dir)) {
        const text = fs.readFileSync(path.join(dir, f), "utf8").replace(/(namespace|name|targetNamespace): team-payments$/gm, "$1: payments");
        if (env === "prod") {
          fs.writeFileSync(path.join(dir, `.${f}.tmp`), text);
          fs.renameSync(path.join(dir, `.${f}.tmp`), path.join(dir, f));
        } else fs.writeFileSync(path.join(dir, f), text);
      }
      // Their mtimes set back an hour, as tar, rsync -a or cp -p would: only ctime says they changed.
      const past = new Date(Date.now() - 3600_000);
      for (const f of [".", ...fs.readdirSync(dir)]) fs.utimesSync(path.join(dir, f), past, past);
    }
    const cached = await validate(repo);
    expect(cached).toEqual(await validate(repo, "--no-cache"));
    expect(findings(cached, "tenant-file-platform-authority")).toEqual([]);
  });

  it("a tenant whose base is a link is read again when the link's target appears", async () => {
    const repo = fixtures.linked!;
    await validate(repo);
    fs.renameSync(path.join(repo, "shared/team-z-away"), path.join(repo, "shared/team-z"));
    const past = new Date(Date.now() - 3600_000);
    fs.utimesSync(path.join(repo, "shared"), past, past);
    expect(await validate(repo)).toEqual(await validate(repo, "--no-cache"));
  });

  it("another kubectl builds again: what was kept holds for the kubectl it was kept with", async () => {
    const repo = fixtures.units!;
    await validate(repo);
    const cold = builds();
    await validate(repo);
    expect(builds()).toBe(0);
    // The same kubectl, saying it is another version: what kustomize does may differ.
    const bin = tmpDir("fleet-other-kubectl-");
    fs.writeFileSync(path.join(bin, "kubectl"), `#!/bin/sh\nif [ "$1" = version ]; then echo "Client Version: v9.99.0"; exit 0; fi\nPATH='${process.env.PATH}' exec kubectl "$@"\n`, { mode: 0o755 });
    process.env.PATH = `${bin}${path.delimiter}${process.env.PATH}`;
    await validate(repo);
    expect(builds()).toBe(cold);
  });
});

describe("the cache's place", () => {
  it("is never inside the repository, even where XDG_CACHE_HOME points there", async () => {
    const repo = unitsRepo();
    process.env.XDG_CACHE_HOME = path.join(repo, ".cache");
    const first = await validate(repo);
    expect(await validate(repo)).toEqual(first);
    expect(fs.existsSync(path.join(repo, ".cache"))).toBe(false);
  });
});

describe("the cache's bound", () => {
  it("past its size, the least recently used entries go, and reading an entry counts as using it", async () => {
    const repo = tmpDir();
    const dir = tmpDir("fleet-cache-");
    const entry = (name: string): Built[] => [{ obj: { apiVersion: "v1", kind: "ConfigMap", metadata: { name }, data: { pad: "x".repeat(1000) } }, file: "cm.yaml" }];
    const entries = () => (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith(".json")).map((f) => path.join(dir, f));
    const first = (await BuildCache.open(repo, { dir, timeoutMs: 60_000 }))!;
    const [a, b, c] = ["a", "b", "c"].map((k) => first.key(repo, k, [])!);
    first.put(a!, entry("a"));
    const [fileA] = entries();
    first.put(b!, entry("b"));
    // a last used three hours ago, b two; room for two entries and a half.
    const ago = (h: number) => new Date(Date.now() - h * 3600_000);
    for (const f of entries()) fs.utimesSync(f, ago(2), ago(2));
    fs.utimesSync(fileA!, ago(3), ago(3));
    const size = fs.statSync(fileA!).size;
    const cache = (await BuildCache.open(repo, { dir, maxBytes: Math.floor(size * 2.8), timeoutMs: 60_000 }))!;
    // a is read, and so used now: b is the least recently used when c comes.
    expect(cache.get(a!)).toEqual(entry("a"));
    cache.put(c!, entry("c"));
    expect(cache.get(b!)).toBeUndefined();
    expect(cache.get(a!)).toEqual(entry("a"));
    expect(cache.get(c!)).toEqual(entry("c"));
  });
});

describe("batched builds", () => {
  /** Units whose builds kustomize could get wrong in company: generated names, pod templates, empty annotations, Flux's changes, whole-build fields. */
  function units(): { repo: string; reqs: BuildRequest[] } {
    const repo = path.join(tmpDir(), "repo");
    const cm = (name: string, extra = "") => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${extra}data:\n  a: "1"\n`;
    write(repo, "u/gen/kustomization.yaml", "resources:\n  - cm.yaml\n  - deploy.yaml\nconfigMapGenerator:\n  - name: settings\n    literals: [a=b]\n");
    write(repo, "u/gen/cm.yaml", cm("plain", "  annotations: {}\n  labels: {}\n"));
    write(
      repo,
      "u/gen/deploy.yaml",
      "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  annotations:\n    keep: me\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: nginx\n          envFrom:\n            - configMapRef:\n                name: settings\n",
    );
    write(repo, "u/plain/kustomization.yaml", "resources:\n  - cm.yaml\n");
    write(repo, "u/plain/cm.yaml", cm("plain"));
    write(repo, "u/nokust/cm.yaml", cm("generated-kustomization"));
    write(repo, "u/dup/kustomization.yaml", "resources:\n  - cm.yaml\n");
    write(repo, "u/dup/cm.yaml", cm("plain"));
    write(repo, "u/comp/kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - extra.yaml\n");
    write(repo, "u/comp/extra.yaml", cm("from-component"));
    write(repo, "u/sorted/kustomization.yaml", "resources:\n  - cm.yaml\n  - ns.yaml\nsortOptions:\n  order: fifo\n");
    write(repo, "u/sorted/cm.yaml", cm("first", "  namespace: zz\n"));
    write(repo, "u/sorted/ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: zz\n");
    const reqs: BuildRequest[] = [
      { root: repo, path: "u/gen" },
      { root: repo, path: "u/gen", targetNamespace: "team-a", patches: [{ patch: "- op: add\n  path: /metadata/labels\n  value: {patched: yes}", target: { kind: "ConfigMap" } }] },
      { root: repo, path: "u/dup" },
      { root: repo, path: "u/plain", targetNamespace: "team-b" },
      { root: repo, path: "u/plain", components: ["../comp"] },
      { root: repo, path: "u/nokust" },
      { root: repo, path: "u/sorted" },
    ];
    return { repo, reqs };
  }

  it("builds each unit exactly as it builds alone, in fewer kubectl processes than units", async () => {
    const { reqs } = units();
    const together = new Builder({ cache: false });
    const batched = await Promise.all(reqs.map((r) => together.build(r)));
    expect(builds()).toBeLessThan(reqs.length);
    // Units declaring the same object (u/gen and u/dup) were not put in one kubectl to fail there.
    expect(failedBuilds).toBe(0);
    const alone: Built[][] = [];
    for (const r of reqs) alone.push(await new Builder({ cache: false }).build(r));
    expect(builds()).toBe(reqs.length);
    expect(batched).toEqual(alone);
    // What kustomize does to a whole build stayed with the build that asked for it.
    expect(batched[6]!.map((b) => b.obj.kind)).toEqual(["ConfigMap", "Namespace"]);
  });
});
