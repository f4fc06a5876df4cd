/**
 * What a platform team owns in its fleet repo: template overrides in `.fleet/templates/` and
 * team generators in `.fleet/generators/`, run through the same change set and contract as
 * fleet's own commands.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pty from "@lydell/node-pty";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { BIN, buildAll, fleet as fleetIn, type FleetOptions, initRepo, kustomize, read, ROOT, run, snapshot, tmpDir, write } from "./helpers.js";

/** What an environment applies: every tenant unit's directory (tenants/<env>/<t>), each built on its own. */
async function envBuild(repo: string, env: string) {
  const dir = path.join(repo, "tenants", env);
  const units = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
  return (await Promise.all(units.map((u) => kustomize(u)))).flat();
}

/**
 * A team generator is the repo's own ES module: it runs in a fleet process of its own, loaded by
 * node's own module loader as a user's run loads it. fleet's built-in commands run in the worker.
 */
const BUILTIN = new Set(["init", "new-env", "new-tenant", "remove-tenant", "new-cluster", "bootstrap", "add-image-automation", "validate", "upgrade", "list"]);
const fleet = (args: string[], opts: FleetOptions = {}) => fleetIn(args, { ...opts, spawn: opts.spawn ?? !BUILTIN.has(args[0] ?? "") });

/** Every module URL the built CLI resolves for `args` in `cwd`, through a resolve hook. */
async function loadedModules(args: string[], cwd: string): Promise<string[]> {
  const dir = tmpDir();
  const log = path.join(dir, "loaded.txt");
  fs.writeFileSync(path.join(dir, "hooks.mjs"), `import { appendFileSync } from "node:fs";\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + "\\n"); return r; }\n`);
  fs.writeFileSync(path.join(dir, "register.mjs"), `import { register } from "node:module";\nregister(${JSON.stringify(`file://${path.join(dir, "hooks.mjs")}`)});\n`);
  const traced = await run(process.execPath, ["--import", path.join(dir, "register.mjs"), BIN, ...args], { cwd });
  expect(traced.code, traced.stderr).toBe(0);
  return fs.readFileSync(log, "utf8").trim().split("\n");
}

const URL_OK = "https://github.com/acme/team-o-config";
const OVERRIDE = ".fleet/templates/tenant/namespace.yaml.hbs";

/** A company rule: every tenant namespace gets a NetworkPolicy of the company's own. */
const NAMESPACE_WITH_POLICY = [
  "apiVersion: v1",
  "kind: Namespace",
  "metadata:",
  "  name: {{name}}",
  "  labels:",
  "    toolkit.fluxcd.io/tenant: {{name}}",
  "---",
  "apiVersion: networking.k8s.io/v1",
  "kind: NetworkPolicy",
  "metadata:",
  "  name: same-namespace-only",
  "  namespace: {{name}}",
  "  labels:",
  "    toolkit.fluxcd.io/tenant: {{name}}",
  "spec:",
  "  podSelector: {}",
  "  policyTypes:",
  "    - Ingress",
  "  ingress:",
  "    - from:",
  "        - podSelector: {}",
  "",
].join("\n");

const policies = (objs: Array<{ kind: string; metadata: { name: string; namespace?: string } }>) =>
  objs.filter((o) => o.kind === "NetworkPolicy").map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort();

describe("template overrides", () => {
  it("an override in .fleet/templates/ replaces the built-in template: new tenants get the company NetworkPolicy, and it builds", async () => {
    const repo = await initRepo();
    write(repo, OVERRIDE, NAMESPACE_WITH_POLICY);
    const r = await fleet(["new-tenant", "team-o", "--url", URL_OK, "--yes"], { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const docs = parseAllDocuments(read(repo, "tenants/base/team-o/namespace.yaml")).map((d) => d.toJS());
    expect(docs.map((d) => d.kind)).toEqual(["Namespace", "NetworkPolicy"]);
    for (const env of ["staging", "prod"]) {
      const built = await envBuild(repo, env);
      // The tenant onboarded under the override has it; tenants onboarded before keep their files.
      expect(policies(built).filter((p) => p.endsWith("/same-namespace-only"))).toEqual(["team-o/same-namespace-only"]);
      expect(built.find((o) => o.kind === "Namespace" && o.metadata.name === "team-o")).toBeDefined();
    }
    await buildAll(repo);
  });

  it("an override that only some commands use leaves the rest of fleet's output as it was", async () => {
    const plain = await initRepo();
    const overridden = await initRepo();
    write(overridden, OVERRIDE, NAMESPACE_WITH_POLICY);
    for (const repo of [plain, overridden])
      expect((await fleet(["new-tenant", "team-o", "--url", URL_OK, "--yes"], { cwd: repo })).code).toBe(0);
    const a = snapshot(plain);
    const b = snapshot(overridden);
    const differ = Object.keys(b).filter((f) => a[f] !== b[f]).sort();
    expect(differ).toEqual([OVERRIDE, "tenants/base/team-o/namespace.yaml"]);
  });

  it.each([
    ["a variable the template is not given", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{name}}\n  labels:\n    owner: {{owningTeam}}\n", /namespace\.yaml\.hbs:6:\d+: "owningTeam" not defined[\s\S]*variables it is given: .*\bname\b/],
    ["handlebars that does not parse", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{name}\n", /namespace\.yaml\.hbs:4: handlebars syntax error/],
    ["YAML that does not parse", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {{name}}\n   labels: [\n", /namespace\.yaml\.hbs: rendered YAML does not parse \(line \d+/],
    ["an object without a name", "apiVersion: v1\nkind: Namespace\nmetadata:\n  labels:\n    x: {{name}}\n", /namespace\.yaml\.hbs: rendered Namespace lacks apiVersion or metadata\.name/],
  ])("a broken override (%s) fails with exit 2, names the override file, and writes nothing", async (_what, text, message) => {
    const repo = await initRepo();
    write(repo, OVERRIDE, text);
    const before = snapshot(repo);
    const r = await fleet(["new-tenant", "team-o", "--url", URL_OK, "--yes"], { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^fleet: template override \.fleet\/templates\/tenant\/namespace\.yaml\.hbs/);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/fix: correct \.fleet\/templates\/tenant\/namespace\.yaml\.hbs, or delete it/);
    expect(snapshot(repo)).toEqual(before);
  });

  it("overrides are per repo: another repo renders fleet's built-in template", async () => {
    const a = await initRepo();
    write(a, OVERRIDE, "not: [valid\n");
    const b = await initRepo();
    expect((await fleet(["new-tenant", "team-o", "--url", URL_OK, "--yes"], { cwd: b })).code).toBe(0);
    expect((await fleet(["new-tenant", "team-o", "--url", URL_OK, "--yes", "--repo", a])).code).toBe(2);
  });
});

/** A team generator that exercises every kind of answer: positional, required, list, switch, choices. */
const ADD_CONFIGMAP = `// Add a ConfigMap to the infrastructure of some environments
const DNS = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export default {
  name: "add-configmap",
  description: "Add a platform ConfigMap to infrastructure/<env>/",
  answers: [
    { name: "name", positional: true, message: "ConfigMap name", validate: (v) => (DNS.test(v) ? undefined : "must be a DNS label") },
    { name: "namespace", message: "Namespace it lives in", validate: (v) => (DNS.test(v) ? true : "must be a namespace name") },
    { name: "data", message: "Entries", multiple: true, hint: "key=value", default: () => [],
      validate: (v) => v.find((x) => !/^[A-Za-z0-9_.-]+=/.test(x)) },
    { name: "environments", flag: "env", message: "Environments", type: "checkbox", multiple: true,
      choices: (ctx) => ctx.environments, default: (ctx) => ctx.environments },
    { name: "immutable", message: "Immutable", type: "confirm", default: () => false },
  ],
  actions: (a) => a.environments.flatMap((env) => [
    { type: "fleet:render", path: \`infrastructure/\${env}/configmap-\${a.name}.yaml\`, template: "add-configmap/configmap.yaml",
      data: { name: a.name, namespace: a.namespace, immutable: a.immutable,
              entries: a.data.map((d) => ({ key: d.slice(0, d.indexOf("=")), value: d.slice(d.indexOf("=") + 1) })) } },
    { type: "fleet:kustomization", path: \`infrastructure/\${env}/kustomization.yaml\`, addResources: [\`configmap-\${a.name}.yaml\`] },
  ]),
  nextSteps: (a) => [\`ConfigMap \${a.name} added\`],
};
`;

const CONFIGMAP_TEMPLATE = `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{name}}
  namespace: {{namespace}}
{{#if immutable}}
immutable: true
{{/if}}
data:
{{#each entries}}
  {{key}}: "{{value}}"
{{/each}}
`;

async function withConfigmapGenerator(): Promise<string> {
  const repo = await initRepo();
  write(repo, ".fleet/generators/add-configmap.mjs", ADD_CONFIGMAP);
  write(repo, ".fleet/templates/add-configmap/configmap.yaml.hbs", CONFIGMAP_TEMPLATE);
  return repo;
}

describe("team generators run like fleet's own commands", () => {
  it("fleet init writes the example team generator, and it runs with --dry-run, for real, and a second time with nothing to do", async () => {
    const repo = await initRepo();
    expect(read(repo, ".fleet/generators/allow-ingress.mjs")).toMatch(/name: "allow-ingress"/);
    expect(read(repo, "README.md")).toMatch(/## Make fleet's output your own[\s\S]*\.fleet\/templates\/tenant\/namespace\.yaml\.hbs[\s\S]*fleet allow-ingress/);
    const args = ["allow-ingress", "team-payments", "--from", "ingress-nginx", "--port", "8080", "--yes"];

    const before = snapshot(repo);
    const dry = await fleet([...args, "--dry-run"], { cwd: repo });
    expect(dry.stderr).toBe("");
    expect(dry.code).toBe(0);
    expect(snapshot(repo)).toEqual(before);
    expect(dry.stdout).toMatch(/^ {2}created {3}tenants\/base\/team-payments\/allow-from-ingress-nginx\.yaml$/m);
    expect(dry.stdout).toMatch(/^ {2}updated {3}tenants\/base\/team-payments\/kustomization\.yaml$/m);
    expect(dry.stdout).toMatch(/^\+ {2}- allow-from-ingress-nginx\.yaml$/m);
    expect(dry.stdout).toMatch(/nothing was written/);

    const real = await fleet(args, { cwd: repo });
    expect(real.stderr).toBe("");
    expect(real.code).toBe(0);
    expect(real.stdout).toMatch(/fleet allow-ingress: 2 files changed/);
    expect(real.stdout).toMatch(/kubectl -n team-payments get networkpolicy allow-from-ingress-nginx/);
    for (const env of ["staging", "prod"]) {
      const np = (await envBuild(repo, env)).find((o) => o.kind === "NetworkPolicy" && o.metadata.name === "allow-from-ingress-nginx")!;
      expect(np.metadata).toMatchObject({ name: "allow-from-ingress-nginx", namespace: "team-payments" });
      expect(np.spec!.ingress[0].ports).toEqual([{ protocol: "TCP", port: 8080 }]);
      expect(np.spec!.ingress[0].from[0].namespaceSelector.matchLabels).toEqual({ "kubernetes.io/metadata.name": "ingress-nginx" });
    }

    const once = snapshot(repo);
    const again = await fleet(args, { cwd: repo });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing to do/);
    expect(snapshot(repo)).toEqual(once);

    // Its exists(): another port for the same namespace is refused, not silently rewritten.
    const other = await fleet([...args.slice(0, -2), "9090", "--yes"], { cwd: repo });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/--from: tenant team-payments already lets ingress-nginx in/);
    expect(snapshot(repo)).toEqual(once);

    // Offboarding takes the policy with the tenant (in its last step; both at once here), and everything still builds.
    expect((await fleet(["remove-tenant", "team-payments", "--yes", "--all-at-once"], { cwd: repo })).code).toBe(0);
    expect(fs.existsSync(path.join(repo, "tenants/base/team-payments"))).toBe(false);
    await buildAll(repo);
  });

  it("a team generator takes its answers from flags under --yes, names every missing one, and validates them", async () => {
    const repo = await withConfigmapGenerator();
    const before = snapshot(repo);

    const missing = await fleet(["add-configmap", "--yes"], { cwd: repo });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/missing answers for add-configmap[\s\S]*<name>: is required[\s\S]*--namespace: is required/);
    const invalid = await fleet(["add-configmap", "Bad", "--namespace", "x_y", "--data", "novalue", "--env", "qa", "--yes"], { cwd: repo });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/<name>: must be a DNS label/);
    expect(invalid.stderr).toMatch(/--namespace: must be a namespace name/);
    expect(invalid.stderr).toMatch(/--data: novalue/);
    expect(invalid.stderr).toMatch(/--env: 'qa' is not one of: staging, prod/);
    expect(snapshot(repo)).toEqual(before);

    const r = await fleet(
      ["add-configmap", "platform-settings", "--namespace", "platform", "--data", "region=eu-west-1,tier=gold", "--env", "prod", "--immutable", "--yes"],
      { cwd: repo },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ConfigMap platform-settings added/);
    expect(fs.existsSync(path.join(repo, "infrastructure/staging/configmap-platform-settings.yaml"))).toBe(false);
    const cm = (await kustomize(path.join(repo, "infrastructure/prod"))).find((o) => o.kind === "ConfigMap" && o.metadata.name === "platform-settings") as unknown as {
      metadata: { name: string; namespace: string };
      immutable?: boolean;
      data: Record<string, string>;
    };
    expect(cm.metadata).toMatchObject({ name: "platform-settings", namespace: "platform" });
    expect(cm.immutable).toBe(true);
    expect(cm.data).toEqual({ region: "eu-west-1", tier: "gold" });

    // --no-<switch> and defaults: every environment by default, mutable.
    expect((await fleet(["add-configmap", "other", "--namespace", "platform", "--no-immutable", "--yes"], { cwd: repo })).code).toBe(0);
    for (const env of ["staging", "prod"]) expect(read(repo, `infrastructure/${env}/configmap-other.yaml`)).not.toMatch(/immutable/);
  });

  it("fleet <team generator> --help shows what its file says, escaped, and runs none of it", async () => {
    const repo = await withConfigmapGenerator();
    const marker = path.join(tmpDir(), "imported");
    write(
      repo,
      ".fleet/generators/rename-title.mjs",
      `// Sets the title\x1b]0;pwned\x07 of \u202eevil\u202c things\nimport { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "x");\nexport default {};\n`,
    );
    const r = await fleetIn(["add-configmap", "--help"], { cwd: repo });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^fleet add-configmap \[arguments\] \[options\] {3}\(team generator: \.fleet\/generators\/add-configmap\.mjs\)$/m);
    expect(r.stdout).toMatch(/^Add a ConfigMap to the infrastructure of some environments$/m);
    expect(r.stdout).toMatch(/answers \(arguments, flags and prompts\) are defined in \.fleet\/generators\/add-configmap\.mjs/);
    expect(r.stdout).toMatch(/fleet does not run repo code for --help/);
    expect(r.stdout).toMatch(/fleet add-configmap runs that module's code, with or without --dry-run/);

    for (const args of [["rename-title", "--help"], ["rename-title", "-yh"], ["help", "rename-title"]]) {
      const t = await fleetIn(args, { cwd: repo });
      expect(t.code).toBe(0);
      expect(t.stdout).toMatch(/^Sets the title\\x1b\]0;pwned\\x07 of \\u202eevil\\u202c things$/m);
      expect(t.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]/);
    }
    const list = await fleetIn(["--help"], { cwd: repo });
    expect(list.stdout).toMatch(/^ {2}rename-title +Sets the title\\x1b\]0;pwned\\x07 of \\u202eevil\\u202c things$/m);
    expect(list.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]/);
    expect(fs.existsSync(marker)).toBe(false);
  });

  it(
    "on a terminal, a team generator prompts for the answers its flags did not give",
    async () => {
      const repo = await initRepo();
      const proc = pty.spawn(process.execPath, [BIN, "allow-ingress", "team-search"], {
        name: "xterm-256color",
        cols: 200,
        rows: 50,
        cwd: repo,
        env: { ...process.env, TERM: "xterm-256color" } as Record<string, string>,
      });
      let screen = "";
      proc.onData((d) => (screen += d.replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, "")));
      const exited = new Promise<number>((resolve) => proc.onExit((e) => resolve(e.exitCode)));
      const waitFor = async (re: RegExp) => {
        for (const deadline = Date.now() + 15_000; !re.test(screen); ) {
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}; screen:\n${screen}`);
          await new Promise((r) => setTimeout(r, 25));
        }
      };
      try {
        await waitFor(/\? Namespace allowed to connect \(ingress-nginx\)/);
        proc.write("monitoring\r");
        await waitFor(/\? Only this TCP port \(empty: every port\)/);
        proc.write("99999\r");
        await waitFor(/>> must be a port number from 1 to 65535/);
        proc.write("\x15" + "9100\r");
        await waitFor(/fleet allow-ingress: 2 files changed/);
        expect(await exited).toBe(0);
      } finally {
        try {
          proc.kill("SIGKILL");
        } catch {
          // already gone
        }
      }
      const np = (await envBuild(repo, "prod")).find((o) => o.kind === "NetworkPolicy" && o.metadata.name === "allow-from-monitoring")!;
      expect(np.metadata).toMatchObject({ name: "allow-from-monitoring", namespace: "team-search" });
      expect(np.spec!.ingress[0].ports).toEqual([{ protocol: "TCP", port: 9100 }]);
    },
    60_000,
  );

  it("team generators are found only in a fleet repo: --repo from elsewhere, unknown command outside one", async () => {
    const repo = await withConfigmapGenerator();
    const elsewhere = tmpDir();
    const outside = await fleet(["add-configmap", "x", "--namespace", "platform", "--yes"], { cwd: elsewhere });
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/unknown command 'add-configmap'/);
    const viaRepo = await fleet(["add-configmap", "x", "--namespace", "platform", "--yes", "--repo", repo], { cwd: elsewhere });
    expect(viaRepo.stderr).toBe("");
    expect(viaRepo.code).toBe(0);
    expect(fs.existsSync(path.join(repo, "infrastructure/prod/configmap-x.yaml"))).toBe(true);
  });
});

describe("fleet --help and team generators", () => {
  it("lists the repo's team generators by file name with their leading comment, without loading any of them", async () => {
    const repo = await withConfigmapGenerator();
    const marker = path.join(tmpDir(), "imported");
    write(repo, ".fleet/generators/side-effect.mjs", `// Proves --help does not import generators\nimport { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "x");\nexport default {};\n`);
    write(repo, ".fleet/generators/_shared.mjs", "export const helper = 1;\n");
    const r = await fleet(["--help"], { cwd: path.join(repo, "tenants") });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Team generators \(.*\.fleet\/generators\/\):$/m);
    expect(r.stdout).toMatch(/^ {2}add-configmap +Add a ConfigMap to the infrastructure of some environments$/m);
    expect(r.stdout).toMatch(/^ {2}allow-ingress +Let pods in another namespace reach a tenant's pods/m);
    expect(r.stdout).toMatch(/^ {2}side-effect +Proves --help does not import generators$/m);
    expect(r.stdout).not.toMatch(/_shared/);
    expect(fs.existsSync(marker)).toBe(false);

    // And none of fleet's heavy modules either (the start-up test, inside a repo).
    const loaded = await loadedModules(["--help"], repo);
    expect(loaded.filter((u) => /\/generators\/|node-plop|inquirer|handlebars|\/yaml\/|\/diff\/|execa/.test(u))).toEqual([]);
  });

  it("fleet <team generator> --help, fleet --help, fleet validate and fleet list load no module from .fleet/generators", async () => {
    const repo = await withConfigmapGenerator();
    expect((await fleetIn(["new-cluster", "c1", "--env", "prod", "--yes"], { cwd: repo })).code).toBe(0);
    for (const args of [["add-configmap", "--help"], ["--help"], ["validate"], ["list"]]) {
      const loaded = await loadedModules(args, repo);
      expect(loaded.some((u) => u.includes("/dist/src/cli/main.js")), args.join(" ")).toBe(true);
      expect(loaded.filter((u) => u.includes("/.fleet/")), args.join(" ")).toEqual([]);
    }
  });

  it("a team generator cannot shadow a built-in command: --help says so, the command stays fleet's own", async () => {
    const repo = await initRepo();
    write(repo, ".fleet/generators/new-tenant.mjs", "export default {};\n");
    const help = await fleet(["--help"], { cwd: repo });
    expect(help.stdout).toMatch(/^ {2}new-tenant +refused: a team generator cannot shadow the built-in command 'new-tenant'; rename \.fleet\/generators\/new-tenant\.mjs$/m);
    const r = await fleet(["new-tenant", "team-o", "--url", URL_OK, "--yes"], { cwd: repo });
    expect(r.code).toBe(0);
    expect(fs.existsSync(path.join(repo, "tenants/base/team-o/sync.yaml"))).toBe(true);
  });

  it("the words people type at fleet (version, help, status, lint, ls, ...) are fleet's: a team generator by such a name is refused and never runs", async () => {
    const repo = await initRepo();
    const marker = path.join(tmpDir(), "ran");
    const words = ["version", "help", "status", "lint", "ls", "rm"];
    for (const w of words)
      write(repo, `.fleet/generators/${w}.mjs`, `import { appendFileSync } from "node:fs";\nappendFileSync(${JSON.stringify(marker)}, "${w}\\n");\nexport default { name: "${w}", answers: [], actions: () => [] };\n`);
    const { version } = JSON.parse(read(ROOT, "package.json")) as { version: string };

    const help = await fleetIn(["--help"], { cwd: repo });
    expect(help.stdout).toMatch(/^ {2}version +refused: a team generator cannot be named 'version': fleet version is fleet --version; rename \.fleet\/generators\/version\.mjs$/m);
    expect(help.stdout).toMatch(/^ {2}lint +refused: a team generator cannot be named 'lint': fleet reserves it \(fleet validate checks the repo\); rename \.fleet\/generators\/lint\.mjs$/m);
    for (const args of [["version"], ["-v"], ["--version"]]) expect(await fleetIn(args, { cwd: repo })).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
    expect((await fleetIn(["help"], { cwd: repo })).stdout).toMatch(/^Usage: fleet <command> \[options\]$/m);
    const status = await fleetIn(["status"], { cwd: repo });
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/fleet has no command 'status'; \.fleet\/generators\/status\.mjs is not run: a team generator cannot be named 'status'/);
    expect(status.stderr).toMatch(/fix: fleet list shows tenants, environments and clusters/);
    for (const w of ["lint", "ls", "rm"]) expect((await fleetIn([w, "--yes"], { cwd: repo })).code).toBe(2);
    expect(fs.existsSync(marker)).toBe(false);
  });
});

describe("a failing or malformed team generator is reported by name and never half applied", () => {
  const run = (repo: string, name: string, ...args: string[]) => fleet([name, ...args, "--yes"], { cwd: repo });

  it.each([
    ["no default export", "export const x = 1;\n", /is malformed:\n {2}- its default export must be a generator object, not missing/],
    ["a name other than its file name", 'export default { name: "other", answers: [], actions: () => [] };\n', /name 'other' must be its file name 'bad'/],
    ["answers that are not a list", 'export default { name: "bad", answers: {}, actions: () => [] };\n', /answers must be a list/],
    ["plop's prompts instead of answers", 'export default { name: "bad", prompts: [], actions: () => [] };\n', /not plop's prompts/],
    ["actions that are not a function", 'export default { name: "bad", answers: [], actions: [] };\n', /actions must be a function \(answers, ctx\) => \[\.\.\.\], not a list/],
    ["an answer without a message", 'export default { name: "bad", answers: [{ name: "x" }], actions: () => [] };\n', /answers\[0\] \(x\)\.message must be a non-empty string/],
    ["an answer taking one of fleet's flags", 'export default { name: "bad", answers: [{ name: "dryRun", message: "m" }], actions: () => [] };\n', /--dry-run is one of fleet's own flags/],
    ["a syntax error", "export default { name: 'bad',, };\n", /failed to load: SyntaxError/],
    ["a throw while loading", 'throw new Error("no config");\n', /failed to load: Error: no config/],
    ["a name with terminal escapes, quoted escaped", 'export default { name: "\\x1b[2J\\u202ex", answers: [], actions: () => [] };\n', /name '\\x1b\[2J\\u202ex' must be its file name/],
  ])("%s: exit 2, named, nothing written", async (_what, source, message) => {
    const repo = await initRepo();
    write(repo, ".fleet/generators/bad.mjs", source);
    const before = snapshot(repo);
    const r = await run(repo, "bad");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^fleet: team generator 'bad' \(\.fleet\/generators\/bad\.mjs\)/);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.stderr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]/);
    expect(snapshot(repo)).toEqual(before);
  });

  /** Actions that stage fine, then something that fails: the repo must be left exactly as it was. */
  const FIRST_WRITES = `{ type: "fleet:kustomization", path: "infrastructure/prod/kustomization.yaml", addResources: ["x.yaml"] },
      { type: "fleet:render", path: "infrastructure/prod/x.yaml", template: "tenant/namespace.yaml", data: { name: "x" } }`;
  it.each([
    ["actions() throws", `actions: () => { throw new Error("no such team"); }`, /actions\(\) threw Error: no such team/],
    ["an answer's validate() throws", `answers: [{ name: "x", message: "m", default: () => "1", validate: (v) => v.nope.length }], actions: () => []`, /answers\[0\] \(x\)\.validate\(\) threw TypeError/],
    ["an action needs a template that does not exist", `actions: () => [${FIRST_WRITES}, { type: "fleet:render", path: "infrastructure/prod/y.yaml", template: "nope/missing.yaml", data: {} }]`, /template nope\/missing\.yaml\.hbs does not exist/],
    ["an action's template is missing a variable", `actions: () => [${FIRST_WRITES}, { type: "fleet:render", path: "infrastructure/prod/y.yaml", template: "tenant/namespace.yaml", data: {} }]`, /template tenant\/namespace\.yaml\.hbs:\d+:\d+: "name" not defined/],
    ["an action edits a file that does not parse", `actions: () => [${FIRST_WRITES}, { type: "fleet:kustomization", path: "tenants/prod/broken.yaml", addResources: ["a"] }]`, /tenants\/prod\/broken\.yaml:\d+: does not parse/],
    ["plop's own add, which would write past the change set", `actions: () => [${FIRST_WRITES}, { type: "add", path: "plop-wrote-this.txt", template: "x" }]`, /plop's own 'add' writes past fleet's change set/],
    ["an action type fleet does not have", `actions: () => [${FIRST_WRITES}, { type: "fleet:frobnicate", path: "x" }]`, /type must be one of fleet:render/],
    ["a path outside the repo", `actions: () => [${FIRST_WRITES}, { type: "fleet:delete", path: "../outside.yaml" }]`, /outside the repository/],
  ])("%s: exit 2, named, the repo exactly as it was", async (_what, body, message) => {
    const repo = await initRepo();
    write(repo, "tenants/prod/broken.yaml", "resources: [a\n");
    write(repo, ".fleet/generators/failing.mjs", `export default { name: "failing", answers: [], ${body} };\n`.replace("answers: [], answers:", "answers:"));
    const before = snapshot(repo);
    for (const extra of [[], ["--dry-run"]]) {
      const r = await run(repo, "failing", ...extra);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/^fleet: team generator 'failing' \(\.fleet\/generators\/failing\.mjs\)/);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/internal error/);
      expect(snapshot(repo)).toEqual(before);
    }
    expect(fs.existsSync(path.join(repo, "plop-wrote-this.txt"))).toBe(false);
    expect(fs.existsSync(path.join(repo, ".fleet.lock"))).toBe(false);
  });
});
