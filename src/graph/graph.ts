/**
 * The reconciliation graph of a cluster, drawn from what validate walks (discover.ts: the
 * Kustomizations and HelmReleases the cluster applies, each with who applies it) and from who is
 * a tenant (tenancy.ts: which applier is a tenant's, and as whom it acts). Nothing is read twice:
 * this file only arranges those facts into nodes, groups and edges that mermaid.ts and dot.ts draw.
 *
 * Tenant units are grouped: each platform Kustomization's tenant-related children sit in one
 * group, linked once from their parent, and a dependsOn that every member shares is drawn once
 * from the group. A cluster with a thousand tenants then has a thousand nodes but a handful of
 * edges, which is what keeps it within what a renderer draws (Mermaid stops at 500 edges).
 */
import type { Walked } from "../validate/discover.js";
import { isFluxKustomization, isHelmRelease, ref, type Applied, type K8sObject } from "../validate/model.js";
import type { Applier, Tenancy } from "../validate/tenancy.js";
import type { Cluster } from "../model/clusters.js";
import { fluxPath } from "../model/flux-path.js";
import { parseGitUrl } from "../model/origin.js";

export type NodeShape = "root" | "platform" | "tenant" | "missing";

export interface GraphNode {
  id: string;
  shape: NodeShape;
  /** The full label, a line each: what it is, then where it applies from, as whom, and its source. */
  lines: string[];
  /** The label when the diagram must be small: the object's name alone. */
  short: string;
  /** The group it is drawn in, if any. */
  group?: string;
}

export interface GraphGroup {
  id: string;
  title: string;
  members: string[];
}

export interface GraphEdge {
  /** A node id or a group id. */
  from: string;
  to: string;
  kind: "applies" | "dependsOn";
}

export interface ClusterGraph {
  cluster: string;
  entry: string;
  nodes: GraphNode[];
  groups: GraphGroup[];
  edges: GraphEdge[];
}

const nsOf = (o: K8sObject) => o.metadata?.namespace ?? "default";
const appliers = (objects: Applied[]) => objects.filter((a) => isFluxKustomization(a.obj) || isHelmRelease(a.obj));
/** One node per applier per cluster it lands on: Flux applies an object once, however many parents list it. */
const keys = new WeakMap<Applied, string>();
function keyOf(a: Applied): string {
  let k = keys.get(a);
  if (k === undefined) keys.set(a, (k = `${a.target ?? ""}|${ref(a.obj)}`));
  return k;
}

/**
 * A URL as it may be shown: credentials, query and fragment dropped (a token can sit in any of
 * them). Git URLs go through the one reading of a git URL; others (oci://, a Helm repository)
 * through WHATWG URL; what parses as neither is not shown.
 */
export function shownUrl(url: unknown): string {
  if (typeof url !== "string" || url === "") return "no url";
  const git = parseGitUrl(url);
  if (git) return git.url;
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    u.search = "";
    u.hash = "";
    return u.toString();
  } catch {
    return "url not shown: it does not parse";
  }
}

/** The fields of a source's spec.ref, in the order Flux gives them precedence. */
const REF_FIELDS = ["commit", "digest", "name", "semver", "tag", "branch"] as const;

/** What a source object says about where it fetches from, by kind. */
const DESCRIBE: Record<string, (spec: Record<string, any>) => string> = {
  GitRepository: (s) => `${shownUrl(s.url)}${refOf(s.ref)}`,
  OCIRepository: (s) => `${shownUrl(s.url)}${refOf(s.ref)}`,
  HelmRepository: (s) => shownUrl(s.url),
  Bucket: (s) => `bucket ${s.bucketName ?? "?"} at ${shownUrl(typeof s.endpoint === "string" && !s.endpoint.includes("://") ? `https://${s.endpoint}` : s.endpoint)}`,
};

function refOf(r: unknown): string {
  if (!r || typeof r !== "object") return "";
  const field = REF_FIELDS.find((f) => typeof (r as Record<string, unknown>)[f] === "string");
  return field ? ` @ ${field} ${(r as Record<string, string>)[field]}` : "";
}

/** The source an applier reads, described from the source object the cluster applies (found by kind, namespace and name). */
function sourceLine(a: Applied, byRef: Map<string, Applied>): string | undefined {
  const spec = a.obj.spec ?? {};
  const chart = spec.chart?.spec;
  const src = (isHelmRelease(a.obj) ? (spec.chartRef ?? chart?.sourceRef) : spec.sourceRef) as { kind?: string; name?: string; namespace?: string } | undefined;
  if (!src?.name) return undefined;
  const kind = String(src.kind ?? "GitRepository");
  const id = `${kind}/${src.namespace ?? nsOf(a.obj)}/${src.name}`;
  const found = byRef.get(`${a.target ?? ""}|${id}`);
  const describe = found ? DESCRIBE[kind] : undefined;
  const chartName = chart?.chart ? `chart ${chart.chart}${chart.version ? ` ${chart.version}` : ""} ` : "";
  if (found && describe) return `${chartName}from ${describe(found.obj.spec ?? {})}`;
  return `${chartName}from ${id.replace("/", " ")}${found ? "" : " (not found on this cluster)"}`;
}

/** As whom an applier acts (tenancy.ts decides it; this only says it). */
function identityLine(ap: Applier | undefined, a: Applied): string {
  if (a.target) return `on cluster ${a.target}, reconciled by its own Flux`;
  if (!ap) return "";
  const who = ap.id ? `as ${ap.id.namespace}:${ap.id.name}` : `as ${ap.controller} itself (no serviceAccountName)`;
  return ap.actsOn ? `${who} on cluster ${ap.actsOn} (kubeConfig)` : who;
}

function whatLine(a: Applied): string | undefined {
  const spec = a.obj.spec ?? {};
  if (isFluxKustomization(a.obj)) return `path ${fluxPath(spec.path).path ?? String(spec.path)}${spec.targetNamespace ? ` into ${spec.targetNamespace}` : ""}`;
  return spec.targetNamespace ? `into ${spec.targetNamespace}` : undefined;
}

export interface GraphInput {
  cluster: Cluster;
  walked: Walked;
  tenancy: Tenancy;
}

export function clusterGraph({ cluster, walked, tenancy }: GraphInput): ClusterGraph {
  const byRef = new Map(walked.objects.map((a) => [keyOf(a), a]));
  const applierOf = new Map(tenancy.appliers.map((ap) => [keyOf(ap.at), ap]));
  const all = appliers(walked.objects);
  const unique = [...new Map(all.map((a) => [keyOf(a), a])).values()];
  const isTenant = (a: Applied) => applierOf.get(keyOf(a))?.tenant === true;

  // The root: the cluster's own sync Kustomization when the repo holds it (it applies the entry
  // path, itself included), else the cluster as its sync object or FluxInstance names it.
  const sync = unique.find((a) => a.appliedBy === "" && isFluxKustomization(a.obj) && fluxPath(a.obj.spec?.path).path === cluster.path);
  const root: GraphNode = {
    id: "n0",
    shape: "root",
    lines: sync
      ? [`Kustomization ${ref(sync.obj).replace(/^Kustomization\//, "")}`, `cluster ${cluster.name}: path ${cluster.path}`]
      : [`cluster ${cluster.name}`, `path ${cluster.path}`, ...(cluster.source?.url ? [`${cluster.source.kind} ${shownUrl(cluster.source.url)}`] : [])],
    short: sync ? `${sync.obj.metadata?.name ?? "?"} (cluster ${cluster.name})` : `cluster ${cluster.name}`,
  };
  const nodes: GraphNode[] = [root];
  /** Applier key -> the node it is drawn in (a tenant's applier is drawn inside its unit's node). */
  const drawnIn = new Map<string, GraphNode>();
  if (sync) drawnIn.set(keyOf(sync), root);
  /** Who applies it: the entry's objects are the sync Kustomization's (or the cluster's, "", without one); the rest are applied on this cluster. */
  const parentKeyOf = (a: Applied) => (a.appliedBy === "" ? (sync ? keyOf(sync) : "") : `|${a.appliedBy}`);
  const children = new Map<string, Applied[]>();
  const parentOf = new Map<string, string>();
  for (const a of all) {
    const parent = parentKeyOf(a);
    if (keyOf(a) === parent) continue;
    const list = children.get(parent) ?? [];
    list.push(a);
    children.set(parent, list);
    if (!parentOf.has(keyOf(a))) parentOf.set(keyOf(a), parent);
  }

  // A unit: a platform applier whose appliers are all the tenant's of one namespace. Its node
  // carries them, so a tenant is one node whatever its unit holds.
  const unitOf = (a: Applied): boolean => {
    if (isTenant(a)) return false;
    const kids = children.get(keyOf(a)) ?? [];
    return kids.length > 0 && kids.every(isTenant) && new Set(kids.map((k) => nsOf(k.obj))).size === 1;
  };
  // A unit says what it is; the tenant's appliers inside it say what they apply, as whom, from where.
  const labelOf = (a: Applied, unit: boolean): string[] => {
    const title = `${a.obj.kind} ${nsOf(a.obj)}/${a.obj.metadata?.name ?? "?"}`;
    if (unit) return [title];
    const foreign = !walked.fromRepo.has(ref(a.obj)) || isTenant(a);
    return [title, ...[whatLine(a), identityLine(applierOf.get(keyOf(a)), a), foreign ? sourceLine(a, byRef) : undefined].filter((l): l is string => !!l)];
  };
  let next = 1;
  // Parents come before their children in the walk, so a node exists before anything is drawn into it.
  for (const a of unique) {
    const k = keyOf(a);
    if (drawnIn.has(k)) continue;
    const parent = parentOf.get(k);
    const host = parent !== undefined ? drawnIn.get(parent) : undefined;
    if (isTenant(a) && host && host.shape === "tenant") {
      host.lines.push(...labelOf(a, false));
      drawnIn.set(k, host);
      continue;
    }
    const unit = unitOf(a);
    const node: GraphNode = { id: `n${next++}`, shape: isTenant(a) || unit ? "tenant" : "platform", lines: labelOf(a, unit), short: a.obj.metadata?.name ?? "?" };
    nodes.push(node);
    drawnIn.set(k, node);
  }

  // Groups: the tenant nodes a node applies, in one group linked once from it.
  const groups: GraphGroup[] = [];
  const groupBy = new Map<string, GraphGroup>();
  const parentOfGroup = new Map<string, GraphNode>();
  const edges: GraphEdge[] = [];
  const seen = new Set<string>();
  const edge = (from: string, to: string, kind: GraphEdge["kind"]) => {
    const k = `${from}|${to}|${kind}`;
    if (from === to || seen.has(k)) return;
    seen.add(k);
    edges.push({ from, to, kind });
  };
  for (const a of all) {
    const child = drawnIn.get(keyOf(a))!;
    const parentKey = parentKeyOf(a);
    const parent = parentKey === "" ? root : drawnIn.get(parentKey);
    if (!parent || parent === child) continue;
    let g = groupBy.get(parent.id);
    if (child.shape === "tenant" && (child.group === undefined || child.group === g?.id)) {
      if (!g) {
        g = { id: `g${groups.length}`, title: "", members: [] };
        groups.push(g);
        groupBy.set(parent.id, g);
        parentOfGroup.set(g.id, parent);
      }
      if (child.group === undefined) {
        child.group = g.id;
        g.members.push(child.id);
      }
      edge(parent.id, g.id, "applies");
    } else edge(parent.id, child.id, "applies");
  }

  // dependsOn: each applier's, drawn from the node it is in; a target every member of a group shares, once from the group.
  const missing = new Map<string, GraphNode>();
  const targetsOf = new Map<string, Set<string>>();
  for (const a of unique) {
    const from = drawnIn.get(keyOf(a))!;
    for (const d of Array.isArray(a.obj.spec?.dependsOn) ? (a.obj.spec.dependsOn as Array<{ name?: string; namespace?: string }>) : []) {
      if (!d?.name) continue;
      const target = `${a.obj.kind}/${d.namespace ?? nsOf(a.obj)}/${d.name}`;
      const found = byRef.get(`${a.target ?? ""}|${target}`);
      let to = found ? drawnIn.get(keyOf(found)) : missing.get(target);
      if (!to) {
        to = { id: `n${next++}`, shape: "missing", lines: [`${a.obj.kind} ${target.split("/").slice(1).join("/")}`, "dependsOn target not found on this cluster"], short: `${d.name} (not found)` };
        missing.set(target, to);
        nodes.push(to);
      }
      // Between appliers drawn in one node (a unit's tenant Kustomizations): inside it, no edge.
      if (to.id === from.id) continue;
      const set = targetsOf.get(from.id) ?? new Set<string>();
      set.add(to.id);
      targetsOf.set(from.id, set);
    }
  }
  for (const g of groups) {
    const shared = [...(targetsOf.get(g.members[0]!) ?? [])].filter((t) => !g.members.includes(t) && g.members.every((m) => targetsOf.get(m)?.has(t)));
    for (const t of shared) {
      edge(g.id, t, "dependsOn");
      for (const m of g.members) targetsOf.get(m)!.delete(t);
    }
  }
  for (const [from, targets] of targetsOf) for (const to of targets) edge(from, to, "dependsOn");

  for (const g of groups)
    g.title = `${g.members.length} tenant ${g.members.length === 1 ? "unit" : "units"} applied by ${parentOfGroup.get(g.id)!.lines[0]}`;
  return { cluster: cluster.name, entry: cluster.path, nodes, groups, edges };
}
