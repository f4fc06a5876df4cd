/**
 * Building large fleets for the benchmarks, in-process from the compiled modules in dist/.
 */
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "dist");

/**
 * Add tenants in-process: the new-tenant generator's own answers (flags `<name> --url URL`,
 * defaults for the rest, its validation and checks) and its own actions, staged into one change
 * set, applied once. The only shortcut: each overlay's kustomization edits are merged into one
 * action (the same list insertions, in the same order, on one parsed document instead of one
 * parse and serialisation per tenant). The result is checked against the CLI before use.
 */
export async function addTenantsInProcess(repo, names) {
  const load = (p) => import(pathToFileURL(path.join(DIST, p)).href);
  const { repoContext } = await load("src/core/context.js");
  const { resolveAnswers } = await load("src/core/run-generator.js");
  const { stageAction } = await load("src/core/actions.js");
  const newTenant = (await load("generators/new-tenant.js")).default;

  const ctx = repoContext(repo);
  // Answers are checked against the repo as it is: the names are distinct, and a check that
  // reads the whole repo (the namespace scan) would otherwise read every tenant staged before.
  const asIs = repoContext(repo);
  const merged = new Map();
  for (const name of names) {
    if (ctx.tenants.includes(name)) throw new Error(`setup: tenant ${name} already exists in ${repo}`);
    const answers = await resolveAnswers(newTenant, asIs, { name, url: `https://github.com/acme/${name}-config` }, undefined);
    for (const a of newTenant.actions(answers, ctx)) {
      const addOnly = a.type === "fleet:kustomization" && !a.removeResources?.length && !a.removePatches?.length;
      if (!addOnly) {
        stageAction(ctx.cs, a);
        continue;
      }
      const m = merged.get(a.path) ?? { ...a, addResources: [], addPatches: [] };
      m.addResources.push(...(a.addResources ?? []));
      m.addPatches.push(...(a.addPatches ?? []));
      merged.set(a.path, m);
    }
    ctx.tenants.push(name);
  }
  for (const a of merged.values()) stageAction(ctx.cs, a);
  await ctx.cs.apply();
}

/**
 * For a repo fleet init just wrote (per-tenant units): each environment's units become the
 * flat layout adopted repos keep (design section 2), the seed's layout: the overlay lists every
 * `../base/<t>`, then every `<t>-quota.yaml`, then patch `<t>-patch.yaml`, each sorted (the
 * tests' flat repos are made by this too).
 * new-tenant reads the layout from the tree, so tenants added afterwards are written flat too.
 */
export async function toFlat(repo, envs) {
  const fs = await import("node:fs");
  for (const env of envs) {
    const dir = path.join(repo, "tenants", env);
    const tenants = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    for (const t of tenants) {
      fs.renameSync(path.join(dir, t, "patch.yaml"), path.join(dir, `${t}-patch.yaml`));
      fs.renameSync(path.join(dir, t, "quota.yaml"), path.join(dir, `${t}-quota.yaml`));
      fs.rmSync(path.join(dir, t), { recursive: true });
      fs.rmSync(path.join(dir, `${t}.yaml`));
    }
    const list = (f) => tenants.map((t) => `  - ${f(t)}\n`).join("");
    fs.writeFileSync(
      path.join(dir, "kustomization.yaml"),
      "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n" +
        (tenants.length ? `resources:\n${list((t) => `../base/${t}`)}${list((t) => `${t}-quota.yaml`)}patches:\n${list((t) => `path: ${t}-patch.yaml`)}` : "resources: []\n"),
    );
  }
}
