/**
 * Bad input, on the built CLI: every refusal exits 2, says on stderr which field is wrong and
 * which rule it breaks, and writes nothing (the repo is byte-for-byte what it was; a refused
 * `init` into a new directory leaves no directory behind).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fleet, initRepo, read, snapshot, tmpDir, write, INIT_ARGS } from "./helpers.js";

const URL_OK = "https://github.com/acme/t1-config";

/** One demo repo made once; each test works on its own copy of it. */
let template: string;
const scratch: string[] = [];

beforeAll(async () => {
  template = await initRepo();
  scratch.push(path.dirname(template));
});

afterAll(async () => {
  for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
});

function freshRepo(): string {
  const parent = tmpDir("fleet-bad-input-");
  scratch.push(parent);
  const repo = path.join(parent, "fleet-infra");
  fs.cpSync(template, repo, { recursive: true });
  return repo;
}

interface Refusal {
  /** The field the message must name, e.g. `<name>`, `--url`, `fleet.yaml:17`. */
  field: string;
  /** The rule the message must state. */
  rule: RegExp;
}

/** Run fleet in `repo` and check it refuses with exit 2, naming field and rule, writing nothing. */
async function expectRefused(repo: string, args: string[], want: Refusal): Promise<void> {
  const before = snapshot(repo);
  const r = await fleet(args, { cwd: repo });
  const shown = `fleet ${JSON.stringify(args)}\nexit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  expect(r.code, shown).toBe(2);
  expect(r.stderr, shown).toContain(want.field);
  expect(r.stderr, shown).toMatch(want.rule);
  expect(r.stderr, shown).not.toMatch(/internal error/);
  expect(snapshot(repo), `files changed by ${shown}`).toEqual(before);
}

const DNS1123 = /must be a DNS-1123 label/;
/** Tenant, environment and cluster names: RFC 1035 labels that YAML reads as text. */
const DNS1035 = /must be a DNS-1035 label/;

describe("the fixture", () => {
  it("accepts the good input every refusal below is a variation of", async () => {
    const repo = freshRepo();
    const r = await fleet(["new-tenant", "t1", "--url", URL_OK, "--dry-run"], { cwd: repo });
    expect(r.code, r.stderr).toBe(0);
    const e = await fleet(["new-env", "qa", "--dry-run"], { cwd: repo });
    expect(e.code, e.stderr).toBe(0);
  });
});

describe("tenant names that are not DNS-1035 labels", () => {
  it.each([
    { label: "upper case", name: "Team-Payments", rule: DNS1035 },
    { label: "over 63 characters", name: "a".repeat(64), rule: /at most 63 characters/ },
    { label: "a trailing dash", name: "team-", rule: DNS1035 },
    { label: "dots", name: "team.payments", rule: DNS1035 },
    { label: "a path escaping the repo (../x)", name: "../x", rule: DNS1035 },
    { label: "a slash", name: "a/b", rule: DNS1035 },
    { label: "an underscore", name: "team_payments", rule: DNS1035 },
    { label: "the empty string", name: "", rule: /must not be empty/ },
  ])("new-tenant refuses $label", async ({ name, rule }) => {
    await expectRefused(freshRepo(), ["new-tenant", name, "--url", URL_OK], { field: "<name>", rule });
  });

  it("new-tenant refuses a leading dash given after --", async () => {
    await expectRefused(freshRepo(), ["new-tenant", "--url", URL_OK, "--", "-bad"], { field: "<name>", rule: DNS1035 });
  });

  it("new-tenant refuses a leading dash without -- (parsed as an unknown flag)", async () => {
    await expectRefused(freshRepo(), ["new-tenant", "-bad", "--url", URL_OK], {
      field: "fleet new-tenant",
      rule: /Unknown option '-b'/,
    });
  });

  it.each([
    { label: "upper case", name: "Team-Payments" },
    { label: "dots", name: "team.payments" },
    { label: "a path escaping the repo (../x)", name: "../team-payments" },
  ])("remove-tenant refuses $label", async ({ name }) => {
    await expectRefused(freshRepo(), ["remove-tenant", name], { field: "<name>", rule: DNS1123 });
  });
});

describe("reserved namespaces as tenant names", () => {
  it.each(["flux-system", "kube-system", "kube-public", "kube-node-lease", "default"])(
    "new-tenant refuses %s",
    async (name) => {
      await expectRefused(freshRepo(), ["new-tenant", name, "--url", URL_OK], {
        field: "<name>",
        rule: new RegExp(`'${name}' is a reserved namespace`),
      });
    },
  );
});

describe("tenants that exist or do not", () => {
  it("new-tenant refuses a tenant that already exists", async () => {
    await expectRefused(freshRepo(), ["new-tenant", "team-payments", "--url", URL_OK], {
      field: "<name>",
      rule: /tenant 'team-payments' already exists/,
    });
  });
});

describe("environments", () => {
  it("new-tenant refuses an unknown environment", async () => {
    await expectRefused(freshRepo(), ["new-tenant", "t1", "--url", URL_OK, "--env", "nope"], {
      field: "--env",
      rule: /'nope' is not one of: staging, prod/,
    });
  });

  it("new-tenant refuses an unknown environment listed beside a known one", async () => {
    await expectRefused(freshRepo(), ["new-tenant", "t1", "--url", URL_OK, "--env", "staging,nope"], {
      field: "--env",
      rule: /'nope' is not one of/,
    });
  });

  it.each([
    { env: "staging", args: ["--interval", "3m"] },
    { env: "prod", args: ["--quota", "cpu=64"] },
  ])("new-env refuses $env, which already exists, given other settings ($args.0)", async ({ env, args }) => {
    await expectRefused(freshRepo(), ["new-env", env, ...args], {
      field: "<name>",
      rule: new RegExp(`environment '${env}' already exists`),
    });
  });

  it.each(["staging", "prod"])("new-env %s, which already exists, writes nothing even with its own settings", async (env) => {
    // Refused (exit 2), or an idempotent re-run that changes nothing (exit 0): never a write.
    const repo = freshRepo();
    const before = snapshot(repo);
    const r = await fleet(["new-env", env], { cwd: repo });
    expect([0, 2], r.stderr).toContain(r.code);
    if (r.code === 2) expect(r.stderr).toMatch(new RegExp(`<name>: environment '${env}' already exists`));
    else expect(r.stdout).toMatch(/nothing to do/);
    expect(snapshot(repo)).toEqual(before);
  });

  it("new-env refuses base, the shared overlay", async () => {
    // tenants/base/ is no environment: whatever the rule says, nothing may be written.
    await expectRefused(freshRepo(), ["new-env", "base"], { field: "<name>", rule: /base/ });
  });
});

describe("malformed git URLs for --url", () => {
  it.each([
    { label: "not a URL", url: "not-a-url", rule: /must be an https:\/\/ or ssh:\/\/ URL/ },
    { label: "the scp form", url: "git@github.com:acme/x", rule: /scp form/ },
    { label: "a bare http://", url: "http://", rule: /https:\/\/ or ssh:\/\// },
    { label: "an http:// URL", url: "http://github.com/acme/x", rule: /must use https:\/\/ or ssh:\/\/ \(not http:\/\/\)/ },
    { label: "credentials in the URL", url: "https://user:tok@github.com/a/b", rule: /must not carry credentials/ },
    { label: "a token as user name", url: "https://tok@github.com/a/b", rule: /must not carry credentials/ },
    { label: "a file:// URL", url: "file:///x", rule: /not file:\/\// },
    { label: "a host without a repository path", url: "https://github.com", rule: /must name a repository path/ },
    { label: "a query", url: "https://github.com/a/b?ref=x", rule: /must not have a query/ },
    { label: "a fragment", url: "https://github.com/a/b#x", rule: /must not contain '#'/ },
    { label: "${...}", url: "https://github.com/acme/${TENANT}", rule: /must not contain \$\{\.\.\.\}/ },
    { label: "{{...}}", url: "https://github.com/acme/{{name}}", rule: /must not contain \{\{\.\.\.\}\}/ },
    { label: "a newline", url: "https://github.com/a/b\nc", rule: /must be a single line/ },
    { label: "a quote", url: 'https://github.com/a/"b', rule: /must not contain quotes/ },
  ])("new-tenant refuses $label", async ({ url, rule }) => {
    await expectRefused(freshRepo(), ["new-tenant", "t1", "--url", url], { field: "--url", rule });
  });
});

describe("a tenant's source ref and secret", () => {
  const SHA = "0123456789abcdef0123456789abcdef01234567";
  it.each([
    { label: "--branch with --tag", args: ["--branch", "dev", "--tag", "v1.0.0"], field: "--branch, --tag", rule: /follows exactly one ref.*check out by --tag/ },
    { label: "--semver with --commit", args: ["--semver", "^1.2", "--commit", SHA], field: "--semver, --commit", rule: /follows exactly one ref.*check out by --commit/ },
    { label: "--no-secret with --secret-ref", args: ["--no-secret", "--secret-ref", "t1-auth"], field: "--secret-ref", rule: /--no-secret says the repository needs none/ },
    { label: "a semver range that is none", args: ["--semver", ">=1.0.0 <<2"], field: "--semver", rule: /is not a semver range/ },
    { label: "a commit that is not hex", args: ["--commit", "release-2024-01-01-0123456789abcdef012345"], field: "--commit", rule: /hexadecimal digits/ },
    { label: "a short commit SHA", args: ["--commit", "0123abc"], field: "--commit", rule: /full 40-digit commit SHA \(it has 7\)/ },
    { label: "a tag git refuses", args: ["--tag", "v1..2"], field: "--tag", rule: /not a valid git tag name/ },
    { label: "a secret name Kubernetes refuses", args: ["--secret-ref", "Git_Auth"], field: "--secret-ref", rule: /DNS-1123 subdomain/ },
  ])("new-tenant refuses $label", async ({ args, field, rule }) => {
    await expectRefused(freshRepo(), ["new-tenant", "t1", "--url", URL_OK, ...args], { field, rule });
  });
});

describe("unsafe characters in free-text answers", () => {
  const UNSAFE = [
    { label: "a newline", text: "a\nb", rule: /must be a single line/ },
    { label: "a double quote", text: 'a"b', rule: /must not contain quotes/ },
    { label: "a single quote", text: "a'b", rule: /must not contain quotes/ },
    { label: "a colon", text: "a:b", rule: /must not contain ':'/ },
    { label: "'#'", text: "a#b", rule: /must not contain '#'/ },
    { label: "${...}", text: "a${X}b", rule: /must not contain \$\{\.\.\.\}/ },
    { label: "{{...}}", text: "a{{x}}b", rule: /must not contain \{\{\.\.\.\}\}/ },
  ];

  describe.each(["branch", "path"])("new-tenant --%s", async (flag) => {
    it.each(UNSAFE)("refuses $label", async ({ text, rule }) => {
      await expectRefused(freshRepo(), ["new-tenant", "t1", "--url", URL_OK, `--${flag}`, text], { field: `--${flag}`, rule });
    });
  });

  it.each(UNSAFE)("new-tenant --role refuses $label", async ({ text }) => {
    await expectRefused(freshRepo(), ["new-tenant", "t1", "--url", URL_OK, "--role", text], { field: "--role", rule: DNS1123 });
  });

  it.each(UNSAFE)("new-env refuses an environment name with $label", async ({ text }) => {
    await expectRefused(freshRepo(), ["new-env", text], { field: "<name>", rule: DNS1035 });
  });

  it.each([
    { label: "a bad interval", args: ["--interval", "5 minutes"], field: "--interval", rule: /must be a duration/ },
    { label: "${...} in a quota", args: ["--quota", "cpu=${X}"], field: "--quota", rule: /must be a Kubernetes quantity/ },
    { label: "a quota for an unknown environment", args: ["--quota", "nope.cpu=2"], field: "--quota", rule: /names environment 'nope'/ },
  ])("new-tenant refuses $label", async ({ args, field, rule }) => {
    await expectRefused(freshRepo(), ["new-tenant", "t1", "--url", URL_OK, ...args], { field, rule });
  });
});

describe("names YAML would read as something else", () => {
  it.each([
    { name: "123", rule: /DNS-1035 label.*'123' starts with a digit/ },
    { name: "1e3", rule: /DNS-1035 label.*'1e3' starts with a digit/ },
    { name: "true", rule: /DNS-1035 label.*'true' reads as a boolean in YAML/ },
    { name: "null", rule: /DNS-1035 label.*'null' reads as null in YAML/ },
    { name: "yes", rule: /DNS-1035 label.*'yes' reads as a boolean in YAML/ },
  ])("new-tenant refuses the tenant name $name", async ({ name, rule }) => {
    await expectRefused(freshRepo(), ["new-tenant", name, "--url", URL_OK], { field: "<name>", rule });
  });

  it.each([
    { args: ["new-env", "on"], rule: /'on' reads as a boolean/ },
    { args: ["new-cluster", "1e3", "--env", "prod"], rule: /'1e3' starts with a digit/ },
    { args: ["new-cluster", "off", "--env", "prod"], rule: /'off' reads as a boolean/ },
  ])("$args.0 refuses the name $args.1", async ({ args, rule }) => {
    await expectRefused(freshRepo(), args, { field: "<name>", rule });
  });

  it("refuses an environment named 1e3 in fleet.yaml, naming it as written", async () => {
    const repo = freshRepo();
    write(repo, "fleet.yaml", read(repo, "fleet.yaml").replace(/^ {2}- name: staging$/m, "  - name: 1e3"));
    await expectRefused(repo, ["new-tenant", "t1", "--url", URL_OK], {
      field: "fleet.yaml: environments[0].name",
      rule: /DNS-1035 label.*'1e3' starts with a digit/,
    });
  });
});

describe("input that looks right and is read otherwise", () => {
  it.each([
    { label: "https: without //", url: "https:github.com/acme/x", rule: /must start with exactly https:\/\// },
    { label: "https:/ with one slash", url: "https:/github.com/acme/x", rule: /must start with exactly https:\/\// },
    { label: "an empty host", url: "https:///acme/x", rule: /must name a host/ },
    { label: "a host that is no DNS name", url: "https://-acme-.com/a/b", rule: /host '-acme-.com' must be a host name/ },
    { label: "a homoglyph host (Cyrillic i)", url: "https://g\u0456thub.com/acme/x", rule: /must be ASCII: '\u0456' \(U\+0456\)/ },
    { label: "a '%' that encodes nothing", url: "https://github.com/acme/%{x}", rule: /'%' must start a percent-encoding/ },
    { label: "a zero-width space", url: "https://github.com/acme/x\u200b", rule: /must not contain U\+200B \(an invisible character\)/ },
  ])("new-tenant --url refuses $label", async ({ url, rule }) => {
    await expectRefused(freshRepo(), ["new-tenant", "t1", "--url", url], { field: "--url", rule });
  });

  it.each([
    { label: "a zero-width space in --branch", args: ["--branch", "ma\u200bin"], field: "--branch", rule: /must not contain U\+200B \(an invisible character\)/ },
    { label: "a right-to-left override in --path", args: ["--path", "./dep\u202eyol"], field: "--path", rule: /must not contain U\+202E \(a bidirectional control/ },
    { label: "U+2028 in --path", args: ["--path", "./a\u2028b"], field: "--path", rule: /must not contain U\+2028 \(a line separator/ },
    { label: "a fractional pod count", args: ["--quota", "pods=1.5"], field: "--quota", rule: /'pods=1.5': value must be a whole number/ },
    { label: "an interval beyond Go's time.Duration", args: ["--interval", "99999999999h"], field: "--interval", rule: /must be at most 2562047h47m16.854775807s/ },
    { label: "an interval of nothing", args: ["--interval", "0s"], field: "--interval", rule: /must be longer than 0s/ },
    { label: "a 10,000-character branch", args: ["--branch", "a".repeat(10_000)], field: "--branch", rule: /must be at most 255 characters \(it has 10000\)/ },
    { label: "a branch part of 251 characters", args: ["--branch", `r/${"a".repeat(251)}`], field: "--branch", rule: /at most 250 characters per '\/'-separated part/ },
    { label: "a branch part starting with '.'", args: ["--branch", "a/.b"], field: "--branch", rule: /'.b' starts with '.'/ },
    { label: "a branch part ending in .lock", args: ["--branch", "a.lock/b"], field: "--branch", rule: /ends with '.lock'/ },
    { label: "the branch HEAD", args: ["--branch", "HEAD"], field: "--branch", rule: /not a valid git branch name/ },
    { label: "a 2,000-character path", args: ["--path", `./${"a".repeat(2000)}`], field: "--path", rule: /must be at most 1024 characters/ },
  ])("new-tenant refuses $label", async ({ args, field, rule }) => {
    await expectRefused(freshRepo(), ["new-tenant", "t1", "--url", URL_OK, ...args], { field, rule });
  });

  it.each([
    { label: "U+0085 in a --var value", args: ["--var", "region=eu\u0085west"], field: "--var", rule: /must not contain U\+0085 \(a line separator/ },
    { label: "a non-ASCII --cluster-domain", args: ["--cluster-domain", "cl\u0443ster.local"], field: "--cluster-domain", rule: /must be ASCII: '\u0443' \(U\+0443\)/ },
  ])("new-cluster refuses $label", async ({ args, field, rule }) => {
    await expectRefused(freshRepo(), ["new-cluster", "c1", "--env", "prod", ...args], { field, rule });
  });

  const GIT_BRANCH = /^ {2}branch: main$/m;
  it.each([
    { label: "a homoglyph git.hostname", re: GIT_BRANCH, text: "  branch: main\n  hostname: g\u0456thub.acme.io", field: "fleet.yaml: git.hostname", rule: /must be ASCII: '\u0456'/ },
    { label: "a zero-width space in git.owner", re: /^ {2}owner: acme$/m, text: "  owner: ac\u200bme", field: "fleet.yaml: git.owner", rule: /must not contain U\+200B/ },
    { label: "a list as git.branch", re: GIT_BRANCH, text: "  branch: [main]", field: "fleet.yaml: git.branch", rule: /must be a single value/ },
  ])("new-tenant refuses fleet.yaml with $label", async ({ re, text, field, rule }) => {
    const repo = freshRepo();
    write(repo, "fleet.yaml", read(repo, "fleet.yaml").replace(re, text));
    await expectRefused(repo, ["new-tenant", "t1", "--url", URL_OK], { field, rule });
  });

  it("new-env refuses a fractional pod count", async () => {
    await expectRefused(freshRepo(), ["new-env", "qa", "--quota", "pods=0.5"], { field: "--quota", rule: /whole number/ });
  });
});

describe("files fleet must read that do not parse", () => {
  /** Replace the line matching `re` with `line`; returns its 1-based line number. */
  function breakLine(repo: string, file: string, re: RegExp, line: string): number {
    const lines = read(repo, file).split("\n");
    const i = lines.findIndex((l) => re.test(l));
    if (i === -1) throw new Error(`no line matching ${re} in ${file}`);
    lines[i] = line;
    write(repo, file, lines.join("\n"));
    return i + 1;
  }

  it.each([
    { label: "an unterminated quote", re: /^platformTeam:/, line: 'platformTeam: "@acme/platform' },
    { label: "tab indentation", re: /^ {2}owner:/, line: "\towner: acme" },
    { label: "a nested mapping on one line", re: /^ {2}owner:/, line: "  owner: acme: x" },
  ])("new-tenant refuses fleet.yaml with $label, naming fleet.yaml and the line", async ({ re, line }) => {
    const repo = freshRepo();
    const n = breakLine(repo, "fleet.yaml", re, line);
    await expectRefused(repo, ["new-tenant", "t1", "--url", URL_OK], { field: `fleet.yaml:${n}`, rule: /does not parse/ });
  });

  it.each([
    ["new-env", "qa"],
    ["remove-tenant", "team-search"],
  ])("%s refuses a fleet.yaml that does not parse", async (...args) => {
    const repo = freshRepo();
    const n = breakLine(repo, "fleet.yaml", /^platformTeam:/, 'platformTeam: "@acme/platform');
    await expectRefused(repo, args, { field: `fleet.yaml:${n}`, rule: /does not parse/ });
  });

  it("new-tenant refuses a fleet.yaml that parses but breaks a rule, naming the key", async () => {
    const repo = freshRepo();
    breakLine(repo, "fleet.yaml", /^ {2}- name: staging$/, "  - name: Staging");
    await expectRefused(repo, ["new-tenant", "t1", "--url", URL_OK], {
      field: "fleet.yaml: environments[0].name",
      rule: DNS1035,
    });
  });

  it.each([
    { label: "tab indentation", re: /^ {2}- team-search\.yaml$/, line: "\t- team-search.yaml" },
    { label: "an unclosed flow list", re: /^resources:$/, line: "resources: [" },
  ])("new-tenant refuses tenants/<env>/kustomization.yaml with $label, naming the file and line", async ({ re, line }) => {
    const repo = freshRepo();
    const file = "tenants/prod/kustomization.yaml";
    const n = breakLine(repo, file, re, line);
    const broken = read(repo, file);
    await expectRefused(repo, ["new-tenant", "t1", "--url", URL_OK], { field: `${file}:`, rule: /does not parse/ });
    // The line the parser names is the broken one or, for an unclosed list, one after it.
    const r = await fleet(["new-tenant", "t1", "--url", URL_OK], { cwd: repo });
    const at = Number(new RegExp(`${file}:(\\d+)`).exec(r.stderr)?.[1]);
    expect(at, r.stderr).toBeGreaterThanOrEqual(n);
    expect(at, r.stderr).toBeLessThanOrEqual(n + 1);
    expect(read(repo, file)).toBe(broken);
  });

  it("new-tenant names the exact line of a tab in tenants/staging/kustomization.yaml", async () => {
    const repo = freshRepo();
    const file = "tenants/staging/kustomization.yaml";
    const n = breakLine(repo, file, /^ {2}- team-search\.yaml$/, "\t- team-search.yaml");
    await expectRefused(repo, ["new-tenant", "t1", "--url", URL_OK], { field: `${file}:${n}`, rule: /does not parse/ });
  });

  it("remove-tenant refuses a tenants/<env>/kustomization.yaml that does not parse", async () => {
    const repo = freshRepo();
    const file = "tenants/prod/kustomization.yaml";
    const n = breakLine(repo, file, /^ {2}- team-search\.yaml$/, "\t- team-search.yaml");
    await expectRefused(repo, ["remove-tenant", "team-search"], { field: `${file}:${n}`, rule: /does not parse/ });
  });
});

describe("the command line itself", () => {
  it.each([
    { flag: "--frobnicate", args: ["new-tenant", "t1", "--url", URL_OK, "--frobnicate"] },
    { flag: "-z", args: ["new-tenant", "t1", "--url", URL_OK, "-z"] },
    { flag: "--nope", args: ["remove-tenant", "team-search", "--nope"] },
    { flag: "--colour", args: ["new-env", "qa", "--colour", "red"] },
    { flag: "--env", args: ["remove-tenant", "team-search", "--env", "prod"] },
  ])("$args.0 refuses the unknown flag $flag", async ({ flag, args }) => {
    await expectRefused(freshRepo(), args, { field: `fleet ${args[0]}`, rule: new RegExp(`Unknown option '${flag}'`) });
  });

  it("refuses a value-taking flag given no value", async () => {
    await expectRefused(freshRepo(), ["new-tenant", "t1", "--url"], { field: "fleet new-tenant", rule: /--url/ });
  });

  it("refuses a second positional argument", async () => {
    await expectRefused(freshRepo(), ["new-tenant", "t1", "t2", "--url", URL_OK], {
      field: "fleet new-tenant",
      rule: /takes one argument <name>/,
    });
  });

  it.each(["bogus", "new-tenants", "--frobnicate"])("refuses the unknown command %s", async (cmd) => {
    await expectRefused(freshRepo(), [cmd, "t1"], { field: "<command>", rule: new RegExp(`unknown command '${cmd}'`) });
  });

  it("refuses no command at all with exit 2, showing the usage", async () => {
    const repo = freshRepo();
    const before = snapshot(repo);
    const r = await fleet([], { cwd: repo });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout + r.stderr).toContain("Usage: fleet <command>");
    expect(snapshot(repo)).toEqual(before);
  });
});

describe("init into a new directory", () => {
  /** Run init from an empty parent; nothing may be left in it, not even the directory. */
  async function expectInitRefused(args: string[], want: Refusal, dir = "new-repo"): Promise<void> {
    const parent = tmpDir("fleet-bad-init-");
    scratch.push(parent);
    const r = await fleet(["init", dir, ...INIT_ARGS, ...args], { cwd: parent });
    const shown = `fleet init ${dir} ${JSON.stringify(args)}\nexit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    expect(r.code, shown).toBe(2);
    expect(r.stderr, shown).toContain(want.field);
    expect(r.stderr, shown).toMatch(want.rule);
    expect(fs.readdirSync(parent), `left behind by ${shown}`).toEqual([]);
  }

  it.each([
    { label: "an environment name with a colon", args: ["--env", "staging,a:b"], field: "--env", rule: DNS1035 },
    { label: "an environment name with a newline", args: ["--env", "a\nb"], field: "--env", rule: DNS1035 },
    { label: "base as an environment", args: ["--env", "base"], field: "--env", rule: /'base' is the shared/ },
    { label: "the same environment twice", args: ["--env", "prod,prod"], field: "--env", rule: /lists 'prod' twice/ },
    { label: "a branch with '#'", args: ["--branch", "a#b"], field: "--branch", rule: /must not contain '#'/ },
    { label: "a branch with ${...}", args: ["--branch", "a${X}"], field: "--branch", rule: /\$\{\.\.\.\}/ },
    { label: "an owner with {{...}}", args: ["--owner", "a{{x}}"], field: "--owner", rule: /may contain only/ },
    { label: "a repository with a quote", args: ["--repository", 'a"b'], field: "--repository", rule: /may contain only/ },
    { label: "a platform team with '#'", args: ["--platform-team", "@acme/plat#x"], field: "--platform-team", rule: /must be @user/ },
    { label: "a platform team with ${...}", args: ["--platform-team", "a${X}@example.com"], field: "--platform-team", rule: /must/ },
    // The one owner fleet writes into CODEOWNERS: every unsafe character inside an otherwise
    // well-formed owner is refused (CODEOWNERS and fleet.yaml take it verbatim).
    { label: "a platform team with a newline (a second CODEOWNERS rule)", args: ["--platform-team", "@acme/team\n* @evil"], field: "--platform-team", rule: /--platform-team: must/ },
    { label: "a platform team with a double quote", args: ["--platform-team", '@acme/te"am'], field: "--platform-team", rule: /--platform-team: must/ },
    { label: "a platform team with a single quote", args: ["--platform-team", "o'brien@example.com"], field: "--platform-team", rule: /--platform-team: must/ },
    { label: "a platform team with a colon", args: ["--platform-team", "a:b@example.com"], field: "--platform-team", rule: /--platform-team: must/ },
    { label: "a platform team with {{...}} in a team", args: ["--platform-team", "@acme/{{x}}"], field: "--platform-team", rule: /--platform-team: must/ },
    { label: "a platform team with ${...} in a team", args: ["--platform-team", "@acme/${X}"], field: "--platform-team", rule: /--platform-team: must/ },
    { label: "a platform team with {{...}} in an e-mail address", args: ["--platform-team", "a{{x}}b@example.com"], field: "--platform-team", rule: /--platform-team: must/ },
    { label: "a platform team with no @ at all", args: ["--platform-team", "acme-team"], field: "--platform-team", rule: /--platform-team: must/ },
    { label: "a platform team with a zero-width joiner", args: ["--platform-team", "@acme/t\u200d1"], field: "--platform-team", rule: /must not contain U\+200D/ },
    { label: "a 300-character platform team", args: ["--platform-team", `@acme/${"t".repeat(300)}`], field: "--platform-team", rule: /must be at most 254 characters/ },
    { label: "an unknown provider", args: ["--provider", "svn"], field: "--provider", rule: /must be one of: github, gitlab, git/ },
    { label: "an http:// fleet URL", args: ["--provider", "git", "--url", "http://example.com/a/b"], field: "--url", rule: /not http:\/\// },
    { label: "an scp-form fleet URL", args: ["--provider", "git", "--url", "git@github.com:acme/x"], field: "--url", rule: /scp form/ },
    { label: "a fleet URL with credentials", args: ["--provider", "git", "--url", "https://u:p@example.com/a/b"], field: "--url", rule: /credentials/ },
    { label: "provider git without a URL", args: ["--provider", "git"], field: "--url", rule: /is required/ },
    { label: "a Flux version that is not a release", args: ["--flux-version", "v2.9"], field: "--flux-version", rule: /must be a Flux release vX\.Y\.Z/ },
    { label: "an unknown flag", args: ["--bogus"], field: "fleet init", rule: /Unknown option '--bogus'/ },
  ])("refuses $label and leaves no directory", async ({ args, field, rule }) => {
    await expectInitRefused(["--yes", ...args], { field, rule });
  });

  it("refuses bad input into a nested new directory and leaves none of it", async () => {
    await expectInitRefused(["--yes", "--env", "a:b"], { field: "--env", rule: DNS1035 }, path.join("a", "b", "new-repo"));
  });

  it("refuses bad input into an existing empty directory and leaves it empty", async () => {
    const parent = tmpDir("fleet-bad-init-");
    scratch.push(parent);
    fs.mkdirSync(path.join(parent, "existing"));
    const r = await fleet(["init", "existing", "--yes", ...INIT_ARGS, "--env", "a:b"], { cwd: parent });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain("--env");
    expect(fs.readdirSync(path.join(parent, "existing"))).toEqual([]);
  });
});
