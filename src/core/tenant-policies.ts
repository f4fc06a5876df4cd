/**
 * What fleet puts around every tenant besides its RBAC (fleet.yaml `tenantPolicies`): a
 * NetworkPolicy in its namespace, Pod Security Admission labels on it, and a
 * ValidatingAdmissionPolicy that enforces at admission what `fleet validate` proves offline.
 * One definition of each name and rule, shared by the generators that write them, new-tenant's
 * checks and validate's.
 */
import type { FleetConfig } from "./config.js";
import { quotedText, type Rule } from "./validation.js";

/** Pod Security Standards levels (pod-security.kubernetes.io/enforce), strictest last. */
export const POD_SECURITY_LEVELS = ["privileged", "baseline", "restricted"] as const;
export type PodSecurityLevel = (typeof POD_SECURITY_LEVELS)[number];

export interface TenantPolicies {
  /** A NetworkPolicy in each tenant namespace that lets in only the namespace's own pods. */
  networkPolicy: boolean;
  /** Pod Security Admission labels on each tenant namespace, at the tenant's level. */
  podSecurity: boolean;
  /** The ValidatingAdmissionPolicies in infrastructure/base/ (and validate's check of them). */
  admissionPolicy: boolean;
  /** URL prefixes a tenant's sources may use; empty: no restriction. */
  sourcePrefixes: string[];
}

/** A fleet.yaml without `tenantPolicies` (older fleet, or an adopted repo) gets none of them until it opts in. */
export const NO_TENANT_POLICIES: TenantPolicies = { networkPolicy: false, podSecurity: false, admissionPolicy: false, sourcePrefixes: [] };

/** The file of a tenant's NetworkPolicy, in its base (remove-tenant's step 2 takes the base whole). */
export const NETWORK_POLICY_FILE = "network-policy.yaml";
export const NETWORK_POLICY_NAME = "default-deny-ingress";

/** Where the admission policies live: applied by every cluster's infrastructure, before its tenants. */
export const ADMISSION_DIR = "infrastructure/base";
export const ADMISSION_FILE = "tenant-admission.yaml";
export const ADMISSION = {
  serviceAccount: "fleet-tenant-service-account",
  sources: "fleet-tenant-sources",
  /** The ConfigMap the sources policy takes as its params, and its key (one prefix a line). */
  params: { namespace: "flux-system", name: "fleet-tenant-sources", key: "allowedPrefixes" },
} as const;

/**
 * A URL prefix a tenant source may start with. It ends with '/', or `https://github.com/acme`
 * would also let in https://github.com/acme-other/; one line, because the policy's ConfigMap
 * holds one prefix a line.
 */
export const sourcePrefix: Rule = (v) => {
  const unsafe = quotedText(v);
  if (unsafe) return unsafe;
  if (/\s/.test(v)) return "must not contain white space";
  if (!/^(https|ssh|oci|http):\/\/[^/]+\//.test(v)) return "must be a URL prefix naming a host, e.g. https://github.com/acme/ or oci://ghcr.io/acme/";
  if (!v.endsWith("/")) return `must end with '/', or it would also allow what merely starts the same (${v}-other/)`;
  return undefined;
};

/**
 * The prefixes a new fleet repo allows: its own owner's repositories on its git host, over
 * https and ssh (what new-tenant writes and what Flux clones).
 */
export function defaultSourcePrefixes(git: FleetConfig["git"]): string[] {
  if (git.provider === "git") {
    if (!git.url) return [];
    const u = new URL(git.url);
    const owner = git.owner ? `${git.owner}/` : "";
    return [`${u.protocol}//${u.host}/${owner}`];
  }
  const host = git.hostname || (git.provider === "gitlab" ? "gitlab.com" : "github.com");
  return [`https://${host}/${git.owner}/`, `ssh://git@${host}/${git.owner}/`];
}

/** Whether a source URL is allowed: no prefixes listed, or one of them starts it. */
export const sourceAllowed = (url: string, prefixes: readonly string[]) => prefixes.length === 0 || prefixes.some((p) => url.startsWith(p));

/** The ConfigMap's value: the prefixes one a line, as the policy splits it. */
export const prefixesValue = (prefixes: readonly string[]) => prefixes.map((p) => `${p}\n`).join("");

/** The prefixes the ConfigMap's value lists, as the policy reads them. */
export const prefixesOf = (value: string) => value.split("\n").filter((p) => p !== "");
