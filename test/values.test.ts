/**
 * Every value fleet writes keeps its type: a string the user gave reads back as exactly that
 * string, through the `yaml` library (YAML 1.2 and 1.1) and through the real kubectl kustomize
 * (go-yaml), however much it looks like a number, a boolean, null or a date.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { ChangeSet } from "../src/changeset/changeset.js";
import { parseConfig } from "../src/core/config.js";
import { apiVersions, DEFAULT_FLUX_VERSION } from "../src/flux/index.js";
import { OVERRIDES_DIR, renderText, renderYaml, yamlString } from "../src/core/render.js";
import { fleet, initRepo, kustomize, read, tmpDir, write, type K8sObject } from "./helpers.js";

/** Values YAML 1.1, YAML 1.2 or go-yaml would read as something other than the string. */
const HOSTILE = [
  "0o17", "null", "0x1f", "1e3", "true", "~", "yes", "on", "off", "y", "017", ".inf", "12:30",
  "1_000", "0b11", "0X1F", "+0o17", "2001-12-14", "a: b", "<<",
];

const api = apiVersions(DEFAULT_FLUX_VERSION);

/** Every YAML template fleet ships, with data in which every user-given string is `h`. */
const TEMPLATES: Record<string, (h: string) => object> = {
  "tenant/namespace.yaml": (h) => ({ name: h, podSecurity: "restricted" }),
  "tenant/network-policy.yaml": (h) => ({ name: h, networkPolicyName: h }),
  "tenant/rbac.yaml": (h) => ({ account: h, namespace: h, tenant: h, role: h, flagged: h }),
  "tenant/sync.yaml": (h) => ({ name: h, api, interval: h, url: h, ref: [{ kind: "tag", value: h }], secretRef: h, path: h }),
  "tenant/quota.yaml": (h) => ({
    name: h,
    namespace: h,
    env: h,
    quota: { cpu: h, memory: h, pods: h },
    limitRange: { defaultRequest: { cpu: h, memory: h }, default: { cpu: h, memory: h } },
  }),
  "tenant/env-patch.yaml": (h) => ({ name: h, env: h, namespace: h, gitRepository: h, kustomization: h, api, ref: [{ kind: "semver", value: h }], interval: h, path: h }),
  "image/automation.yaml": (h) => ({
    api,
    name: h,
    namespace: h,
    tenant: h,
    image: h,
    range: h,
    source: h,
    checkoutBranch: h,
    pushBranch: h,
    separateBranch: true,
    path: h,
  }),
  "cluster/platform-kustomization.yaml": (h) => ({ api, description: h, kustomization: h, dependsOn: h, env: h }),
  "cluster/cluster-vars.yaml": (h) => ({ name: h, env: h, clusterDomain: h, networkPolicy: true, vars: [{ key: h, value: h }] }),
  "repo/fleet.yaml": (h) => ({
    flux: { version: h, componentsExtra: [h], clusters: { [h]: { version: h } } },
    git: { provider: h, owner: h, repository: h, branch: h, url: h },
    platformTeam: h,
    unread: { flux: true, git: true, platformTeam: true },
    environments: [{ name: h, interval: h, quota: { cpu: h, memory: h, pods: h }, limitRange: { defaultRequest: { cpu: h, memory: h }, default: { cpu: h, memory: h } } }],
    tenantDefaults: { role: h, branch: h, path: h, interval: h, podSecurity: h },
    tenantPolicies: { networkPolicy: true, podSecurity: true, admissionPolicy: true, sourcePrefixes: [h] },
  }),
  // The team generator's template as `fleet init` writes it into a repo (see teamTemplateRoot).
  "allow-ingress/network-policy.yaml": (h) => ({ from: h, namespace: h, tenant: h, port: "8080" }),
};

const SENTINEL = "SENTINEL";

/** A repo root holding the example team template that `fleet init` writes, rendered by fleet. */
let teamRoot: string;
beforeAll(() => {
  teamRoot = tmpDir("fleet-values-");
  write(teamRoot, `${OVERRIDES_DIR}/allow-ingress/network-policy.yaml.hbs`, renderText("team/network-policy.yaml.hbs", {}));
});

const render = (name: string, h: string) => renderYaml(name, TEMPLATES[name]!(h), new ChangeSet(teamRoot));

/** Deep copy with `from` replaced by `to` in every string and every key. */
function replaced(value: unknown, to: string): unknown {
  if (typeof value === "string") return value.split(SENTINEL).join(to);
  if (Array.isArray(value)) return value.map((v) => replaced(v, to));
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.split(SENTINEL).join(to), replaced(v, to)]));
  return value;
}

const parse = (text: string, version: "1.1" | "1.2") =>
  parseAllDocuments(text, { version }).flatMap((d) => {
    if (d.errors.length) throw d.errors[0];
    const js = d.toJS() as unknown;
    return js === null ? [] : [js];
  });

/** What a render with `h` must read back as: the render with a plain marker, marker replaced. */
const expected = (name: string, h: string) => replaced(parse(render(name, SENTINEL), "1.2"), h) as object[];

describe("yamlString: one YAML string scalar that reads back as exactly the value", () => {
  it.each(HOSTILE)("%s reads back as the string under YAML 1.2 and 1.1", (h) => {
    const text = `v: ${yamlString(h)}\n`;
    for (const version of ["1.1", "1.2"] as const) expect(parse(text, version)).toEqual([{ v: h }]);
  });

  it("leaves plain what every reader takes as text, so ordinary files do not change", () => {
    for (const v of ["main", "500m", "4Gi", "./deploy", "https://github.com/acme/x", "eu-west-1", "1m", "v2.7.4"]) expect(yamlString(v)).toBe(v);
  });

  it("escapes line separators and invisible characters, which YAML 1.1 readers take as line breaks", () => {
    const value = "a\u2028b\u0085c\u200bd";
    expect(yamlString(value)).toBe('"a\\u2028b\\x85c\\u200bd"');
    for (const version of ["1.1", "1.2"] as const) expect(parseAllDocuments(yamlString(value), { version })[0]!.toJS()).toBe(value);
  });
});

describe("every YAML template fleet ships, rendered with values YAML would retype", () => {
  it.each(Object.keys(TEMPLATES))("%s: each value reads back as the exact string (yaml 1.2 and 1.1)", (name) => {
    for (const h of HOSTILE) {
      const want = expected(name, h);
      // The marker shows up, so the comparison below is about the values, not an empty file.
      expect(JSON.stringify(want), name).toContain(JSON.stringify(h).slice(1, -1));
      const text = render(name, h);
      for (const version of ["1.1", "1.2"] as const) expect(parse(text, version), `${name} with ${h}, YAML ${version}:\n${text}`).toEqual(want);
    }
  });

  it("the Kubernetes objects build with the real kubectl kustomize and keep every value", async () => {
    // One build per group of files whose objects cannot collide: an object's id is its kind,
    // namespace and name, and those are `h` here (a tenant's patch and its sync are kept apart).
    const groups: Array<Array<{ name: string; text: string; want: object[] }>> = [
      ["tenant/namespace.yaml", "tenant/rbac.yaml", "tenant/sync.yaml", "tenant/quota.yaml", "image/automation.yaml", "cluster/platform-kustomization.yaml", "allow-ingress/network-policy.yaml", "tenant/network-policy.yaml"],
      ["tenant/env-patch.yaml"],
    ].map((names) => names.flatMap((name) => HOSTILE.map((h) => ({ name, text: render(name, h), want: expected(name, h) }))));
    // cluster-vars has a fixed name: one of it, with every hostile value as a key and a value.
    // Not `<<` as a key: kustomize drops it however it is quoted (a merge key to kyaml); fleet's
    // keys are variable names, which cannot be one.
    const vars = HOSTILE.map((h) => ({ key: h === "<<" ? "merge" : h, value: h }));
    const cm = renderYaml("cluster/cluster-vars.yaml", { name: "0o17", env: "1e3", clusterDomain: "true", networkPolicy: false, vars });
    const data = { cluster_name: "0o17", environment: "1e3", cluster_domain: "true", ...Object.fromEntries(vars.map((v) => [v.key, v.value])) };
    const cmWant = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cluster-vars", namespace: "flux-system", annotations: { "fleet.dev/network-policy": "false", "fleet.dev/cluster-domain": "true" } }, data };
    groups.push([{ name: "cluster/cluster-vars.yaml", text: cm, want: [cmWant] }]);
    await Promise.all(
      groups.map(async (renders) => {
        const dir = tmpDir("fleet-values-kz-");
        const files = renders.map((r, i) => {
          const file = `${r.name.replace(/\W/g, "-")}-${i}.yaml`;
          write(dir, file, r.text);
          return file;
        });
        const want = renders.flatMap((r) => r.want);
        write(dir, "kustomization.yaml", `resources:\n${files.map((f) => `  - ${f}\n`).join("")}`);
        const built = await kustomize(dir);
        const id = (o: K8sObject) => JSON.stringify([o.kind, o.metadata.namespace ?? "", o.metadata.name]);
        const byId = new Map(built.map((o) => [id(o), o]));
        expect(built.length).toBe(want.length);
        for (const o of want as K8sObject[]) expect(byId.get(id(o)), `${id(o)} in ${dir}`).toEqual(o);
      }),
    );
  });
});

describe("the values a user gives keep their type in the files fleet writes", () => {
  it.each([
    { flag: "--branch", value: "0o17", at: (o: K8sObject[]) => o.find((x) => x.kind === "GitRepository")!.spec!.ref.branch },
    { flag: "--branch", value: "null", at: (o: K8sObject[]) => o.find((x) => x.kind === "GitRepository")!.spec!.ref.branch },
    { flag: "--role", value: "0x1f", at: (o: K8sObject[]) => o.find((x) => x.kind === "RoleBinding")!.roleRef!.name },
    { flag: "--path", value: "017", at: (o: K8sObject[]) => o.find((x) => x.kind === "Kustomization")!.spec!.path },
  ])("new-tenant $flag $value: the built objects hold the string $value", async ({ flag, value, at }) => {
    const repo = await initRepo();
    const r = await fleet(["new-tenant", "t1", "--url", "https://github.com/acme/t1-config", flag, value, "--yes"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const built = await kustomize(path.join(repo, "tenants/base/t1"));
    expect(at(built)).toBe(value);
  });

  it("reads fleet.yaml values as the strings they are written as", async () => {
    const repo = await initRepo();
    const file = path.join(repo, "fleet.yaml");
    const text = read(repo, "fleet.yaml")
      .replace(/(tenantDefaults:[^]*?\n {2}branch:) main\n/, "$1 0o17\n")
      .replace(/(\n {2}owner:) acme\n/, "$1 0x1f\n  personal: true\n");
    fs.writeFileSync(file, text);
    const { config } = parseConfig(text);
    expect(config.tenantDefaults.branch).toBe("0o17");
    expect(config.git.owner).toBe("0x1f");
    // The one setting that is not text stays what it is.
    expect(config.git.personal).toBe(true);
    // And what is read is what is written: a tenant from these defaults reconciles branch 0o17.
    const r = await fleet(["new-tenant", "t1", "--url", "https://github.com/acme/t1-config", "--yes"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const sync = parse(read(repo, "tenants/base/t1/sync.yaml"), "1.1") as K8sObject[];
    expect(sync.find((o) => o.kind === "GitRepository")!.spec!.ref.branch).toBe("0o17");
  });
});
