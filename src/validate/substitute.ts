/**
 * Flux's postBuild variable substitution (design 4.4), applied to what a Kustomization builds:
 * `substitute` wins over `substituteFrom` (ConfigMaps and Secrets in the Kustomization's
 * namespace, later entries over earlier ones); `${var}`, `${var:=default}`, `${var:-default}`,
 * `${var=default}`; an empty value counts as unset; `$${var}` is a literal `${var}`; a resource
 * labelled or annotated `kustomize.toolkit.fluxcd.io/substitute: disabled` is left alone.
 */
import type { K8sObject } from "./model.js";

export const OPT_OUT = "kustomize.toolkit.fluxcd.io/substitute";

export interface Unresolved {
  name: string;
}

const VAR = /^([_a-zA-Z][_a-zA-Z0-9]*)(?:(:?[=-])([\s\S]*))?$/;

export function substituteString(s: string, vars: Record<string, string>, missing: Set<string>): string {
  if (!s.includes("${")) return s;
  return s.replace(/\$(\$)?\{([^}]*)\}/g, (whole, escaped: string | undefined, body: string) => {
    if (escaped) return `\${${body}}`;
    const m = VAR.exec(body);
    if (!m) return whole;
    const [, name, op, dflt] = m;
    const value = vars[name!];
    if (value !== undefined && value !== "") return value;
    if (op !== undefined) return dflt ?? "";
    missing.add(name!);
    return "";
  });
}

function walk(value: unknown, vars: Record<string, string>, missing: Set<string>): unknown {
  if (typeof value === "string") return substituteString(value, vars, missing);
  if (Array.isArray(value)) return value.map((v) => walk(v, vars, missing));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = walk(v, vars, missing);
    return out;
  }
  return value;
}

export const optedOut = (o: K8sObject) =>
  o.metadata?.labels?.[OPT_OUT] === "disabled" || o.metadata?.annotations?.[OPT_OUT] === "disabled";

/** Substitute in one object; returns it with the names that had neither value nor default. */
export function substituteObject(o: K8sObject, vars: Record<string, string>): { obj: K8sObject; missing: string[] } {
  if (optedOut(o)) return { obj: o, missing: [] };
  const missing = new Set<string>();
  const obj = walk(o, vars, missing) as K8sObject;
  return { obj, missing: [...missing].sort() };
}

/** The variables a Kustomization's postBuild gives, from objects the cluster applies. */
export function variablesFor(
  ks: K8sObject,
  clusterObjects: K8sObject[],
): { vars: Record<string, string>; absent: Array<{ kind: string; name: string }> } {
  const post = (ks.spec?.postBuild ?? {}) as {
    substitute?: Record<string, string>;
    substituteFrom?: Array<{ kind?: string; name?: string; optional?: boolean }>;
  };
  const ns = ks.metadata?.namespace ?? "default";
  const vars: Record<string, string> = {};
  const absent: Array<{ kind: string; name: string }> = [];
  for (const from of post.substituteFrom ?? []) {
    const src = clusterObjects.find(
      (o) => o.kind === from.kind && o.metadata?.name === from.name && (o.metadata?.namespace ?? "default") === ns,
    );
    if (!src) {
      if (!from.optional) absent.push({ kind: String(from.kind), name: String(from.name) });
      continue;
    }
    for (const [k, v] of Object.entries(src.data ?? {}))
      vars[k] = src.kind === "Secret" ? Buffer.from(String(v), "base64").toString("utf8") : String(v);
    for (const [k, v] of Object.entries(src.stringData ?? {})) vars[k] = String(v);
  }
  for (const [k, v] of Object.entries(post.substitute ?? {})) vars[k] = String(v);
  return { vars, absent };
}
