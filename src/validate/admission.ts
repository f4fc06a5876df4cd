/**
 * The tenant admission policies (fleet.yaml tenantPolicies.admissionPolicy; src/core/tenant-policies.ts):
 * that each cluster applies them as fleet wrote them, with the source prefixes fleet.yaml
 * allows, and that what the repo gives tenants already passes them, offline. Only a repo whose
 * fleet.yaml opts in is judged: an adopted repo gets no finding it did not ask for.
 */
import { ChangeSet } from "../changeset/changeset.js";
import { loadConfig, type FleetConfig } from "../core/config.js";
import { ADMISSION, ADMISSION_DIR, ADMISSION_FILE, prefixesOf, sourceAllowed } from "../core/tenant-policies.js";
import type { Check, CheckContext, Hit } from "./checks.js";
import { group, type Applied, type K8sObject } from "./model.js";
import { nsOf } from "./tenancy.js";

const ADMISSION_GROUP = "admissionregistration.k8s.io";
const WRITTEN_AT = `${ADMISSION_DIR}/${ADMISSION_FILE}`;

/** fleet.yaml of the repo, when it has a valid one (any Flux repo may have none). */
export function fleetConfigOf(root: string): { config?: FleetConfig } {
  try {
    return { config: loadConfig(new ChangeSet(root)) };
  } catch {
    return {};
  }
}

const optedIn = (c: CheckContext) => c.config?.tenantPolicies.admissionPolicy === true;

function find(c: CheckContext, kind: string, name: string, grp = ADMISSION_GROUP, namespace?: string): Applied | undefined {
  return c.objects.find((a) => a.obj.kind === kind && group(a.obj) === grp && a.obj.metadata?.name === name && (namespace === undefined || nsOf(a) === namespace));
}

/** Where a missing object is reported: where fleet writes it. */
const missing = (kind: string, name: string, namespace?: string): Hit["at"] => ({
  obj: { apiVersion: kind === "ConfigMap" ? "v1" : `${ADMISSION_GROUP}/v1`, kind, metadata: { name, ...(namespace ? { namespace } : {}) } } as K8sObject,
  file: WRITTEN_AT,
});

/** What is wrong with one policy and its binding as the cluster applies them. */
function policyProblems(c: CheckContext, name: string, params: boolean): Hit[] {
  const policy = find(c, "ValidatingAdmissionPolicy", name);
  if (!policy) return [{ at: missing("ValidatingAdmissionPolicy", name), message: "is not applied on this cluster" }];
  const binding = find(c, "ValidatingAdmissionPolicyBinding", name);
  if (!binding) return [{ at: missing("ValidatingAdmissionPolicyBinding", name), message: `is not applied on this cluster: without it, policy ${name} enforces nothing` }];
  const hits: Hit[] = [];
  const spec = binding.obj.spec ?? {};
  if (spec.policyName !== name) hits.push({ at: binding, message: `binds policy ${String(spec.policyName)}, not ${name}` });
  if (!(spec.validationActions ?? []).includes("Deny")) hits.push({ at: binding, message: `validationActions ${JSON.stringify(spec.validationActions ?? [])} lacks Deny: what the policy refuses is let in` });
  const ref = spec.paramRef ?? {};
  if (params && (ref.name !== ADMISSION.params.name || ref.namespace !== ADMISSION.params.namespace))
    hits.push({ at: binding, message: `paramRef is ${ref.namespace ?? "?"}/${ref.name ?? "?"}, not the ConfigMap ${ADMISSION.params.namespace}/${ADMISSION.params.name} that lists fleet.yaml's prefixes` });
  return hits;
}

/** The allowed prefixes the cluster's ConfigMap lists, against fleet.yaml's. */
function prefixProblems(c: CheckContext): Hit[] {
  const { namespace, name, key } = ADMISSION.params;
  const cm = find(c, "ConfigMap", name, "", namespace);
  if (!cm) return [{ at: missing("ConfigMap", name, namespace), message: "is not applied on this cluster: the sources policy refuses every tenant source without it" }];
  const value = cm.obj.data?.[key];
  const listed = typeof value === "string" ? prefixesOf(value) : [];
  const wanted = c.config!.tenantPolicies.sourcePrefixes;
  const extra = listed.filter((p) => !wanted.includes(p));
  const lacking = wanted.filter((p) => !listed.includes(p));
  if (extra.length === 0 && lacking.length === 0) return [];
  const parts = [...(extra.length ? [`allows ${extra.join(", ")}, which fleet.yaml does not`] : []), ...(lacking.length ? [`lacks ${lacking.join(", ")}, which fleet.yaml allows`] : [])];
  return [{ at: cm, message: `data.${key} differs from fleet.yaml's tenantPolicies.sourcePrefixes: it ${parts.join("; it ")}` }];
}

const SOURCE_KINDS = ["GitRepository", "OCIRepository", "HelmRepository"];

export const ADMISSION_CHECKS: Check[] = [
  {
    id: "admission-policy",
    severity: "error",
    scope: "cluster",
    title: "the tenant admission policies are applied, with the source prefixes fleet.yaml allows",
    fix: `apply ${WRITTEN_AT} from every cluster's infrastructure (fleet init writes it; its ConfigMap lists fleet.yaml's tenantPolicies.sourcePrefixes, one a line), or set tenantPolicies.admissionPolicy: false in fleet.yaml`,
    run: (c) => (optedIn(c) ? [...policyProblems(c, ADMISSION.serviceAccount, false), ...policyProblems(c, ADMISSION.sources, true), ...prefixProblems(c)] : []),
  },
  {
    id: "tenant-source-prefix",
    severity: "error",
    title: "tenant sources read only from the URL prefixes fleet.yaml allows",
    fix: "point the source at a repository under an allowed prefix, or add its prefix to fleet.yaml's tenantPolicies.sourcePrefixes and to the ConfigMap in infrastructure/base/tenant-admission.yaml",
    // The admission policy refuses these on the cluster: found here, before the merge.
    run: (c) =>
      optedIn(c)
        ? c.objects
            .filter((a) => SOURCE_KINDS.includes(String(a.obj.kind)) && group(a.obj) === "source.toolkit.fluxcd.io" && c.tenantNamespaceSet.has(nsOf(a)))
            .filter((a) => !sourceAllowed(String(a.obj.spec?.url ?? ""), c.config!.tenantPolicies.sourcePrefixes))
            .map((a) => ({ at: a, message: `spec.url ${String(a.obj.spec?.url)} starts with none of ${c.config!.tenantPolicies.sourcePrefixes.join(", ")}: the cluster's admission policy refuses it` }))
        : [],
  },
];
