#!/usr/bin/env node
/**
 * The validate benchmark (part of `npm run bench`): it measures and prints, it asserts nothing.
 *
 *   validate    `fleet validate` on a fleet of 1,000 tenants, 3 environments and 6 clusters,
 *               against the bare `kubectl kustomize` of the same paths run one after another
 *               (each cluster's entrypoint, infrastructure/<env> and tenants/<env>)   target <= 1.0x
 *   growth      the same at 250 and 500 tenants, to show the cost grows linearly
 *
 * Repos: `fleet init` with staging, qa and prod; tenants added in-process (bench/fleet-builder.js);
 * two clusters per environment with `fleet new-cluster`; the bootstrap's gotk files written as
 * stand-ins (the controllers' Deployments and the flux-system sync). Medians of BENCH_REPS runs
 * (default 3; 1 at 1,000 tenants, where kustomize alone takes minutes) after a warm-up.
 *
 * BENCH_SIZES=250,500,1000 chooses the fleet sizes (the growth line needs three).
 *
 * kustomize's own build time grows faster than linearly with the tenants in one overlay (each
 * tenant adds a patch), so the totals do too; what the growth line shows is that validate's share
 * (the ratio to the bare builds) stays flat or falls: fleet's own checks add linear cost.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { addTenantsInProcess } from "./fleet-builder.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BIN = path.join(ROOT, "bin", "fleet.js");
const REPS = Math.max(1, Number(process.env.BENCH_REPS ?? 3) || 3);
const ENVS = ["staging", "qa", "prod"];
const SIZES = (process.env.BENCH_SIZES ?? "250,500,1000").split(",").map(Number);
const log = (s = "") => process.stdout.write(`${s}\n`);
const CONTROLLERS = ["source-controller", "kustomize-controller", "helm-controller", "notification-controller", "image-reflector-controller", "image-automation-controller"];

function sh(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 30 });
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
  const r = sh(process.execPath, [BIN, "init", dir, "--yes", "--env", ENVS.join(",")], ROOT);
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

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fleet-bench-validate-"));
  try {
    log(`fleet validate on fleets of ${SIZES.join(", ")} tenants, ${ENVS.length} environments, 6 clusters (${os.availableParallelism()} cores, ${REPS} runs each)`);
    log("");
    log("tenants   fleet validate   sequential kubectl kustomize   ratio    per tenant");
    const rows = [];
    for (const size of SIZES) {
      const dir = path.join(tmp, `fleet-${size}`);
      const clusters = await buildFleet(dir, size);
      const paths = clusters.flatMap((c) => [`clusters/${c.name}`, `infrastructure/${c.env}`, `tenants/${c.env}`]);
      const check = sh(process.execPath, [BIN, "validate", "--json"], dir);
      if (check.status !== 0) throw new Error(`setup: the ${size}-tenant fleet does not validate clean (exit ${check.status}): ${check.stderr || check.stdout.slice(0, 2000)}`);
      const bare = () => {
        for (const p of paths) if (sh("kubectl", ["kustomize", p], dir).status !== 0) throw new Error(`kubectl kustomize ${p} failed`);
      };
      const fleetRun = () => sh(process.execPath, [BIN, "validate"], dir);
      if (size < 1000) {
        bare();
        fleetRun();
      }
      const b = [];
      const f = [];
      const reps = process.env.BENCH_REPS || size < 1000 ? REPS : 1;
      for (let i = 0; i < reps; i++) {
        b.push(timed(bare));
        f.push(timed(fleetRun));
      }
      const row = { size, fleet: median(f), bare: median(b) };
      rows.push(row);
      log(
        `${String(size).padStart(7)}   ${`${Math.round(row.fleet)} ms`.padStart(14)}   ${`${Math.round(row.bare)} ms`.padStart(28)}   ${(row.fleet / row.bare).toFixed(2).padStart(5)}x   ${(row.fleet / size).toFixed(2)} ms`,
      );
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const last = rows[rows.length - 1];
    log("");
    log(`validate: ${last.size.toLocaleString("en-US")} tenants ${Math.round(last.fleet)} ms vs sequential kubectl kustomize ${Math.round(last.bare)} ms = ${(last.fleet / last.bare).toFixed(2)}x (target <= 1.0x) ${last.fleet / last.bare <= 1 ? "met" : "NOT MET"}`);
    if (rows.length < 3) return;
    const [a, , c] = rows;
    log(
      `growth: ${a.size} -> ${c.size} tenants (${c.size / a.size}x): fleet validate ${(c.fleet / a.fleet).toFixed(2)}x, the bare builds ${(c.bare / a.bare).toFixed(2)}x; ` +
        `validate's share of the bare build time went ${(a.fleet / a.bare).toFixed(2)}x -> ${(c.fleet / c.bare).toFixed(2)}x`,
    );
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
