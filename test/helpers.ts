/** Shared test plumbing: the built CLI, temporary repos, real kustomize builds, tree snapshots. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAllDocuments } from "yaml";

export const ROOT = path.resolve(import.meta.dirname, "..");
export const BIN = path.join(ROOT, "bin", "fleet.js");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the built CLI as a user would, with no TTY. */
export function fleet(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const made: string[] = [];
process.on("exit", () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** A temporary directory, removed when the test worker exits. */
export function tmpDir(prefix = "fleet-test-"): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** A fresh demo repo from `fleet init --yes` in a temporary directory. */
export function initRepo(extra: string[] = []): string {
  const dir = path.join(tmpDir(), "fleet-infra");
  const r = fleet(["init", dir, "--yes", ...extra]);
  if (r.code !== 0) throw new Error(`fleet init failed: ${r.stderr}`);
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

/** Build a kustomization with the real `kubectl kustomize` and parse what it emits. */
export function kustomize(dir: string): K8sObject[] {
  const r = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8" });
  if (r.error) throw new Error(`kubectl is needed for this test: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d: any) => d.toJS()).filter(Boolean) as K8sObject[];
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

/** Build every overlay; returns the objects of each environment's tenants overlay. */
export function buildAll(repo: string): Map<string, K8sObject[]> {
  const built = new Map<string, K8sObject[]>();
  for (const dir of overlays(repo)) built.set(path.relative(repo, dir), kustomize(dir));
  return built;
}

/** Path -> content of every file below dir, for byte-for-byte comparisons. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
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
