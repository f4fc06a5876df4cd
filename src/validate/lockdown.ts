/**
 * The flags each Flux controller of a cluster actually runs with: the multi-tenancy lockdown
 * (design 4.2) and the feature gates validate's judgement depends on. Never assumed: read from
 * the controllers' Deployments where the cluster's build has them, else from the patches that
 * will give them (the flux-system kustomization before bootstrap, or with a placeholder
 * gotk-components.yaml), or from a FluxInstance (`cluster.multitenant` is the Flux Operator's
 * own lockdown profile, controlplaneio-fluxcd/flux-operator internal/builder/profiles.go, plus
 * its `kustomize.patches`).
 */
import * as path from "node:path";
import { parse } from "yaml";
import type { ChangeSet } from "../changeset/changeset.js";
import type { Cluster } from "../model/clusters.js";
import { isFlux, readObjects, type K8sObject } from "../model/objects.js";
import type { Applied } from "./model.js";
import { LOCKDOWN_FLAGS } from "../flux/minors.js";
// Used inside functions only: tenancy.ts reads this module too.
import { TENANT_LABEL } from "./tenancy.js";

export const CONTROLLERS = [
  "source-controller",
  "kustomize-controller",
  "helm-controller",
  "notification-controller",
  "image-reflector-controller",
  "image-automation-controller",
  "source-watcher",
] as const;
export type Controller = (typeof CONTROLLERS)[number];

/** Which controller reconciles a Flux kind, and so whose flags (cross-namespace refs, default account) judge it. */
export const RECONCILED_BY: Readonly<Record<string, Controller>> = {
  Kustomization: "kustomize-controller",
  HelmRelease: "helm-controller",
  Alert: "notification-controller",
  Provider: "notification-controller",
  Receiver: "notification-controller",
  ImageRepository: "image-reflector-controller",
  ImagePolicy: "image-reflector-controller",
  ImageUpdateAutomation: "image-automation-controller",
  ArtifactGenerator: "source-watcher",
};

export interface Lockdown {
  /** Where the flags were read: the built Deployments, the patches that make them, or a FluxInstance. */
  from: string;
  /** The namespace Flux runs in (its controllers' accounts live there). */
  namespace: string;
  /** Flag -> value per controller; the last occurrence wins, as in Go's flag package. */
  flags: Partial<Record<Controller, Map<string, string>>>;
  /**
   * The serviceAccountName the flux-system kustomization's patches give Kustomizations, by
   * target name: what the sync Kustomization runs as where its gotk-sync.yaml is a placeholder
   * and the walk cannot see it.
   */
  kustomizationAccounts?: Array<{ name: RegExp; account: string }>;
  /** A FluxInstance's tenantDefaultServiceAccount, set whether or not multitenant is on yet. */
  declaredDefaultAccount?: string;
  /** The tenant label the flux-system kustomization puts on Flux's own objects: the platform team's (Flux's kustomize-helm example: sre-team). */
  platformTeam?: string;
}

/**
 * The Flux Operator's multitenant profile (flux-operator internal/builder/profiles.go at v0.58.1;
 * source-watcher since v0.30.0): the same flags as Flux's documented lockdown.
 */
function operatorProfile(defaultSa: string): Array<{ name: RegExp; args: string[] }> {
  return [
    { name: /^(kustomize-controller|helm-controller|notification-controller|image-reflector-controller|image-automation-controller|source-watcher)$/, args: ["--no-cross-namespace-refs=true"] },
    { name: /^kustomize-controller$/, args: ["--no-remote-bases=true"] },
    { name: /^(kustomize-controller|helm-controller)$/, args: [`--default-service-account=${defaultSa}`] },
  ];
}

const FLAG = /^--[a-z][a-z0-9-]*(=.*)?$/;

function setFlags(into: Map<string, string>, args: string[]): void {
  for (const a of args) {
    if (!FLAG.test(a)) continue;
    const eq = a.indexOf("=");
    into.set(eq < 0 ? a : a.slice(0, eq), eq < 0 ? "true" : a.slice(eq + 1));
  }
}

/** Every `--flag` string a patch adds, however it is written (JSON6902 ops or a strategic merge). */
function argsIn(patch: unknown): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (typeof v === "string") {
      if (FLAG.test(v)) out.push(v);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(patch);
  return out;
}

/** A kustomize patch's target name, for targets of `kind` (or of no kind), as the regular expression it is, matched against the whole name. */
export function targetName(target: unknown, kind = "Deployment"): RegExp | undefined {
  const t = (target ?? {}) as { kind?: unknown; name?: unknown };
  if (t.kind !== undefined && t.kind !== kind) return undefined;
  try {
    return new RegExp(`^(?:${typeof t.name === "string" && t.name !== "" ? t.name : ".*"})$`);
  } catch {
    return undefined;
  }
}

/** A patch's body, inline or from its file; undefined where it cannot be read. */
function patchBody(cs: ChangeSet, dir: string, p: { patch?: unknown; path?: unknown }): unknown {
  try {
    const text = typeof p.patch === "string" ? p.patch : typeof p.path === "string" ? cs.read(path.posix.join(dir, p.path)) : undefined;
    return text === undefined ? undefined : parse(text);
  } catch {
    return undefined;
  }
}

/** The controller args the patches of a kustomization (or a FluxInstance's kustomize.patches) add. */
function patchArgs(cs: ChangeSet, dir: string, patches: unknown): Array<{ name: RegExp; args: string[] }> {
  if (!Array.isArray(patches)) return [];
  const out: Array<{ name: RegExp; args: string[] }> = [];
  for (const p of patches as Array<{ patch?: unknown; path?: unknown; target?: unknown }>) {
    const name = targetName(p?.target);
    if (!name) continue;
    const args = argsIn(patchBody(cs, dir, p));
    if (args.length) out.push({ name, args });
  }
  return out;
}

function apply(into: Lockdown, rules: Array<{ name: RegExp; args: string[] }>): void {
  for (const rule of rules)
    for (const c of CONTROLLERS)
      if (rule.name.test(c)) setFlags((into.flags[c] ??= new Map()), rule.args);
}

/** The controllers' Deployments in what the cluster builds: their args are the truth. */
function fromDeployments(objects: Applied[]): Lockdown | undefined {
  const deps = objects.filter((a) => a.obj.kind === "Deployment" && (CONTROLLERS as readonly string[]).includes(String(a.obj.metadata?.name)) && !a.target);
  const kc = deps.find((a) => a.obj.metadata?.name === "kustomize-controller");
  if (!kc) return undefined;
  const out: Lockdown = { from: kc.file, namespace: kc.obj.metadata?.namespace ?? "flux-system", flags: {} };
  for (const d of deps) {
    if ((d.obj.metadata?.namespace ?? "flux-system") !== out.namespace) continue;
    const args = d.obj.spec?.template?.spec?.containers?.[0]?.args;
    setFlags((out.flags[d.obj.metadata!.name as Controller] ??= new Map()), Array.isArray(args) ? args.map(String) : []);
  }
  return out;
}

const isFluxInstance = (o: K8sObject) => isFlux(o, "FluxInstance", "fluxcd.controlplane.io");

/** The lockdown of one cluster, from the best evidence the repository holds. */
export function readLockdown(cs: ChangeSet, cluster: Cluster, objects: Applied[]): Lockdown {
  const built = fromDeployments(objects);
  // The controllers' flags are in their built Deployments; the sync Kustomization's account is only in the patches.
  if (built) {
    if (cluster.via === "operator") return built;
    const { kustomizationAccounts, platformTeam } = fromPatches(cs, cluster);
    return { ...built, kustomizationAccounts: kustomizationAccounts ?? [], ...(platformTeam ? { platformTeam } : {}) };
  }
  if (cluster.via === "operator") {
    const fi = readObjects(cs, cluster.syncFile).find(isFluxInstance);
    const out: Lockdown = { from: cluster.syncFile, namespace: fi?.metadata?.namespace ?? "flux-system", flags: {} };
    const c = (fi?.spec?.cluster ?? {}) as { multitenant?: unknown; tenantDefaultServiceAccount?: unknown };
    const declared = typeof c.tenantDefaultServiceAccount === "string" && c.tenantDefaultServiceAccount !== "" ? c.tenantDefaultServiceAccount : undefined;
    if (declared) out.declaredDefaultAccount = declared;
    if (c.multitenant === true) apply(out, operatorProfile(declared ?? "default"));
    apply(out, patchArgs(cs, path.posix.dirname(cluster.syncFile), fi?.spec?.kustomize?.patches));
    return out;
  }
  return fromPatches(cs, cluster);
}

/** flux bootstrap (or fleet before it): the flux-system kustomization beside the sync file patches the controllers. */
function fromPatches(cs: ChangeSet, cluster: Cluster): Lockdown {
  const dir = path.posix.dirname(cluster.syncFile);
  const file = ["kustomization.yaml", "kustomization.yml", "Kustomization"].map((f) => path.posix.join(dir, f)).find((f) => cs.exists(f));
  // Where there is none yet, where the patches would go.
  const out: Lockdown = { from: file ?? path.posix.join(dir, "kustomization.yaml"), namespace: "flux-system", flags: {} };
  if (!file) return out;
  let k: { patches?: unknown; patchesJson6902?: unknown; labels?: unknown; commonLabels?: unknown } | undefined;
  try {
    k = parse(cs.read(file) ?? "") as typeof k;
  } catch {
    return out;
  }
  apply(out, [...patchArgs(cs, dir, k?.patches), ...patchArgs(cs, dir, k?.patchesJson6902)]);
  out.kustomizationAccounts = accountPatches(cs, dir, [...(Array.isArray(k?.patches) ? k.patches : []), ...(Array.isArray(k?.patchesJson6902) ? k.patchesJson6902 : [])]);
  const pairs = [...(Array.isArray(k?.labels) ? k.labels.map((l: { pairs?: unknown }) => l?.pairs) : []), k?.commonLabels] as Array<Record<string, unknown> | undefined>;
  const team = pairs.map((p) => p?.[TENANT_LABEL]).find((v): v is string => typeof v === "string" && v !== "");
  if (team) out.platformTeam = team;
  return out;
}

/** The accounts patches set on Kustomizations: a JSON6902 add or replace of /spec/serviceAccountName, or a strategic merge. */
function accountPatches(cs: ChangeSet, dir: string, patches: unknown[]): Array<{ name: RegExp; account: string }> {
  const out: Array<{ name: RegExp; account: string }> = [];
  for (const p of patches as Array<{ patch?: unknown; path?: unknown; target?: { kind?: unknown } }>) {
    const name = p?.target?.kind === "Kustomization" ? targetName(p.target, "Kustomization") : undefined;
    if (!name) continue;
    const body = patchBody(cs, dir, p);
    const ops = Array.isArray(body) ? (body as Array<{ op?: unknown; path?: unknown; value?: unknown }>) : [];
    const set = ops.find((o) => (o?.op === "add" || o?.op === "replace") && o.path === "/spec/serviceAccountName")?.value ?? (body as { spec?: { serviceAccountName?: unknown } } | undefined)?.spec?.serviceAccountName;
    if (typeof set === "string" && set !== "") out.push({ name, account: set });
  }
  return out;
}

const goTrue = (v: string | undefined) => v !== undefined && /^(1|t|T|TRUE|true|True)$/.test(v);

export const flag = (l: Lockdown, c: Controller, name: string): string | undefined => l.flags[c]?.get(name);

/** The account a controller impersonates for an object that names none, or undefined (the controller's own). */
export const defaultServiceAccount = (l: Lockdown, c: Controller): string | undefined => {
  const v = flag(l, c, "--default-service-account");
  return v === undefined || v === "" ? undefined : v;
};

export const noCrossNamespaceRefs = (l: Lockdown, c: Controller): boolean => goTrue(flag(l, c, "--no-cross-namespace-refs"));
export const noRemoteBases = (l: Lockdown): boolean => goTrue(flag(l, "kustomize-controller", "--no-remote-bases"));

/** A feature gate as kustomize-controller's --feature-gates sets it (A=true,B=false), or undefined. */
export function featureGate(l: Lockdown, c: Controller, gate: string): boolean | undefined {
  const v = flag(l, c, "--feature-gates");
  const entry = v?.split(",").map((s) => s.trim().split("=")).find(([k]) => k === gate);
  return entry ? goTrue(entry[1] ?? "true") : undefined;
}

/**
 * The flags the lockdown of design 4.2 asks of a controller: Flux's table of them (src/flux/
 * minors.ts LOCKDOWN_FLAGS), and source-watcher's --no-cross-namespace-refs, which it takes
 * from its first release in Flux (same table's note) and the operator's profile sets.
 */
export const askedOf = (c: Controller) =>
  LOCKDOWN_FLAGS.filter((f) => f.controllers.includes(c) || (c === "source-watcher" && f.flag === "--no-cross-namespace-refs")).map((f) => f.flag);

/** A flag is on when it says true; the default account, when it names any account. */
const isOn = (name: string, v: string | undefined) => (name === "--default-service-account" ? v !== undefined && v !== "" : goTrue(v));

/** What is missing from a controller's lockdown, as the flags to add. */
export function missingLockdown(l: Lockdown, c: Controller): string[] {
  return askedOf(c)
    .filter((f) => !isOn(f, flag(l, c, f)))
    .map((f) => (f === "--default-service-account" ? `${f}=<account>` : `${f}=true`));
}
