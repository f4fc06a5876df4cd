/** fleet validate: walk every cluster, run the checks, prove isolation. */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { bootstrappedVersion, DEFAULT_FLUX_VERSION, isKnownRelease } from "../core/flux.js";
import { Builder } from "./build.js";
import { CHECKS, type CheckContext, isTenantApplier, tenantNamespacesOf } from "./checks.js";
import { walkCluster } from "./discover.js";
import { type Applied, type ClusterResult, type Finding, ref } from "./model.js";
import { RbacModel } from "./rbac.js";

export class NoClusters extends Error {}

export interface ValidateOptions {
  root: string;
  cluster?: string;
  /** `namespace/name` of a source -> local directory holding its content. */
  sources: Map<string, string>;
}

export interface ValidatedCluster extends ClusterResult {
  rbac: RbacModel;
  tenants: CheckContext["tenants"];
  tenantNamespaces: string[];
}

export function listClusterDirs(root: string): string[] {
  const dir = path.join(root, "clusters");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith("."))
    .map((e) => e.name)
    .sort();
}

/** The pin: fleet.yaml's, else what the cluster was bootstrapped with, else fleet's default. */
function pinFor(root: string, cluster: string): string {
  try {
    const v = (parse(fs.readFileSync(path.join(root, "fleet.yaml"), "utf8")) as { flux?: { version?: string } } | null)?.flux?.version;
    if (v && isKnownRelease(v)) return v;
  } catch {
    // No fleet.yaml (any Flux repo), or one validate need not understand.
  }
  try {
    const v = bootstrappedVersion(fs.readFileSync(path.join(root, "clusters", cluster, "flux-system", "gotk-components.yaml"), "utf8"));
    if (v && isKnownRelease(v)) return v;
  } catch {
    // Not bootstrapped yet.
  }
  return DEFAULT_FLUX_VERSION;
}

/** Whether kustomize-controller runs with --default-service-account: from its Deployment, else the lockdown file. */
function defaultSaFlag(root: string, cluster: string, objects: Applied[]): boolean {
  const dep = objects.find((a) => a.obj.kind === "Deployment" && a.obj.metadata?.name === "kustomize-controller");
  const args = dep?.obj.spec?.template?.spec?.containers?.[0]?.args as string[] | undefined;
  if (args) return args.some((x) => x.startsWith("--default-service-account="));
  try {
    return fs.readFileSync(path.join(root, "clusters", cluster, "flux-system", "kustomization.yaml"), "utf8").includes("--default-service-account=");
  } catch {
    return false;
  }
}

export async function validateCluster(opts: ValidateOptions, cluster: string, builder = new Builder()): Promise<ValidatedCluster> {
  const pin = pinFor(opts.root, cluster);
  const walked = await walkCluster({ root: opts.root, cluster, sources: opts.sources, builder });
  const objects = walked.objects;
  const rbac = new RbacModel(objects);
  const saFlag = defaultSaFlag(opts.root, cluster, objects);
  const tenantNamespaces = tenantNamespacesOf(objects);
  const tenants = objects
    .filter((a) => isTenantApplier(a, tenantNamespaces))
    .map((applier) => {
      const ns = applier.obj.metadata?.namespace ?? "default";
      const sa = (applier.obj.spec?.serviceAccountName as string | undefined) ?? (saFlag ? "default" : undefined);
      return { applier, id: sa ? { namespace: ns, name: sa } : undefined };
    })
    .filter((t, i, all) => all.findIndex((u) => u.id?.namespace === t.id?.namespace && u.id?.name === t.id?.name && !!u.id === !!t.id) === i);
  const ctx: CheckContext = { cluster, pin, walked, objects, rbac, tenants, defaultSaFlag: saFlag, tenantNamespaces, tenantNamespaceSet: new Set(tenantNamespaces) };
  const findings: Finding[] = [];
  for (const check of CHECKS)
    for (const hit of check.run(ctx))
      findings.push({
        id: check.id,
        severity: hit.severity ?? check.severity,
        cluster,
        object: ref(hit.at.obj),
        file: hit.at.file,
        message: hit.message,
        fix: check.fix,
      });
  findings.sort((a, b) => (a.severity === b.severity ? a.id.localeCompare(b.id) : a.severity === "error" ? -1 : 1));
  return { name: cluster, pin, objects, notChecked: walked.notChecked, findings, rbac, tenants, tenantNamespaces };
}

export async function validateRepo(opts: ValidateOptions): Promise<ValidatedCluster[]> {
  const all = listClusterDirs(opts.root);
  if (all.length === 0) throw new NoClusters(`no clusters/<name>/ directory in ${opts.root}`);
  const names = opts.cluster ? all.filter((c) => c === opts.cluster) : all;
  if (names.length === 0) throw new NoClusters(`no cluster '${opts.cluster}' in ${path.join(opts.root, "clusters")} (there are: ${all.join(", ")})`);
  const builder = new Builder();
  return Promise.all(names.map((c) => validateCluster(opts, c, builder)));
}
