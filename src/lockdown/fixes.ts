/**
 * The change `fleet lockdown` writes, from the plans of the clusters: nothing but
 * - the platform step: `serviceAccountName` on every applier the plan gives an account (the
 *   controller's own in the Flux namespace, the tenant's reconciler in a tenant namespace), the
 *   sync Kustomization's by a patch beside the others (flux bootstrap rewrites gotk-sync.yaml),
 *   and each tenant namespace's reconciler: a ServiceAccount and a RoleBinding to the role,
 *   written beside the tenant's Namespace and listed where that file is listed;
 * - the flags step: the lockdown flags the controllers lack, as patches in the cluster's
 *   flux-system kustomization (design 4.2), or `cluster.multitenant` on its FluxInstance.
 */
import * as path from "node:path";
import type { ChangeSet } from "../changeset/changeset.js";
import type { FleetAction } from "../core/generator.js";
import { entryFrom, entryTarget, kustomizationIn } from "../model/kustomize.js";
import { parse } from "yaml";
import { listValues, parseYaml } from "../core/yaml-edit.js";
import type { ClusterPlan, LockdownChoices } from "./plan.js";
import { askedOf, CONTROLLERS, targetName } from "../validate/lockdown.js";

export type Stage = "platform" | "flags";

const ARGS = "/spec/template/spec/containers/0/args/-";
const addArg = (flag: string) => `- op: add\n  path: ${ARGS}\n  value: ${flag}\n`;
/** A Deployment target naming these controllers, as the lockdown template writes it. */
const controllersTarget = (names: string[]) => ({ kind: "Deployment", name: names.length === 1 ? names[0]! : `(${names.join("|")})` });

/** The platform step's edits: accounts for the appliers and the tenants' reconcilers. */
function platformActions(cs: ChangeSet, plans: ClusterPlan[], choices: LockdownChoices, flagged: string): FleetAction[] {
  const out: FleetAction[] = [];
  for (const p of plans)
    for (const c of p.appliers) {
      if (!c.account || !c.at.inRepo) continue;
      if (c.via === "patch")
        out.push({
          type: "fleet:yaml-list-add",
          path: p.lockdownFile,
          key: "patches",
          value: { patch: `- op: add\n  path: /spec/serviceAccountName\n  value: ${c.account}\n`, target: { kind: "Kustomization", name: c.name } },
          matchKey: "patch",
        });
      else out.push({ type: "fleet:object-put", path: c.at.file, match: { kind: c.kind, name: c.name, namespace: c.namespace }, keyPath: ["spec", "serviceAccountName"], value: c.account });
    }
  // One reconciler per namespace and place, whichever clusters share it.
  const placed = new Map<string, { ns: string; tenant: string; dir: string }>();
  for (const p of plans)
    for (const r of p.reconcilers) if (!r.exists) placed.set(`${path.posix.dirname(r.anchor)}\0${r.namespace}`, { ns: r.namespace, tenant: r.tenant, dir: path.posix.dirname(r.anchor) });
  const perDir = new Map<string, number>();
  for (const { dir } of placed.values()) perDir.set(dir, (perDir.get(dir) ?? 0) + 1);
  for (const { ns, tenant, dir } of placed.values()) {
    const plain = `${dir}/reconciler.yaml`;
    const file = perDir.get(dir) === 1 && cs.read(plain) === undefined ? plain : `${dir}/${ns}-reconciler.yaml`;
    out.push({ type: "fleet:render", path: file, template: "tenant/rbac.yaml", data: { account: choices.reconciler, namespace: ns, tenant, role: choices.role, flagged } });
    const lister = listerOf(cs, dir);
    if (lister) out.push({ type: "fleet:kustomization", path: lister.file, addResources: [entryFrom(lister.dir, file)] });
  }
  return out;
}

/**
 * The kustomization that brings files of `dir` into a build: its own, else the nearest one above
 * that lists something in it. None: Flux generates one for the directory, taking every manifest.
 */
function listerOf(cs: ChangeSet, dir: string): { file: string; dir: string } | undefined {
  const own = kustomizationIn(cs, dir);
  if (own) return { file: own, dir };
  for (let up = path.posix.dirname(dir); up !== "." && up !== "/" && up !== ""; up = path.posix.dirname(up)) {
    const k = kustomizationIn(cs, up);
    if (!k) continue;
    const entries = listValues(k, cs.read(k)!, "resources").filter((e): e is string => typeof e === "string");
    if (entries.some((e) => path.posix.dirname(entryTarget(up, e)) === dir)) return { file: k, dir: up };
  }
  return undefined;
}

/**
 * The index of a patch of the file that already adds this flag (the same JSON6902 operations,
 * however they are written) to a Deployment target named by a regular expression, and that
 * expression: Flux's documented lockdown names five controllers, and one more (source-watcher)
 * is added to its target rather than given a second patch with the same text.
 */
function samePatch(cs: ChangeSet, file: string, flag: string): { index: number; name: string } | undefined {
  const text = cs.read(file);
  if (text === undefined) return undefined;
  const patches = (parseYaml(file, text).toJS() as { patches?: unknown } | null)?.patches;
  if (!Array.isArray(patches)) return undefined;
  const want = JSON.stringify(parse(addArg(flag)));
  const index = patches.findIndex((p: { patch?: unknown; target?: { kind?: unknown; name?: unknown } }) => {
    if (typeof p?.patch !== "string" || (p.target?.kind ?? "Deployment") !== "Deployment" || typeof p.target?.name !== "string") return false;
    try {
      return JSON.stringify(parse(p.patch)) === want;
    } catch {
      return false;
    }
  });
  return index < 0 ? undefined : { index, name: (patches[index] as { target: { name: string } }).target.name };
}

/** The flags step's edits. */
function flagActions(cs: ChangeSet, plans: ClusterPlan[]): FleetAction[] {
  const out: FleetAction[] = [];
  for (const p of plans) {
    if (p.flags.length === 0) continue;
    if (p.via === "operator") {
      // The Flux Operator's multitenant profile: the same flags, and the account on the sync Kustomization it generates.
      // Each goes in as the first line of spec.cluster: the last written reads first.
      out.push({ type: "fleet:object-put", path: p.lockdownFile, match: { kind: "FluxInstance", name: fluxInstanceName(p) }, keyPath: ["spec", "cluster", "tenantDefaultServiceAccount"], value: p.defaultServiceAccount });
      out.push({ type: "fleet:object-put", path: p.lockdownFile, match: { kind: "FluxInstance", name: fluxInstanceName(p) }, keyPath: ["spec", "cluster", "multitenant"], value: true, replace: true });
      continue;
    }
    const byFlag = new Map<string, string[]>();
    for (const { controller, flags } of p.flags) for (const f of flags) (byFlag.get(f) ?? byFlag.set(f, []).get(f)!).push(controller);
    // A controller the cluster does not run yet gets the flag too: the patch applies the day it is added.
    for (const [f, controllers] of byFlag)
      for (const c of CONTROLLERS) if (!p.controllers.includes(c) && !controllers.includes(c) && askedOf(c).some((a) => f.startsWith(`${a}=`))) controllers.push(c);
    for (const [flag, controllers] of byFlag) {
      const same = samePatch(cs, p.lockdownFile, flag);
      if (!same) {
        out.push({ type: "fleet:yaml-list-add", path: p.lockdownFile, key: "patches", value: { patch: addArg(flag), target: controllersTarget(controllers) }, matchKey: "patch" });
        continue;
      }
      const old = targetName({ kind: "Deployment", name: same.name });
      const more = controllers.filter((c) => !old?.test(c));
      if (more.length) out.push({ type: "fleet:yaml-set", path: p.lockdownFile, keyPath: ["patches", String(same.index), "target", "name"], value: `(${same.name}|${more.join("|")})` });
    }
  }
  return out;
}

/** The FluxInstance's name, as the plan read it (the operator names it flux). */
const fluxInstanceName = (p: ClusterPlan) => p.fluxInstance ?? "flux";

export function lockdownActions(cs: ChangeSet, plans: ClusterPlan[], choices: LockdownChoices, stages: Stage[], flagged: string): FleetAction[] {
  return [...(stages.includes("platform") ? platformActions(cs, plans, choices, flagged) : []), ...(stages.includes("flags") ? flagActions(cs, plans) : [])];
}
