/**
 * What a repo fleet writes ships besides the tenants: the CI that validates every pull request
 * one cluster a job, a default-deny NetworkPolicy and Pod Security labels in every tenant
 * namespace, and an admission policy whose CEL compiles and whose prefixes validate checks.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Environment } from "@marcbachmann/cel-js";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ADMISSION, NETWORK_POLICY_FILE, NETWORK_POLICY_NAME } from "../src/core/tenant-policies.js";
import { fleet, initRepo, kustomize, read, run, snapshot, tmpDir, write, type K8sObject } from "./helpers.js";

const yamlOf = (repo: string, file: string) => parse(read(repo, file)) as Record<string, any>;

/** A cluster named the way a nested repo names one, so the jobs' handling of '/' is exercised. */
async function withCluster(repo: string, name = "staging-eu"): Promise<void> {
  expect((await fleet(["new-cluster", name, "--env", "staging", "--bootstrap", "none", "--yes"], { cwd: repo })).code).toBe(0);
}

describe("the CI workflow fleet init writes", () => {
  it("github: lists the clusters, validates one a job with the cache kept, every action pinned", async () => {
    const repo = await initRepo();
    await withCluster(repo);
    const wf = yamlOf(repo, ".github/workflows/fleet-validate.yaml");
    expect(Object.keys(wf.on)).toContain("pull_request");
    const { clusters, validate } = wf.jobs;
    expect(validate.needs).toBe("clusters");
    expect(validate.strategy.matrix.cluster).toBe("${{ fromJSON(needs.clusters.outputs.clusters) }}");
    expect(validate.strategy["fail-fast"]).toBe(false);
    expect(clusters.outputs.clusters).toBe("${{ steps.list.outputs.clusters }}");
    // The list step, run on the repo's real `fleet list --json`: a JSON array of every cluster.
    const list = clusters.steps.find((s: any) => s.id === "list").run as string;
    const filter = /jq -c '([^']+)'/.exec(list)![1]!;
    const listed = await fleet(["list", "--json"], { cwd: repo });
    const jq = await run("jq", ["-c", filter], { input: listed.stdout });
    expect(JSON.parse(jq.stdout)).toEqual(["staging-eu"]);
    const steps = validate.steps as Array<Record<string, any>>;
    const runStep = steps.find((s) => String(s.run ?? "").includes("fleet validate"))!;
    expect(runStep.run).toContain('fleet validate --cluster "$CLUSTER" --format markdown');
    expect(runStep.run).toContain("$GITHUB_STEP_SUMMARY");
    expect(validate.env.CLUSTER).toBe("${{ matrix.cluster }}");
    // The cache: restored before, saved after even when validate fails, under one key.
    const restore = steps.find((s) => String(s.uses).startsWith("actions/cache/restore@"))!;
    const save = steps.find((s) => String(s.uses).startsWith("actions/cache/save@"))!;
    expect(steps.indexOf(restore)).toBeLessThan(steps.indexOf(runStep));
    expect(steps.indexOf(save)).toBeGreaterThan(steps.indexOf(runStep));
    expect(save.if).toBe("always()");
    expect(restore.with.path).toBe("~/.cache/fleet/validate");
    expect(save.with.key).toBe(restore.with.key);
    expect(restore.with["restore-keys"]).toBe("fleet-validate-${{ matrix.cluster }}-");
    // Every action, the repo's own setup-fleet's included, pinned to a release.
    const action = yamlOf(repo, ".github/actions/setup-fleet/action.yaml");
    const uses = [...Object.values(wf.jobs).flatMap((j: any) => j.steps), ...action.runs.steps].map((s: any) => s.uses).filter(Boolean);
    expect(uses.length).toBeGreaterThan(5);
    for (const u of uses) expect(u, u).toMatch(/^(\.\/\.github\/actions\/setup-fleet|[\w-]+\/[\w/-]+@v\d+\.\d+\.\d+)$/);
    expect(wf.env.FLEET_VERSION).toBe(JSON.parse(fs.readFileSync("package.json", "utf8")).version);
  });

  it("gitlab: the first job writes a child pipeline with one job per cluster, each with a cache key GitLab takes", async () => {
    const repo = await initRepo(["--provider", "gitlab"]);
    await withCluster(repo);
    await withCluster(repo, "prod-eu");
    expect(fs.existsSync(path.join(repo, ".github/workflows"))).toBe(false);
    const ci = yamlOf(repo, ".gitlab-ci.yml");
    const templates = yamlOf(repo, ".gitlab/fleet-validate.yml");
    expect(ci.include).toEqual([{ local: ".gitlab/fleet-validate.yml" }]);
    expect(ci["fleet-validate"].trigger.include).toEqual([{ artifact: "fleet-validate-clusters.yml", job: "fleet-clusters" }]);
    // The pipeline-writing script, run as the job runs it on the repo's real `fleet list --json`.
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, "fleet-clusters.json"), (await fleet(["list", "--json"], { cwd: repo })).stdout);
    const script = (ci["fleet-clusters"].script as string[]).find((s) => s.includes("node -e"))!;
    const r = await run("bash", ["-c", script], { cwd: dir });
    expect(r.stderr).toBe("");
    const child = parse(fs.readFileSync(path.join(dir, "fleet-validate-clusters.yml"), "utf8")) as Record<string, any>;
    expect(Object.keys(child).sort()).toEqual(["include", "validate prod-eu", "validate staging-eu"]);
    for (const [name, job] of Object.entries(child).filter(([k]) => k.startsWith("validate "))) {
      expect(templates[job.extends], name).toBeDefined();
      expect(job.variables.CLUSTER).toBe(name.slice("validate ".length));
      expect(job.variables.FLEET_CACHE_KEY).toMatch(/^[A-Za-z0-9._-]+$/);
    }
    const job = templates[".fleet-validate"];
    expect(job.cache).toMatchObject({ key: "$FLEET_CACHE_KEY", when: "always" });
    expect(job.script.join("\n")).toContain('fleet validate --cluster "$CLUSTER" --format markdown');
  });
});

/** The CEL environment of a ValidatingAdmissionPolicy, typed as the API server types it for these kinds. */
function policyEnvironment(variables: Record<string, string>): Environment {
  const env = new Environment()
    // The fields of Flux's objects the expressions read (their CRD schemas' types).
    .registerVariable({ name: "object", schema: { kind: "string", metadata: { name: "string", namespace: "string" }, spec: { url: "string", serviceAccountName: "string" } } })
    // paramKind ConfigMap.
    .registerVariable({ name: "params", schema: { data: "map<string, string>" } });
  return Object.keys(variables).length > 0 ? env.registerVariable({ name: "variables", schema: variables }) : env;
}

describe("the admission policy fleet init writes", () => {
  it("builds with kubectl kustomize in every environment, and its CEL compiles and decides as meant", async () => {
    const repo = await initRepo();
    for (const env of ["staging", "prod"]) {
      const objs = await kustomize(path.join(repo, "infrastructure", env));
      const byKind = (kind: string) => objs.filter((o) => o.kind === kind);
      expect(byKind("ValidatingAdmissionPolicy").map((o) => o.metadata.name).sort()).toEqual([ADMISSION.serviceAccount, ADMISSION.sources].sort());
      for (const b of byKind("ValidatingAdmissionPolicyBinding")) expect((b.spec as any).validationActions).toEqual(["Deny"]);
      const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === ADMISSION.params.name) as K8sObject & { data: Record<string, string> };
      expect(cm.data[ADMISSION.params.key]).toBe("https://github.com/acme/\nssh://git@github.com/acme/\n");
    }
    const objs = await kustomize(path.join(repo, "infrastructure", "prod"));
    const params = { data: { [ADMISSION.params.key]: "https://github.com/acme/\nssh://git@github.com/acme/\n" } };
    const decide = (policy: K8sObject, object: object): boolean[] => {
      const spec = policy.spec as { variables?: Array<{ name: string; expression: string }>; validations: Array<{ expression: string; messageExpression: string }> };
      // Variables compile in order, each typed by what it compiled to, as the API server does.
      const types: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      for (const v of spec.variables ?? []) {
        const checked = policyEnvironment(types).check(v.expression);
        expect(checked.error?.message, v.expression).toBeUndefined();
        types[v.name] = String(checked.type);
        values[v.name] = policyEnvironment({}).evaluate(v.expression, { object, params });
      }
      const env = policyEnvironment(types);
      return spec.validations.map((val) => {
        for (const expr of [val.expression, val.messageExpression]) {
          const checked = env.check(expr);
          expect(checked.error?.message, expr).toBeUndefined();
          expect(checked.type, expr).toBe(expr === val.expression ? "bool" : "string");
        }
        return env.evaluate(val.expression, { object, params, variables: values }) as boolean;
      });
    };
    const policy = (name: string) => objs.find((o) => o.kind === "ValidatingAdmissionPolicy" && o.metadata.name === name)!;
    const ks = (spec: object) => ({ kind: "Kustomization", metadata: { name: "app", namespace: "team-x" }, spec });
    expect(decide(policy(ADMISSION.serviceAccount), ks({ serviceAccountName: "reconciler" }))).toEqual([true]);
    expect(decide(policy(ADMISSION.serviceAccount), ks({}))).toEqual([false]);
    const source = (url: string) => ({ kind: "GitRepository", metadata: { name: "app", namespace: "team-x" }, spec: { url } });
    expect(decide(policy(ADMISSION.sources), source("ssh://git@github.com/acme/app"))).toEqual([true]);
    expect(decide(policy(ADMISSION.sources), source("https://github.com/acme-other/app"))).toEqual([false]);
  });
});

describe("tenant namespaces", () => {
  it("every tenant namespace of every environment has the default-deny policy and the Pod Security labels, new tenants and environments included", async () => {
    const repo = await initRepo();
    expect((await fleet(["new-tenant", "team-x", "--url", "https://github.com/acme/x", "--pod-security", "baseline", "--yes"], { cwd: repo })).code).toBe(0);
    expect((await fleet(["new-env", "qa", "--yes"], { cwd: repo })).code).toBe(0);
    const want = { "team-payments": "restricted", "team-search": "restricted", "team-x": "baseline" };
    const units = ["staging", "prod", "qa"].flatMap((env) => Object.entries(want).map(([tenant, level]) => ({ env, tenant, level })));
    const built = await Promise.all(units.map((u) => kustomize(path.join(repo, "tenants", u.env, u.tenant))));
    for (const [i, { env, tenant, level }] of units.entries()) {
      const objs = built[i]!;
      const np = objs.filter((o) => o.kind === "NetworkPolicy" && o.metadata.namespace === tenant);
      expect(np.map((o) => o.metadata.name), `${env}/${tenant}`).toEqual([NETWORK_POLICY_NAME]);
      // Every pod of the namespace, ingress only from pods of the same namespace.
      expect(np[0]!.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: {} }] }] });
      const ns = objs.find((o) => o.kind === "Namespace")!;
      expect(ns.metadata.labels!["pod-security.kubernetes.io/enforce"], `${env}/${tenant}`).toBe(level);
    }
  });

  it("new-tenant refuses a --url outside the prefixes fleet.yaml allows (exit 2, nothing written)", async () => {
    const repo = await initRepo();
    const before = snapshot(repo);
    const r = await fleet(["new-tenant", "team-x", "--url", "https://github.com/acme-other/x", "--yes"], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--url");
    expect(r.stderr).toContain("https://github.com/acme/");
    expect(snapshot(repo)).toEqual(before);
  });

  it("fleet.yaml opts out: tenants onboarded then get neither the policy nor the labels", async () => {
    const repo = await initRepo();
    write(repo, "fleet.yaml", read(repo, "fleet.yaml").replace("networkPolicy: true", "networkPolicy: false").replace("  podSecurity: true", "  podSecurity: false"));
    expect((await fleet(["new-tenant", "team-x", "--url", "https://github.com/acme/x", "--yes"], { cwd: repo })).code).toBe(0);
    const objs = await kustomize(path.join(repo, "tenants", "staging", "team-x"));
    expect(objs.filter((o) => o.kind === "NetworkPolicy")).toEqual([]);
    expect(Object.keys(objs.find((o) => o.kind === "Namespace")!.metadata.labels!)).toEqual(["toolkit.fluxcd.io/tenant"]);
  });

  it("remove-tenant takes the NetworkPolicy with the rest, in its second step", async () => {
    const repo = await initRepo();
    const file = path.join(repo, "tenants/base/team-search", NETWORK_POLICY_FILE);
    expect((await fleet(["remove-tenant", "team-search", "--yes"], { cwd: repo })).code).toBe(0);
    // Step 1 removes only the sync: the namespace keeps its policy while Flux prunes.
    expect(fs.existsSync(file)).toBe(true);
    expect((await fleet(["remove-tenant", "team-search", "--yes"], { cwd: repo })).code).toBe(0);
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe("validate checks the admission policy against fleet.yaml", () => {
  const ids = async (repo: string) => {
    const r = await fleet(["validate", "--json"], { cwd: repo });
    const report = JSON.parse(r.stdout) as { clusters: Array<{ findings: Array<{ id: string; object: string; message: string }> }> };
    return report.clusters.flatMap((c) => c.findings).map((f) => `${f.id} ${f.object}: ${f.message}`);
  };

  it("finds the policy missing and the prefixes different; a fleet.yaml that does not opt in gets neither", async () => {
    const repo = await initRepo();
    await withCluster(repo);
    expect(await ids(repo)).toEqual([]);
    write(repo, "fleet.yaml", read(repo, "fleet.yaml").replace("    - ssh://git@github.com/acme/\n", "    - oci://ghcr.io/acme/\n    - ssh://git@github.com/acme/\n"));
    expect(await ids(repo)).toEqual([
      `admission-policy ConfigMap/${ADMISSION.params.namespace}/${ADMISSION.params.name}: data.allowedPrefixes differs from fleet.yaml's tenantPolicies.sourcePrefixes: it lacks oci://ghcr.io/acme/, which fleet.yaml allows`,
    ]);
    // The platform's own infrastructure stays; the policy file is no longer listed.
    write(repo, "infrastructure/base/settings.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: flux-system\n");
    write(repo, "infrastructure/base/kustomization.yaml", read(repo, "infrastructure/base/kustomization.yaml").replace("  - tenant-admission.yaml\n", "  - settings.yaml\n"));
    expect((await ids(repo)).sort()).toEqual([
      `admission-policy ConfigMap/${ADMISSION.params.namespace}/${ADMISSION.params.name}: is not applied on this cluster: the sources policy refuses every tenant source without it`,
      `admission-policy ValidatingAdmissionPolicy/${ADMISSION.serviceAccount}: is not applied on this cluster`,
      `admission-policy ValidatingAdmissionPolicy/${ADMISSION.sources}: is not applied on this cluster`,
    ]);
    // An adopted or older fleet.yaml, without tenantPolicies: nothing it did not ask for.
    write(repo, "fleet.yaml", read(repo, "fleet.yaml").replace(/# What fleet writes around every tenant[^]*$/, ""));
    expect(read(repo, "fleet.yaml")).not.toContain("tenantPolicies");
    expect(await ids(repo)).toEqual([]);
  });
});
