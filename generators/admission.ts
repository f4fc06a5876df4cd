/**
 * The admission policies of a fleet repo (fleet.yaml tenantPolicies.admissionPolicy): one file
 * in infrastructure/base/, which every environment's infrastructure overlay includes, so every
 * cluster applies it before its tenants (tenants depend on infrastructure).
 */
import type { FleetConfig } from "../src/core/config.js";
import type { FleetAction } from "../src/core/generator.js";
import { ADMISSION, ADMISSION_DIR, ADMISSION_FILE } from "../src/core/tenant-policies.js";

export function admissionActions(config: FleetConfig): FleetAction[] {
  if (!config.tenantPolicies.admissionPolicy) return [];
  return [
    {
      type: "fleet:render",
      path: `${ADMISSION_DIR}/${ADMISSION_FILE}`,
      template: "infrastructure/tenant-admission.yaml",
      data: { names: ADMISSION, prefixes: config.tenantPolicies.sourcePrefixes },
    },
    { type: "fleet:kustomization", path: `${ADMISSION_DIR}/kustomization.yaml`, addResources: [ADMISSION_FILE] },
  ];
}
