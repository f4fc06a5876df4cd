/**
 * The objects of a repo each behaviour change of a Flux minor (src/flux/minors.ts) affects,
 * found on the clusters as Flux applies them: every cluster walked offline the way validate
 * walks it (built with kubectl kustomize, postBuild substitution applied), then one finder per
 * change. A controller's feature gate that keeps the old behaviour leaves nothing affected.
 */
import { ChangeSet } from "../changeset/changeset.js";
import { readClusters } from "../model/clusters.js";
import { isFlux, isFluxKustomization, isHelmRelease, ref, type K8sObject } from "../model/objects.js";
import { Builder } from "../validate/build.js";
import { walkCluster, type Walked } from "../validate/discover.js";
import { featureGate, readLockdown, type Lockdown } from "../validate/lockdown.js";
import type { Applied } from "../validate/model.js";
import { substituteObject, variablesFor } from "../validate/substitute.js";
import type { BehaviourChangeId } from "./minors.js";
import { isRelease } from "./release.js";

/** One object a change affects, on the clusters that apply it. */
export interface Affected {
  /** kind/namespace/name */
  object: string;
  file: string;
  /** What in it the change bites on, where the object alone does not say. */
  detail?: string;
  clusters: string[];
}

interface WalkedCluster {
  name: string;
  walked: Walked;
  lockdown: Lockdown;
}

type Hit = Omit<Affected, "clusters">;

const isReceiver = (o: K8sObject) => isFlux(o, "Receiver", "notification.toolkit.fluxcd.io");
const helm3Defaults = (c: WalkedCluster) => featureGate(c.lockdown, "helm-controller", "UseHelm3Defaults") === true;
const helmReleases = (c: WalkedCluster, keep: (o: K8sObject) => boolean): Hit[] =>
  c.walked.objects.filter((a) => isHelmRelease(a.obj) && keep(a.obj)).map((a) => ({ object: ref(a.obj), file: a.file }));

const gcrReceivers = (c: WalkedCluster): Hit[] =>
  c.walked.objects
    .filter((a) => isReceiver(a.obj) && a.obj.spec?.type === "gcr")
    .map((a) => ({ object: ref(a.obj), file: a.file, detail: `Secret ${String(a.obj.spec?.secretRef?.name ?? "(none)")}` }));

/**
 * The Kustomizations whose built manifests hold a ${var} with no value and no default: each
 * unresolved object is substituted again with the variables of each Kustomization that applies
 * its file (a base shared by two may lack a variable under one only), through validate's parser.
 */
function unresolvedSubstitutions(c: WalkedCluster): Hit[] {
  if (featureGate(c.lockdown, "kustomize-controller", "StrictPostBuildSubstitutions") === false) return [];
  const all = c.walked.objects.map((a) => a.obj);
  const kustomizations = new Map(c.walked.objects.filter((a) => isFluxKustomization(a.obj)).map((a) => [ref(a.obj), a] as const));
  return c.walked.unresolved.flatMap((u) => {
    const appliers = new Set(c.walked.objects.filter((a) => a.file === u.file && a.obj.kind === u.obj.kind && a.appliedBy !== "").map((a) => a.appliedBy));
    return [...appliers].flatMap((by): Hit[] => {
      const ks: Applied | undefined = kustomizations.get(by);
      if (!ks?.obj.spec?.postBuild) return [];
      const { missing } = substituteObject(u.obj, variablesFor(ks.obj, all).vars);
      return missing.length ? [{ object: by, file: ks.file, detail: `\${${missing.join("}, ${")}} in ${ref(u.obj)} (${u.file})` }] : [];
    });
  });
}

const FINDERS: Readonly<Record<BehaviourChangeId, (c: WalkedCluster) => Hit[]>> = {
  "strict-substitution": unresolvedSubstitutions,
  // Only where the HelmRelease does not choose for itself (helm-controller api/v2 helmrelease_types.go).
  "helm-server-side-apply": (c) => (helm3Defaults(c) ? [] : helmReleases(c, (o) => o.spec?.install?.serverSideApply === undefined)),
  "helm-kstatus-health": (c) => (helm3Defaults(c) ? [] : helmReleases(c, (o) => o.spec?.waitStrategy?.name === undefined)),
  "helm-post-render-combined": (c) =>
    helm3Defaults(c) ? [] : helmReleases(c, (o) => Array.isArray(o.spec?.postRenderers) && o.spec.postRenderers.length > 0 && o.spec?.postRenderStrategy === undefined),
  "gcr-receiver-audience": gcrReceivers,
  "gcr-receiver-email-audience": gcrReceivers,
};

/**
 * The exact releases the repo's clusters run (gotk-components headers, FluxInstance versions),
 * read from disk: what an upgrade moves them from, whatever fleet.yaml pins.
 */
export function runningReleases(root: string): string[] {
  return readClusters(new ChangeSet(root))
    .map((c) => c.fluxVersion)
    .filter((v): v is string => v !== undefined && isRelease(v));
}

export interface AffectedReport {
  byChange: Map<BehaviourChangeId, Affected[]>;
  /** What could not be looked at (a cluster that does not build, a source that is not this repo). */
  notChecked: string[];
}

/** Walk every cluster of the repo on disk once and run the finders of the changes asked for. */
export async function findAffected(root: string, ids: readonly BehaviourChangeId[]): Promise<AffectedReport> {
  const byChange = new Map<BehaviourChangeId, Affected[]>(ids.map((id) => [id, []]));
  const notChecked: string[] = [];
  if (ids.length === 0) return { byChange, notChecked };
  const cs = new ChangeSet(root);
  const clusters = readClusters(cs);
  if (clusters.length === 0) notChecked.push("no cluster in the repository: the objects these changes affect are found on what clusters apply");
  const builder = new Builder();
  const walked = await Promise.all(
    clusters.map(async (c): Promise<WalkedCluster> => {
      const w = await walkCluster({ root, cluster: c.name, entry: c.path, sources: new Map(), builder });
      return { name: c.name, walked: w, lockdown: readLockdown(cs, c, w.objects) };
    }),
  );
  await builder.save();
  for (const c of walked) {
    for (const e of c.walked.buildErrors) notChecked.push(`cluster ${c.name}: ${e.message}`);
    for (const r of c.walked.remotes) notChecked.push(`cluster ${c.name}: remote base ${r.remote.ref} in ${r.remote.file} is not built`);
    // A tenant's own repository is not fetched: what it holds is not looked at.
    for (const n of c.walked.notChecked) if (n.includes("(source of ")) notChecked.push(`cluster ${c.name}: ${n} is not fetched`);
    for (const id of ids)
      for (const hit of FINDERS[id](c)) {
        const list = byChange.get(id)!;
        const same = list.find((a) => a.object === hit.object && a.file === hit.file && a.detail === hit.detail);
        if (same) {
          if (!same.clusters.includes(c.name)) same.clusters.push(c.name);
        } else list.push({ ...hit, clusters: [c.name] });
      }
  }
  return { byChange, notChecked: [...new Set(notChecked)] };
}
