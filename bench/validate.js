#!/usr/bin/env node
/**
 * The validate benchmark (part of `npm run bench`): it measures and prints ratios, it asserts
 * nothing. Fleets of BENCH_SIZES tenants (default 250,500,1000), 3 environments, 6 clusters, each
 * built twice: the flat layout (`tenants/<env>/kustomization.yaml` holding every tenant) and the
 * per-tenant layout (design section 2: one Flux Kustomization per tenant and environment).
 *
 *   overlay      `kubectl kustomize tenants/staging`, flat against per-tenant, per size
 *   growth       cold validate (per-tenant layout, empty cache) per doubling of tenants  target <= 2.2x
 *   cold         cold validate at the largest size against the bare sequential kubectl
 *                kustomize of the same flat repo (each cluster's entrypoint,
 *                infrastructure/<env> and tenants/<env>)                                 target <= 0.1x
 *   incremental  validate after changing one tenant's quota, against cold validate       target <= 0.1x
 *
 * Repos: `fleet init` with staging, qa and prod; tenants added in-process (bench/fleet-builder.js);
 * two clusters per environment with `fleet new-cluster`; the bootstrap's gotk files written as
 * stand-ins. fleet writes the per-tenant layout; the flat copy is it rewritten by toFlat. Each
 * cold run gets an empty cache directory of its own (XDG_CACHE_HOME). Medians of BENCH_REPS runs
 * (default 3; 1 at 1,000 tenants and above, where the flat builds alone take minutes).
 *
 * BENCH_SIZES=50,100,200 for a quick run (the growth line needs sizes that double).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { addTenantsInProcess, toFlat } from "./fleet-builder.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BIN = path.join(ROOT, "bin", "fleet.js");
const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 3) || 3);
const ENVS = ["staging", "qa", "prod"];
const SIZES = (process.env.BENCH_SIZES ?? "250,500,1000").split(",").map(Number);
const log = (s = "") => process.stdout.write(`${s}\n`);
const CONTROLLERS = ["source-controller", "kustomize-controller", "helm-controller", "notification-controller", "image-reflector-controller", "image-automation-controller"];

function sh(cmd, args, cwd, env = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 30, env: { ...process.env, ...env } });
  if (r.error) throw r.error;
  return r;
}

function timed(fn) {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function bootstrapStandIn(repo, cluster) {
  const dir = path.join(repo, "clusters", cluster, "flux-system");
  fs.writeFileSync(
    path.join(dir, "gotk-components.yaml"),
    "# Flux Version: v2.7.4\n" +
      CONTROLLERS.map((c) => `---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${c}\n  namespace: flux-system\nspec:\n  template:\n    spec:\n      containers:\n        - name: manager\n          args:\n            - --log-level=info\n`).join(""),
  );
  fs.writeFileSync(
    path.join(dir, "gotk-sync.yaml"),
    `apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m\n  url: ssh://git@github.com/acme/fleet\n  ref:\n    branch: main\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./clusters/${cluster}\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n`,
  );
}

async function buildFleet(dir, tenants) {
  const r = sh(process.execPath, [BIN, "init", dir, "--yes", "--demo", "--env", ENVS.join(",")], ROOT);
  if (r.status !== 0) throw new Error(`setup: fleet init failed: ${r.stderr}`);
  await addTenantsInProcess(dir, Array.from({ length: tenants - 2 }, (_, i) => `tenant-${String(i).padStart(4, "0")}`));
  const clusters = [];
  for (const env of ENVS)
    for (const n of [1, 2]) {
      const c = `${env}-${n}`;
      const nc = sh(process.execPath, [BIN, "new-cluster", c, "--env", env, "--var", `region=r${n}`, "--yes"], dir);
      if (nc.status !== 0) throw new Error(`setup: new-cluster ${c} failed: ${nc.stderr}`);
      bootstrapStandIn(dir, c);
      clusters.push({ name: c, env });
    }
  return clusters;
}

const ms = (x) => `${Math.round(x).toLocaleString("en-US")} ms`;
const ratio = (a, b) => `${(a / b).toFixed(2)}x`;
const verdict = (x, target) => `(target <= ${target}x) ${x <= target ? "met" : "NOT MET"}`;

/** Time `fn` `reps` times (after `prepare`, untimed, each time); the median. */
function measure(reps, fn, prepare = () => {}) {
  const xs = [];
  for (let i = 0; i < reps; i++) {
    prepare(i);
    xs.push(timed(() => fn(i)));
  }
  return median(xs);
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-validate-"));
  try {
    log(`fleet validate on fleets of ${SIZES.join(", ")} tenants, ${ENVS.length} environments, 6 clusters (${os.availableParallelism()} cores)`);
    log("");
    log("tenants   kustomize tenants/staging: flat    per-tenant    ratio   bare flat builds   cold validate   after one change");
    const rows = [];
    const findingIds = new Set();
    for (const size of SIZES) {
      const flat = path.join(tmp, `flat-${size}`);
      const units = path.join(tmp, `units-${size}`);
      const clusters = await buildFleet(units, size);
      fs.cpSync(units, flat, { recursive: true });
      await toFlat(flat, ENVS);
      const paths = clusters.flatMap((c) => [`clusters/${c.name}`, `infrastructure/${c.env}`, `tenants/${c.env}`]);
      const cache = (i) => path.join(tmp, `cache-${size}-${i}`);
      const validate = (env) => {
        const r = sh(process.execPath, [BIN, "validate", "--json"], units, env);
        // Findings are not this benchmark's business (exit 1), builds are: every one must have run.
        const report = r.status === 0 || r.status === 1 ? JSON.parse(r.stdout) : undefined;
        const failed = report?.clusters.flatMap((c) => c.findings.filter((f) => f.id === "build-failed")) ?? [];
        if (!report || failed.length) throw new Error(`setup: validate of the ${size}-tenant per-tenant fleet did not build (exit ${r.status}): ${r.stderr || JSON.stringify(failed).slice(0, 2000)}`);
        for (const c of report.clusters) for (const f of c.findings) findingIds.add(f.id);
      };
      const kustomize = (repo, p) => {
        const r = sh("kubectl", ["kustomize", p], repo);
        if (r.status !== 0) throw new Error(`kubectl kustomize ${p} in ${repo} failed: ${r.stderr}`);
      };
      const reps = process.env.BENCH_REPS ? REPS : size < 1000 ? REPS : 1;
      const row = { size };
      row.overlayFlat = measure(reps, () => kustomize(flat, "tenants/staging"));
      row.overlayUnits = measure(reps, () => kustomize(units, "tenants/staging"));
      row.bare = measure(reps, () => paths.forEach((p) => kustomize(flat, p)));
      row.cold = measure(reps, (i) => validate({ XDG_CACHE_HOME: cache(i) }));
      // One tenant's quota in one environment changes: that unit is built again, nothing else.
      const quota = path.join(units, "tenants", "staging", "tenant-0000", "quota.yaml");
      const original = fs.readFileSync(quota, "utf8");
      row.changed = measure(
        reps,
        (i) => validate({ XDG_CACHE_HOME: cache(i) }),
        (i) => fs.writeFileSync(quota, original.replace(/pods: "\d+"/, `pods: "${40 + i}"`)),
      );
      rows.push(row);
      log(
        `${String(size).padStart(7)}   ${ms(row.overlayFlat).padStart(30)}   ${ms(row.overlayUnits).padStart(10)}   ${ratio(row.overlayUnits, row.overlayFlat).padStart(6)}   ${ms(row.bare).padStart(16)}   ${ms(row.cold).padStart(13)}   ${ms(row.changed).padStart(16)}`,
      );
      fs.rmSync(flat, { recursive: true, force: true });
      fs.rmSync(units, { recursive: true, force: true });
    }
    log("");
    for (let i = 1; i < rows.length; i++) {
      const [a, b] = [rows[i - 1], rows[i]];
      const g = b.cold / a.cold;
      log(`growth: cold validate ${a.size} -> ${b.size} tenants (${(b.size / a.size).toFixed(1)}x): ${g.toFixed(2)}x ${verdict(g, 2.2)}`);
    }
    const last = rows[rows.length - 1];
    log(`cold: validate at ${last.size.toLocaleString("en-US")} tenants (per-tenant layout) ${ms(last.cold)} vs the bare sequential builds of the flat repo ${ms(last.bare)} = ${ratio(last.cold, last.bare)} ${verdict(last.cold / last.bare, 0.1)}`);
    log(`incremental: validate after changing one tenant ${ms(last.changed)} vs cold ${ms(last.cold)} = ${ratio(last.changed, last.cold)} ${verdict(last.changed / last.cold, 0.1)}`);
    if (findingIds.size) log(`note: validate reported findings on the per-tenant fleets (${[...findingIds].sort().join(", ")}); every build ran`);
    log(`overlay: kubectl kustomize tenants/staging at ${last.size.toLocaleString("en-US")} tenants, per-tenant ${ms(last.overlayUnits)} vs flat ${ms(last.overlayFlat)} = ${ratio(last.overlayUnits, last.overlayFlat)}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (e) {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
}
