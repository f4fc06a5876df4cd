/**
 * What the proof before write builds and checks for a change to tenants (new-tenant,
 * remove-tenant, new-env): the environment overlays the change touches, and every tenant with
 * its namespace and the files that are its. Derived from the tree, staged and on disk, so a
 * tenant being removed and one being added are both known.
 */
import { ChangeSet } from "../src/changeset/changeset.js";
import type { ProofPlan, ProofTenant } from "../src/changeset/proof.js";
import type { Context } from "../src/core/generator.js";
import { detectEnvironments, entryTarget, listTenants, readTenantSync, TENANTS_BASE } from "../src/core/repo.js";
import { listValues } from "../src/core/yaml-edit.js";

/** `changed`: the tenants the change adds, edits or removes; "all" when a whole overlay is new. */
export function tenantProof(ctx: Context, changed: string[] | "all"): ProofPlan {
  const staged = ctx.cs;
  const disk = new ChangeSet(staged.root);
  const touched = staged
    .changes()
    .filter((c) => c.kind !== "unchanged")
    .map((c) => c.path);
  const envs = [...new Set([...detectEnvironments(staged), ...detectEnvironments(disk)])].sort();
  // An overlay is touched when a file in it changes, or a directory it lists does (a tenant's base).
  const overlays = envs
    .map((env) => `tenants/${env}`)
    .filter((dir) => {
      if (touched.some((p) => p.startsWith(`${dir}/`))) return true;
      const listed = [staged, disk].flatMap((cs) => {
        const text = cs.read(`${dir}/kustomization.yaml`);
        return text === undefined ? [] : listValues(`${dir}/kustomization.yaml`, text, "resources");
      });
      return listed.some((e) => typeof e === "string" && touched.some((p) => p.startsWith(`${entryTarget(dir, e)}/`)));
    });

  const names = [...new Set([...listTenants(staged), ...listTenants(disk)])].sort();
  const known = new Set(names);
  const owns = new Map<string, string[]>(names.map((t) => [t, [`${TENANTS_BASE}/${t}`]]));
  // `<t>-*.yaml` in an overlay is t's; team-a-patch.yaml is team-a's, not team's: the longest name wins.
  for (const env of envs) {
    const dir = `tenants/${env}`;
    const files = new Set([...staged.list(dir).files, ...disk.list(dir).files]);
    for (const f of files) {
      if (!/\.ya?ml$/.test(f)) continue;
      let owner: string | undefined;
      for (let i = f.indexOf("-"); i !== -1; i = f.indexOf("-", i + 1)) if (known.has(f.slice(0, i))) owner = f.slice(0, i);
      if (owner) owns.get(owner)!.push(`${dir}/${f}`);
    }
  }
  const tenants: ProofTenant[] = names.map((name) => ({
    name,
    namespace: readTenantSync(staged.exists(`${TENANTS_BASE}/${name}/kustomization.yaml`) ? staged : disk, name).namespace,
    owns: owns.get(name)!,
  }));
  return { overlays, changed: changed === "all" ? names : changed, tenants };
}
