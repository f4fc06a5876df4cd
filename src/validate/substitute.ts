/**
 * Flux's postBuild variable substitution (design 4.4), applied to what a Kustomization builds, as
 * fluxcd/pkg kustomize/kustomize_varsub.go does it (SubstituteVariables, LoadVariables):
 * `substitute` wins over `substituteFrom` (ConfigMaps and Secrets in the Kustomization's
 * namespace, later entries over earlier ones); every value loses its newlines; substitution runs
 * only when at least one variable is defined, unless `postBuild.substituteStrategy: Always`
 * (otherwise a `${var}` stays as written, defaults included); `${var}`, `${var:=default}`,
 * `${var:-default}`, `${var=default}` (drone/envsubst); an empty value counts as unset for the
 * default forms, and is a value for a bare `${var}`; `$${var}` is a literal `${var}`; a resource
 * labelled or annotated `kustomize.toolkit.fluxcd.io/substitute: disabled` is left alone.
 */
import type { K8sObject } from "./model.js";

export const OPT_OUT = "kustomize.toolkit.fluxcd.io/substitute";

export interface Unresolved {
  name: string;
}

/** `${var-default}` (a dash without the colon) is not a form envsubst takes: it is left as written. */
const VAR = /^([_a-zA-Z][_a-zA-Z0-9]*)(?:(:[=-]|=)([\s\S]*))?$/;

export function substituteString(s: string, vars: Record<string, string>, missing: Set<string>): string {
  if (!s.includes("${")) return s;
  return s.replace(/\$(\$)?\{([^}]*)\}/g, (whole, escaped: string | undefined, body: string) => {
    if (escaped) return `\${${body}}`;
    const m = VAR.exec(body);
    if (!m) return whole;
    const [, name, op, dflt] = m;
    const value = vars[name!];
    if (op === undefined) {
      if (value === undefined) missing.add(name!);
      return value ?? "";
    }
    return value !== undefined && value !== "" ? value : (dflt ?? "");
  });
}

/**
 * The value with its strings substituted: the same value where nothing changes, a copy of only
 * what does. Built objects are shared and frozen (build.ts), and most of them hold no variable.
 */
function walk(value: unknown, vars: Record<string, string>, missing: Set<string>): unknown {
  if (typeof value === "string") return substituteString(value, vars, missing);
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const w = walk(v, vars, missing);
      if (w !== v) (out ??= value.slice())[i] = w;
    });
    return out ?? value;
  }
  if (value && typeof value === "object") {
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const w = walk(v, vars, missing);
      if (w !== v) (out ??= { ...value })[k] = w;
    }
    return out ?? value;
  }
  return value;
}

export const optedOut = (o: K8sObject) =>
  o.metadata?.labels?.[OPT_OUT] === "disabled" || o.metadata?.annotations?.[OPT_OUT] === "disabled";

/**
 * Substitute in one object; returns it with the names that had neither value nor default. When
 * Flux does not substitute at all (`active` false: no variable defined), the object stays as it
 * is, and its bare `${var}`s are still named: they reach the cluster as written.
 */
export function substituteObject(o: K8sObject, vars: Record<string, string>, active = true): { obj: K8sObject; missing: string[] } {
  if (optedOut(o)) return { obj: o, missing: [] };
  if (!active) {
    const missing = new Set<string>();
    walk(o, {}, missing);
    return { obj: o, missing: [...missing].sort() };
  }
  const missing = new Set<string>();
  const obj = walk(o, vars, missing) as K8sObject;
  return { obj, missing: [...missing].sort() };
}

const flat = (v: string) => v.replace(/\n/g, "");

/**
 * Objects by kind, namespace and name (the first of each), for finding variable sources: a
 * thousand Kustomizations each searching ten thousand objects would be ten million comparisons.
 */
export class ObjectIndex {
  private readonly by = new Map<unknown, Map<unknown, Map<unknown, K8sObject>>>();
  constructor(objects: K8sObject[]) {
    for (const o of objects) {
      const byNs = this.by.get(o.kind) ?? this.by.set(o.kind, new Map()).get(o.kind)!;
      const ns = o.metadata?.namespace ?? "default";
      const byName = byNs.get(ns) ?? byNs.set(ns, new Map()).get(ns)!;
      if (!byName.has(o.metadata?.name)) byName.set(o.metadata?.name, o);
    }
  }
  get(kind: unknown, namespace: unknown, name: unknown): K8sObject | undefined {
    return this.by.get(kind)?.get(namespace)?.get(name);
  }
}

/** The variables a Kustomization's postBuild gives, from objects the cluster applies. */
export function variablesFor(
  ks: K8sObject,
  clusterObjects: K8sObject[] | ObjectIndex,
): { vars: Record<string, string>; absent: Array<{ kind: string; name: string }>; active: boolean } {
  const index = clusterObjects instanceof ObjectIndex ? clusterObjects : new ObjectIndex(clusterObjects);
  const post = (ks.spec?.postBuild ?? {}) as {
    substituteStrategy?: string;
    substitute?: Record<string, string>;
    substituteFrom?: Array<{ kind?: string; name?: string; optional?: boolean }>;
  };
  const ns = ks.metadata?.namespace ?? "default";
  const vars: Record<string, string> = {};
  const absent: Array<{ kind: string; name: string }> = [];
  for (const from of post.substituteFrom ?? []) {
    const src = index.get(from.kind, ns, from.name);
    if (!src) {
      if (!from.optional) absent.push({ kind: String(from.kind), name: String(from.name) });
      continue;
    }
    for (const [k, v] of Object.entries(src.data ?? {}))
      vars[k] = flat(src.kind === "Secret" ? Buffer.from(String(v), "base64").toString("utf8") : String(v));
    // A Secret's stringData is in its data once applied.
    for (const [k, v] of Object.entries(src.stringData ?? {})) vars[k] = flat(String(v));
  }
  for (const [k, v] of Object.entries(post.substitute ?? {})) vars[k] = flat(String(v));
  return { vars, absent, active: Object.keys(vars).length > 0 || post.substituteStrategy === "Always" };
}
