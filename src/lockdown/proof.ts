/**
 * The proof of a lockdown change: every cluster it touches is walked as Flux would apply it
 * (validate's walk: the sync path, every Kustomization followed, sources given with --source)
 * as the repo is on disk and as it would be, and
 * - everything that built still builds;
 * - every object comes out the same, byte for byte, except exactly what the plan named: the
 *   `serviceAccountName` of the appliers it gives an account, the flags of the controllers, the
 *   FluxInstance's multitenant settings, and the reconcilers (ServiceAccount and RoleBinding)
 *   it adds, each in its tenant's namespace;
 * - planned again on the result, nothing of the written steps is left to do.
 * A change that fails is not written (ProofError, exit 2, naming each difference).
 */
import { stringify } from "yaml";
import { ProofError, ToolError } from "../core/errors.js";
import type { Cluster } from "../model/clusters.js";
import { ref, type K8sObject } from "../model/objects.js";
import { withShadowTree } from "../changeset/shadow-tree.js";
import type { ChangeSet } from "../changeset/changeset.js";
import type { ProofOptions } from "../changeset/proof.js";
import type { Applied } from "../validate/model.js";
import { CONTROLLERS } from "../validate/lockdown.js";
import { planCluster, type ClusterPlan, type ClusterRead, type LockdownChoices } from "./plan.js";
import type { Stage } from "./fixes.js";

const SHOWN = 8;
const canonical = (o: K8sObject) => stringify(o, { sortMapEntries: true });

export interface LockdownProofInput {
  root: string;
  sources: Map<string, string>;
  clusters: Array<{ cluster: Cluster; before: ClusterRead; plan: ClusterPlan; fluxVersion?: string }>;
  choices: LockdownChoices;
  stages: Stage[];
  /** validate's readCluster, given the root to read. */
  read: (root: string, cluster: Cluster) => Promise<ClusterRead>;
}

/** The object without what the plan adds to it, to compare with what it was. */
function withoutPlanned(a: Applied, plan: ClusterPlan, accounts: Map<string, string>, stages: Stage[]): K8sObject {
  const o = structuredClone(a.obj);
  const account = accounts.get(ref(o));
  if (stages.includes("platform") && account !== undefined && o.spec?.serviceAccountName === account) delete o.spec!.serviceAccountName;
  if (!stages.includes("flags")) return o;
  const name = o.metadata?.name ?? "";
  const flags = plan.flags.find((f) => f.controller === name)?.flags;
  if (o.kind === "Deployment" && flags && (CONTROLLERS as readonly string[]).includes(name) && (o.metadata?.namespace ?? "flux-system") === plan.fluxNamespace) {
    const c = o.spec?.template?.spec?.containers?.[0] as { args?: string[] } | undefined;
    if (c?.args) c.args = c.args.filter((x) => !flags.includes(x));
  }
  return withoutMultitenant(o, plan);
}

/** A FluxInstance without the two settings the flags step writes, before and after alike (either may be there already). */
function withoutMultitenant(o: K8sObject, plan: ClusterPlan): K8sObject {
  if (o.kind !== "FluxInstance" || plan.via !== "operator" || !o.spec?.cluster) return o;
  const c = structuredClone(o);
  delete c.spec!.cluster.multitenant;
  if (c.spec!.cluster.tenantDefaultServiceAccount === plan.defaultServiceAccount) delete c.spec!.cluster.tenantDefaultServiceAccount;
  if (Object.keys(c.spec!.cluster).length === 0) delete c.spec!.cluster;
  return c;
}

function compare(p: ClusterPlan, before: Applied[], after: Applied[], stages: Stage[], choices: LockdownChoices): string[] {
  const out: string[] = [];
  const left = new Map<string, number>();
  const beforeText = (a: Applied) => canonical(stages.includes("flags") ? withoutMultitenant(a.obj, p) : a.obj);
  for (const a of before) {
    const t = beforeText(a);
    left.set(t, (left.get(t) ?? 0) + 1);
  }
  const added = new Set(
    stages.includes("platform") ? p.reconcilers.filter((r) => !r.exists).flatMap((r) => [`ServiceAccount/${r.namespace}/${choices.reconciler}`, `RoleBinding/${r.namespace}/${choices.reconciler}`]) : [],
  );
  const seenAdded = new Set<string>();
  const accounts = new Map(p.appliers.filter((c) => c.account).map((c) => [c.at.ref, c.account!] as const));
  // By reference too, so that a thousand tenants' objects are not each looked for in a list.
  const beforeRefs = new Set(before.map((b) => ref(b.obj)));
  const afterRefs = new Set(after.map((a) => ref(a.obj)));
  for (const a of after) {
    const key = ref(a.obj);
    if (added.has(key) && !beforeRefs.has(key)) {
      seenAdded.add(key);
      continue;
    }
    const t = canonical(withoutPlanned(a, p, accounts, stages));
    const n = left.get(t) ?? 0;
    if (n > 0) left.set(t, n - 1);
    else out.push(`${key} (${a.file}) would ${beforeRefs.has(key) ? "change beyond what the plan names" : "appear"}`);
  }
  for (const a of before) {
    const t = beforeText(a);
    if ((left.get(t) ?? 0) > 0) {
      left.set(t, left.get(t)! - 1);
      if (!afterRefs.has(ref(a.obj))) out.push(`${ref(a.obj)} (${a.file}) would no longer be applied`);
    }
  }
  for (const k of added) if (!seenAdded.has(k)) out.push(`${k} would not be applied: the reconciler fleet writes does not reach the cluster (or lands in another namespace)`);
  return out.map((l) => `cluster ${p.cluster}: ${l}`);
}

export async function proveLockdown(cs: ChangeSet, input: LockdownProofInput, opts: ProofOptions = {}): Promise<{ notes: string[]; json: Record<string, unknown> }> {
  const build = await import("../validate/build.js");
  opts.progress?.(`proving: walking ${input.clusters.map((c) => c.cluster.name).join(", ")} as Flux would apply them, before and after the change (kubectl kustomize) ...`);
  return withShadowTree(cs, "lockdown-proof", async (dir) => {
    const problems: string[] = [];
    const notes: string[] = [];
    const json: Record<string, unknown> = {};
    for (const c of input.clusters) {
      let after: ClusterRead;
      try {
        after = await input.read(dir, c.cluster);
      } catch (e) {
        if (e instanceof build.BuildTimeout) throw new ToolError(`cluster ${c.cluster.name}: ${e.message}; nothing was written\n  fix: run again with a longer --timeout`);
        throw e;
      }
      const broken = new Set(c.before.walked.buildErrors.map((e) => ref(e.at.obj)));
      for (const e of after.walked.buildErrors)
        if (!broken.has(ref(e.at.obj))) problems.push(`cluster ${c.cluster.name}: ${ref(e.at.obj)} (${e.at.file}) would no longer build: ${e.message.split("\n")[0]}`);
      const here = (r: ClusterRead) => r.walked.objects.filter((a) => !a.target);
      problems.push(...compare(c.plan, here(c.before), here(after), input.stages, input.choices));
      const again = planCluster(c.cluster, after, input.choices, c.fluxVersion);
      const left: string[] = [];
      if (input.stages.includes("platform")) {
        for (const x of again.appliers) if (x.account && x.at.inRepo) left.push(`${x.at.ref} (${x.at.file}) still names no account`);
        for (const r of again.reconcilers) if (!r.exists) left.push(`the reconciler of ${r.namespace} is still missing`);
      }
      if (input.stages.includes("flags")) for (const f of again.flags) left.push(`${f.controller} still lacks ${f.flags.join(", ")}`);
      problems.push(...left.map((l) => `cluster ${c.cluster.name}: after the change, ${l}`));
      const n = here(after).length;
      notes.push(`proven: cluster ${c.cluster.name} applies the same ${n} objects as before apart from what the plan names, and planned again nothing of this step is left`);
      json[c.cluster.name] = { objects: n };
    }
    if (problems.length)
      throw new ProofError(
        `the lockdown fails its proof (each cluster walked as Flux applies it, before and after), so nothing was written:\n  - ${[
          ...problems.slice(0, SHOWN),
          ...(problems.length > SHOWN ? [`and ${problems.length - SHOWN} more`] : []),
        ].join("\n  - ")}\n  fix: where an overlay's patch or transformer reshapes what fleet edits, set the value named above by hand there, then run fleet lockdown --plan again`,
      );
    return { notes, json: { proven: json } };
  });
}
