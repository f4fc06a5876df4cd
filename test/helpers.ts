/** Shared test plumbing: the built CLI, temporary repos, real kustomize builds, tree snapshots. */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { parse, parseAllDocuments } from "yaml";
import { expect } from "vitest";

export const ROOT = path.resolve(import.meta.dirname, "..");
export const BIN = path.join(ROOT, "bin", "fleet.js");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run a process to its end without blocking the test worker: a synchronous spawn would stall
 * vitest's worker RPC for as long as the child runs, and under load that is longer than the
 * RPC's 60 s timeout ("Timeout calling onTaskUpdate").
 */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: Record<string, string | undefined>; input?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr }));
  });
}

export interface FleetOptions {
  cwd?: string;
  /** Run in a process of its own with these variables added (tokens, PATH with stand-ins). */
  env?: Record<string, string | undefined>;
  /** Run the built CLI in a process of its own, as a user would (exit status, streams, signals). */
  spawn?: boolean;
}

/**
 * Run fleet with no terminal. In this worker, through the CLI's own entry point (main: argument
 * parsing, the command, output, exit codes), which is the same code at a fraction of a process's
 * start-up; in a process of its own where a process matters (environment, signals, locks).
 */
export async function fleet(args: string[], opts: FleetOptions = {}): Promise<Run> {
  if (opts.spawn || opts.env) return run(process.execPath, [BIN, ...args], opts);
  const { main } = await import("../src/cli/main.js");
  let stdout = "";
  let stderr = "";
  const line = (s: string) => (s.endsWith("\n") ? s : `${s}\n`);
  const code = await main(args, { out: (s) => (stdout += line(s)), err: (s) => (stderr += line(s)), cwd: opts.cwd ?? ROOT, terminal: false });
  return { code, stdout, stderr };
}

const made: string[] = [];
process.on("exit", () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A temporary directory, removed when the test worker exits (and with the run's, global-setup.ts). */
export function tmpDir(prefix = "fleet-test-"): string {
  const dir = fs.mkdtempSync(path.join(process.env.FLEET_TEST_TMP ?? os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** One `fleet init` per set of arguments per worker; each test gets its own copy of it. */
const inited = new Map<string, Promise<string>>();

/**
 * What the tests' repos are made with: real-looking coordinates given as flags (not the demo's
 * placeholders, which bootstrap refuses), and the two example tenants.
 */
export const INIT_ARGS = ["--owner", "acme", "--repository", "fleet-infra", "--examples"];

/** A fresh repo, as `fleet init --yes` with INIT_ARGS writes it, in a temporary directory. */
export async function initRepo(extra: string[] = []): Promise<string> {
  const key = JSON.stringify(extra);
  let template = inited.get(key);
  if (!template) {
    template = (async () => {
      const dir = path.join(tmpDir(), "fleet-infra");
      const r = await fleet(["init", dir, "--yes", ...INIT_ARGS, ...extra]);
      if (r.code !== 0) throw new Error(`fleet init failed: ${r.stderr}`);
      return dir;
    })();
    inited.set(key, template);
  }
  const dir = path.join(tmpDir(), "fleet-infra");
  fs.cpSync(await template, dir, { recursive: true });
  return dir;
}

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, any>;
  roleRef?: { kind: string; name: string };
  subjects?: Array<{ kind: string; name: string; namespace?: string }>;
}

/**
 * Build a kustomization with the real `kubectl kustomize` and parse what it emits. `asFlux`:
 * without kustomize's load restrictions, as kustomize-controller builds (a file outside the
 * kustomization's directory may be listed).
 */
export async function kustomize(dir: string, opts: { asFlux?: boolean } = {}): Promise<K8sObject[]> {
  const key = inputsKey(dir, opts.asFlux === true);
  let out = key === undefined ? undefined : built.get(key);
  if (out === undefined) {
    const r = await run("kubectl", ["kustomize", ...(opts.asFlux ? ["--load-restrictor", "LoadRestrictionsNone"] : []), dir]).catch((e: Error) => {
      throw new Error(`kubectl is needed for this test: ${e.message}`);
    });
    if (r.code !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${r.stderr}`);
    out = r.stdout;
    if (key !== undefined) built.set(key, out);
  }
  return parseAllDocuments(out).map((d: any) => d.toJS()).filter(Boolean) as K8sObject[];
}

/**
 * What kubectl printed for a kustomization whose inputs were exactly these, in this worker. Tests
 * build copies of the same few repos again and again (every unchanged overlay of a fresh repo);
 * a build of the same bytes gives the same output, so it runs once.
 */
const built = new Map<string, string>();

/** Kustomization fields whose only inputs are the kustomization's own text and the files its entries name. */
const SELF_CONTAINED = new Set([
  "apiVersion", "kind", "resources", "components", "patches", "patchesStrategicMerge", "namespace", "namePrefix",
  "nameSuffix", "commonLabels", "labels", "commonAnnotations", "images", "replicas",
]);

/**
 * Every byte a build of `dir` reads, as one key (paths relative to `dir`): the kustomization of
 * each directory reached and every file its entries name. Undefined, and so built every time,
 * for anything it cannot follow for sure: another field (generators, replacements), a remote or
 * missing entry, a kustomization that does not parse.
 */
function inputsKey(dir: string, asFlux: boolean): string | undefined {
  const hash = createHash("sha256").update(asFlux ? "flux\0" : "plain\0");
  const seen = new Set<string>();
  const file = (p: string) => hash.update(`${path.relative(dir, p)}\0`).update(fs.readFileSync(p)).update("\0");
  const visit = (d: string): boolean => {
    const real = fs.realpathSync(d);
    if (seen.has(real)) return true;
    seen.add(real);
    const names = ["kustomization.yaml", "kustomization.yml", "Kustomization"].filter((n) => fs.existsSync(path.join(d, n)));
    if (names.length !== 1) return false;
    const k = path.join(d, names[0]!);
    file(k);
    let doc: unknown;
    try {
      doc = parse(fs.readFileSync(k, "utf8"));
    } catch {
      return false;
    }
    if (!doc || typeof doc !== "object" || Array.isArray(doc)) return false;
    const fields = doc as Record<string, unknown>;
    if (Object.keys(fields).some((f) => !SELF_CONTAINED.has(f))) return false;
    const list = (f: string) => (fields[f] === undefined ? [] : Array.isArray(fields[f]) ? (fields[f] as unknown[]) : [undefined]);
    const entries = [
      ...list("resources"),
      ...list("components"),
      ...list("patchesStrategicMerge"),
      ...list("patches").map((p) => (p && typeof p === "object" && "path" in p ? (p as { path: unknown }).path : typeof p === "object" && p !== null ? null : undefined)),
    ];
    for (const e of entries) {
      if (e === null) continue; // an inline patch: its text is the kustomization's
      if (typeof e !== "string" || e.includes("://") || e.includes("\n")) return false;
      const p = path.resolve(d, e);
      let st: fs.Stats;
      try {
        st = fs.statSync(p);
      } catch {
        return false;
      }
      if (st.isDirectory()) {
        if (!visit(p)) return false;
      } else file(p);
    }
    return true;
  };
  try {
    return visit(dir) ? hash.digest("hex") : undefined;
  } catch {
    return undefined;
  }
}

/** Every kustomization directory below infrastructure/ and tenants/. */
export function overlays(repo: string): string[] {
  const out: string[] = [];
  for (const top of ["infrastructure", "tenants"]) {
    const walk = (dir: string) => {
      if (!fs.existsSync(dir)) return;
      if (fs.existsSync(path.join(dir, "kustomization.yaml"))) out.push(dir);
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(dir, e.name));
    };
    walk(path.join(repo, top));
  }
  return out.sort();
}

/** Build every overlay; returns the objects of each, by repo-relative directory. */
export async function buildAll(repo: string): Promise<Map<string, K8sObject[]>> {
  const dirs = overlays(repo);
  const objects = await Promise.all(dirs.map((dir) => kustomize(dir)));
  return new Map(dirs.map((dir, i) => [path.relative(repo, dir), objects[i]!]));
}

/** Path -> content of every file (or link) below dir, for byte-for-byte comparisons. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      // A link is recorded as a link: a snapshot never reads through one out of `dir`.
      if (e.isSymbolicLink()) out[path.relative(dir, p)] = `symbolic link -> ${fs.readlinkSync(p)}`;
      else if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p, "utf8");
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

export const read = (repo: string, file: string) => fs.readFileSync(path.join(repo, file), "utf8");
export const write = (repo: string, file: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
  fs.writeFileSync(path.join(repo, file), text);
};

const CONTROLLERS = ["source-controller", "kustomize-controller", "helm-controller", "notification-controller", "image-reflector-controller", "image-automation-controller"];

/**
 * What flux bootstrap would commit into clusters/<cluster>/flux-system next to fleet's lockdown:
 * the controllers' Deployments (with the header that names the version) and the flux-system sync.
 * No cluster and no flux CLI here, so tests write this stand-in.
 */
export function bootstrapStandIn(repo: string, cluster: string, version = "v2.7.4"): void {
  write(
    repo,
    `clusters/${cluster}/flux-system/gotk-components.yaml`,
    `---\n# This manifest was generated by flux. DO NOT EDIT.\n# Flux Version: ${version}\n# Components: ${CONTROLLERS.join(",")}\n` +
      CONTROLLERS.map(
        (c) => `---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${c}\n  namespace: flux-system\nspec:\n  template:\n    spec:\n      containers:\n        - name: manager\n          args:\n            - --log-level=info\n`,
      ).join(""),
  );
  write(
    repo,
    `clusters/${cluster}/flux-system/gotk-sync.yaml`,
    `apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m\n  url: ssh://git@github.com/acme/fleet-infra\n  ref:\n    branch: main\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./clusters/${cluster}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n`,
  );
}

/** Commit everything and push it to a bare origin (created on first use), as a team does before bootstrapping. */
export async function pushAll(repo: string): Promise<void> {
  const git = async (cwd: string, ...args: string[]) => {
    const r = await run("git", args, { cwd });
    if (r.code !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
  };
  if (!fs.existsSync(path.join(repo, ".git"))) {
    const remote = path.join(tmpDir("fleet-remote-"), "fleet-infra.git");
    await git(path.dirname(remote), "init", "-q", "--bare", remote);
    await git(repo, "init", "-q", "-b", "main");
    await git(repo, "remote", "add", "origin", remote);
  }
  await git(repo, "add", "-A");
  await git(repo, "-c", "user.email=test@example.invalid", "-c", "user.name=test", "commit", "-q", "--allow-empty", "-m", "test");
  await git(repo, "push", "-q", "-u", "origin", "main");
}

/** The token appears nowhere: not in the output, not in a file of the repo, not in any recorded argv. */
export function expectNoLeak(token: string, repo: string, argvs: string[][], r: { stdout: string; stderr: string }): void {
  expect(r.stdout + r.stderr).not.toContain(token);
  for (const [file, text] of Object.entries(snapshot(repo))) if (!file.startsWith(".git/")) expect(text, file).not.toContain(token);
  for (const argv of argvs) expect(argv.join(" ")).not.toContain(token);
}
