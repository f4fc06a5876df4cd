/**
 * The two ways a command settles its answers: prompts when a person sits at a terminal (driven
 * here through a real pseudo-terminal), each answer checked as it is typed, and one complete
 * error when nobody does. Also what only a terminal has: Ctrl-C at a prompt, and the question
 * before a change that is hard to take back.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pty from "@lydell/node-pty";
import { afterEach, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { shellWord } from "../src/cli/command-line.js";
import { BIN, fleet, initRepo, kustomize, read, run, snapshot } from "./helpers.js";

/** CSI (colours, cursor moves, erase), OSC, and the two-byte escapes inquirer's renderer writes. */
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[@-Z\\-_]/g;
const strip = (s: string) => s.replace(ANSI, "");

const KEY = { enter: "\r", space: " ", down: "\x1b[B", clearLine: "\x15" } as const;

/**
 * `fleet` on a pseudo-terminal. Output accumulates; `waitFor` looks for a pattern in what
 * appeared since the last match, so a prompt drawn earlier never satisfies a later wait.
 */
class Terminal {
  private raw = "";
  private seen = 0;
  private exitInfo: { exitCode: number; signal?: number } | undefined;
  readonly exited: Promise<{ exitCode: number; signal?: number }>;
  private readonly proc: pty.IPty;

  constructor(cwd: string, args: string[]) {
    this.proc = pty.spawn(process.execPath, [BIN, ...args], {
      name: "xterm-256color",
      cols: 220,
      rows: 60,
      cwd,
      env: { ...process.env, TERM: "xterm-256color" } as Record<string, string>,
    });
    this.proc.onData((d) => {
      this.raw += d;
    });
    this.exited = new Promise((resolve) =>
      this.proc.onExit((e) => {
        this.exitInfo = e;
        resolve(e);
      }),
    );
  }

  get screen(): string {
    return strip(this.raw);
  }

  /** What was written, escapes included. */
  get bytes(): string {
    return this.raw;
  }

  private failure(what: string): Error {
    const tail = this.screen.slice(-2500);
    const status = this.exitInfo ? `process exited with ${JSON.stringify(this.exitInfo)}` : "process still running";
    return new Error(`${what} (${status}); screen since last match:\n${this.screen.slice(this.seen).slice(-2500) || "(nothing)"}\n--- last 2500 characters ---\n${tail}`);
  }

  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    let exitSeenAt: number | undefined;
    for (;;) {
      const m = pattern.exec(this.screen.slice(this.seen));
      if (m) {
        this.seen += m.index + m[0].length;
        return m[0];
      }
      // An exited process prints nothing more: fail fast, after a moment for its last output.
      if (this.exitInfo) {
        exitSeenAt ??= Date.now();
        if (Date.now() - exitSeenAt > 300) throw this.failure(`process exited before ${pattern} appeared`);
      }
      if (Date.now() > deadline) throw this.failure(`timed out after ${timeoutMs}ms waiting for ${pattern}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  type(keys: string): void {
    this.proc.write(keys);
  }

  async exit(timeoutMs = 20_000): Promise<{ exitCode: number; signal?: number }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.failure(`did not exit within ${timeoutMs}ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    if (this.exitInfo) return;
    try {
      this.proc.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** A prompt's question line as inquirer draws it, up to where the answer is typed. */
const prompt = (text: string) => new RegExp(`\\? ${escape(text)}`);

const terminals: Terminal[] = [];
afterEach(async () => {
  for (const t of terminals.splice(0)) t.kill();
});

describe("fleet new-tenant at a terminal", () => {
  it(
    "asks every answer, re-asks on the spot each one the rules refuse, writes the tenant from what was typed and prints the same run as one command",
    async () => {
      const repo = await initRepo();
      const fresh = await initRepo();
      const url = "https://github.com/acme/team-x-config";
      const term = new Terminal(repo, ["new-tenant"]);
      terminals.push(term);

      // Tenant name: one the repo has is refused as soon as it is typed, with the rule and the fix.
      await term.waitFor(prompt("Tenant name (its namespace)"));
      term.type("team-payments" + KEY.enter);
      await term.waitFor(/>> tenant 'team-payments' already exists in tenants\/base\/team-payments\/.*; choose another name/);
      // Upper case is not a namespace; the prompt says why and asks again.
      term.type(KEY.clearLine + "Team-X" + KEY.enter);
      await term.waitFor(/>> must be a DNS-1035 label: lower-case letters/);
      term.type(KEY.clearLine + "team-x" + KEY.enter);

      // Git URL: the scp form is refused (Flux cannot use it), an https:// URL is taken.
      await term.waitFor(prompt("Git URL of the tenant's config repository (https://... or ssh://git@...)"));
      term.type("git@github.com:acme/x" + KEY.enter);
      await term.waitFor(/>> must be an https:\/\/ or ssh:\/\/ URL; Flux does not accept the scp form/);
      term.type(KEY.clearLine + url + KEY.enter);

      // Defaults from fleet.yaml: Enter keeps them.
      await term.waitFor(/\? Branch to reconcile \(main\)/);
      term.type(KEY.enter);
      await term.waitFor(/\? Path in the tenant's repository; each environment reads <path>\/<env> \(\.\/deploy\)/);
      term.type(KEY.enter);

      // Environments: both start checked. Uncheck both, see Enter refused, then keep prod only.
      await term.waitFor(prompt("Environments to onboard into (Press <space> to select"));
      await term.waitFor(/❯\s*◉ staging\s+◉ prod/);
      term.type(KEY.space);
      await term.waitFor(/❯\s*◯ staging\s+◉ prod/);
      term.type(KEY.down);
      await term.waitFor(/◯ staging\s+❯\s*◉ prod/);
      term.type(KEY.space);
      await term.waitFor(/◯ staging\s+❯\s*◯ prod/);
      term.type(KEY.enter);
      await term.waitFor(/>> must name at least one environment/);
      term.type(KEY.space);
      await term.waitFor(/◯ staging\s+❯\s*◉ prod/);
      term.type(KEY.enter);
      await term.waitFor(/\? Environments to onboard into prod\s*\r?\n/);

      // cluster-admin is refused at its prompt (only the --allow-cluster-admin flag forces it).
      await term.waitFor(/\? ClusterRole bound in the tenant namespace \(admin\)/);
      term.type("cluster-admin" + KEY.enter);
      await term.waitFor(/>> cluster-admin gives the tenant's reconciler every power in its namespace.*; use admin, edit or a narrower role/);
      term.type(KEY.clearLine + KEY.enter);
      await term.waitFor(/\? ClusterRole bound in the tenant namespace admin\s*\r?\n/);
      // A typed value replaces the default.
      await term.waitFor(/\? How often Flux polls the tenant's repository \(1m\)/);
      term.type("2m" + KEY.enter);
      await term.waitFor(prompt("Quota overrides (empty: the environment's defaults)"));
      term.type(KEY.enter);
      // A list: enter takes the default (fleet.yaml's tenantDefaults.podSecurity).
      await term.waitFor(/\? Pod Security Standard the tenant's namespace enforces/);
      term.type(KEY.enter);

      await term.waitFor(/fleet new-tenant: \d+ files changed/);
      const { exitCode } = await term.exit();
      expect(exitCode, term.screen.slice(-2000)).toBe(0);

      // Last, the run as one command for a runbook: what was typed that differs from the
      // defaults, and --yes. Split by a real shell and run on a fresh copy of the repo, it
      // writes the same bytes.
      const equivalent = /The same run without prompts, for runbooks:\r?\n {2}(fleet .*)\r?\n$/.exec(term.screen)?.[1];
      expect(equivalent, term.screen.slice(-1000)).toBe(`fleet new-tenant team-x --url ${url} --env prod --interval 2m --yes`);
      const words = (await run("sh", ["-c", `printf '%s\\0' ${equivalent}`])).stdout.split("\0").slice(1, -1);
      const again = await fleet(words, { cwd: fresh });
      expect(again.code, again.stderr).toBe(0);
      expect(snapshot(fresh)).toEqual(snapshot(repo));
      // cluster-admin is never asked: it is a deliberate flag, not a prompt.
      expect(term.screen).not.toMatch(/cluster-admin anyway/);

      // The base holds the tenant's source with what was typed (and nothing that was refused).
      expect(fs.existsSync(path.join(repo, "tenants/base/Team-X"))).toBe(false);
      const docs = parseAllDocuments(read(repo, "tenants/base/team-x/sync.yaml")).map((d) => d.toJS());
      const source = docs.find((d) => d?.kind === "GitRepository");
      expect(source?.metadata).toMatchObject({ name: "team-x", namespace: "team-x" });
      expect(source?.spec).toMatchObject({ url, interval: "2m", ref: { branch: "main" } });
      for (const file of Object.keys(snapshot(repo)))
        expect(read(repo, file), file).not.toContain("git@github.com:acme/x");

      // Only the environment left checked references the tenant.
      expect(read(repo, "tenants/prod/kustomization.yaml")).toMatch(/^\s+- team-x\.yaml$/m);
      expect(read(repo, "tenants/staging/kustomization.yaml")).not.toContain("team-x");
      expect(fs.existsSync(path.join(repo, "tenants/staging/team-x"))).toBe(false);

      // The prod unit really builds with the typed source in it.
      const built = await kustomize(path.join(repo, "tenants/prod/team-x"));
      const prodSource = built.find((o) => o.kind === "GitRepository" && o.metadata.name === "team-x");
      expect(prodSource?.metadata.namespace).toBe("team-x");
      expect(prodSource?.spec?.url).toBe(url);
      const prodSync = built.find((o) => o.kind === "Kustomization" && o.metadata.name === "team-x");
      expect(prodSync?.spec?.path).toBe("./deploy/prod");

      // No team is asked for: the platform team owns the tenant's base.
      expect(term.screen).not.toMatch(/Owning team/);
      expect(read(repo, ".github/CODEOWNERS")).not.toContain("team-x");
      // The command's lock is released.
      expect(fs.existsSync(path.join(repo, ".fleet.lock"))).toBe(false);
    },
    90_000,
  );
});

describe("Ctrl-C at a prompt", () => {
  it("exits 130 with one line, shows the cursor the list prompt hid, and writes nothing", async () => {
    const repo = await initRepo();
    const before = snapshot(repo);
    const term = new Terminal(repo, ["new-cluster"]);
    terminals.push(term);

    await term.waitFor(prompt("Cluster name"));
    term.type("edge" + KEY.enter);
    // A list prompt hides the cursor while it is drawn.
    await term.waitFor(/\? Environment the cluster runs[^\n]*\r?\n❯ staging/);
    expect(term.bytes).toContain("\x1b[?25l");
    const drawn = term.bytes.length;
    term.type("\x03");

    const { exitCode } = await term.exit();
    expect(exitCode, term.screen.slice(-1000)).toBe(130);
    const after = term.bytes.slice(drawn);
    expect(after).toContain("\x1b[?25h");
    expect(strip(after).split(/\r?\n/).filter((l) => l.trim() !== "")).toEqual(["fleet: interrupted at a prompt; nothing was written"]);
    expect(snapshot(repo)).toEqual(before);
  }, 60_000);
});

describe("fleet remove-tenant at a terminal", () => {
  it("offers the repo's tenants and asks before removing; no writes nothing", async () => {
    const repo = await initRepo();
    const before = snapshot(repo);
    const term = new Terminal(repo, ["remove-tenant"]);
    terminals.push(term);

    await term.waitFor(/\? Tenant to remove[^\n]*\r?\n❯ team-payments\s+team-search/);
    term.type(KEY.down + KEY.enter);
    await term.waitFor(/\? Remove the sync \(step 1 of 2\) of tenant 'team-search'\? \(deletes 3 files, updates 3 files\) \(y\/N\)/);
    term.type("n" + KEY.enter);

    const { exitCode } = await term.exit();
    expect(exitCode, term.screen.slice(-1000)).toBe(2);
    expect(term.screen).toMatch(/fleet: fleet remove-tenant: not confirmed; nothing was written\r?\n {2}fix: run it again and answer y, or pass --yes/);
    expect(snapshot(repo)).toEqual(before);
  }, 60_000);
});

describe("the equivalent command", () => {
  it("quotes each answer so a POSIX shell reads it back unchanged", async () => {
    const values = [">=1.4.0 <2.0.0", "it's", "", "$HOME", "a\\b", "prod.cpu=8,pods=50", "~/x", "!x"];
    const line = values.map(shellWord).join(" ");
    const r = await run("sh", ["-c", `printf '%s\\0' ${line}`]);
    expect(r.stdout.split("\0").slice(0, -1)).toEqual(values);
  });
});

describe("fleet new-tenant without a terminal", () => {
  it("fails with exit code 2 and one error listing every missing required answer, writing nothing", async () => {
    const repo = await initRepo();
    const before = snapshot(repo);

    const r = await fleet(["new-tenant"], { cwd: repo, spawn: true });

    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).not.toMatch(/internal error/);
    // One error, not the first of several runs: a single heading, then every missing field.
    expect(r.stderr.match(/^fleet:/gm)).toHaveLength(1);
    expect(r.stderr).toMatch(/^fleet: missing answers for new-tenant .*pass them as flags:$/m);
    const listed = [...r.stderr.matchAll(/^ {2}- (<[a-z-]+>|--[a-z-]+): /gm)].map((m) => m[1]);
    expect(new Set(listed).size).toBe(listed.length);
    expect(listed).toEqual(expect.arrayContaining(["<name>", "--url"]));
    expect(r.stderr).toMatch(/^ {2}- <name>: is required: Tenant name/m);
    expect(r.stderr).toMatch(/^ {2}- --url: is required: Git URL .*https:\/\/\.\.\. or ssh:\/\/git@\.\.\./m);
    // Answers with a default from fleet.yaml are not demanded.
    for (const flag of ["--branch", "--path", "--env", "--role", "--interval", "--quota", "--allow-cluster-admin"])
      expect(listed).not.toContain(flag);

    expect(snapshot(repo)).toEqual(before);
  });
});
