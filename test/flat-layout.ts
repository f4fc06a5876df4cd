/**
 * A repo in the seed's flat layout, for tests of commands that must keep working on it and of
 * behaviour written against it: each overlay lists `../base/<t>`, `<t>-quota.yaml` and the patch
 * `<t>-patch.yaml` itself, in the order fleet wrote them (sorted). Made from a fresh demo repo by moving each unit's files up.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { initRepo, write } from "./helpers.js";

export async function flatRepo(extra: string[] = []): Promise<string> {
  const repo = await initRepo(extra);
  const tenantsDir = path.join(repo, "tenants");
  for (const env of fs.readdirSync(tenantsDir).filter((d) => d !== "base")) {
    const dir = path.join(tenantsDir, env);
    const tenants = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    for (const t of tenants) {
      fs.renameSync(path.join(dir, t, "patch.yaml"), path.join(dir, `${t}-patch.yaml`));
      fs.renameSync(path.join(dir, t, "quota.yaml"), path.join(dir, `${t}-quota.yaml`));
      fs.rmSync(path.join(dir, t), { recursive: true });
      fs.rmSync(path.join(dir, `${t}.yaml`));
    }
    write(
      repo,
      `tenants/${env}/kustomization.yaml`,
      "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:" +
        (tenants.length ? "\n" + tenants.map((t) => `  - ../base/${t}\n`).join("") + tenants.map((t) => `  - ${t}-quota.yaml\n`).join("") + "patches:\n" + tenants.map((t) => `  - path: ${t}-patch.yaml\n`).join("") : " []\n"),
    );
  }
  return repo;
}
