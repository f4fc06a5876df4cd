/** The lockdown plan as a person reads it (`fleet lockdown --plan`), and as data (--json). */
import type { ApplierChange, ClusterPlan, LockdownChoices, Refused } from "./plan.js";

const at = (n: { ref: string; file: string }) => (n.file ? `${n.ref} (${n.file})` : n.ref);

/** kubectl's words for an object named kind/[namespace/]name. */
function kubectlTarget(refName: string): string {
  const parts = refName.split("/");
  const kind = parts[0]!.toLowerCase();
  return parts.length === 3 ? `${kind} ${parts[2]} -n ${parts[1]}` : `${kind} ${parts[1]}`;
}

/** Bindings are what grants power: one left on the cluster keeps granting it. */
const grantsPower = (refName: string) => /^(ClusterRoleBinding|RoleBinding)\//.test(refName);

/**
 * What to do with an object the new account may not apply, once it leaves the source: Flux
 * prunes it where the account may delete it; otherwise the prune fails too (it runs as the
 * account), so an escalating binding is deleted by hand, and anything else (a Namespace, a CRD:
 * deleting those deletes what they hold) is annotated so that Flux lets go of it.
 */
function afterwards(r: Refused): string {
  if (r.prunable) return `once it is out of the source, Flux prunes it`;
  if (grantsPower(r.ref)) return `once it is out of the source, delete it by hand: kubectl delete ${kubectlTarget(r.ref)}`;
  return `before it leaves the source, have Flux let go of it: kubectl annotate ${kubectlTarget(r.ref)} kustomize.toolkit.fluxcd.io/prune=disabled (deleting it would delete what it holds)`;
}

/**
 * What Flux does with what the new account may not apply (kustomize-controller: every object
 * of an apply stage is dry-run before any is written, and a failed apply skips the inventory
 * update and the prune; the prune, too, runs as the account).
 */
function refusedLines(c: ApplierChange): string[] {
  if (c.refused.length === 0) return [];
  return [
    `      its objects the reconciler may not apply (Kubernetes refuses them):`,
    ...c.refused.map((r) => `        ${at(r)}: ${r.why}; ${afterwards(r)}`),
    `      Flux then fails ${c.kind} ${c.namespace}/${c.name} (Ready=False): nothing of that apply stage is applied and nothing is pruned, until they leave its source; one already on the cluster stays there.`,
  ];
}

export function planLines(plans: ClusterPlan[], choices: LockdownChoices): string[] {
  const out: string[] = [];
  for (const p of plans) {
    out.push(`cluster ${p.cluster} (${p.path}): the lockdown ${p.via === "operator" ? `is cluster.multitenant on the FluxInstance in ${p.lockdownFile}` : `patches are in ${p.lockdownFile}`}`);
    if (p.flags.length) {
      out.push(`  controllers without the lockdown (default account: ${p.defaultServiceAccount}):`);
      for (const f of p.flags) out.push(`    ${f.controller}: ${f.flags.join(", ")}`);
    } else out.push("  the controllers run with the lockdown already");
    const platform = p.appliers.filter((c) => !c.tenant && c.account);
    if (platform.length) {
      out.push("  platform appliers without an account (they would lose their power once the flags are on):");
      for (const c of platform)
        out.push(
          `    ${at(c.at)}: acts as ${c.now} today; with the flags alone as ${c.withFlags}`,
          `      fleet sets serviceAccountName: ${c.account}${c.via === "patch" ? ` (a patch in ${p.lockdownFile})` : ""}: the controller's own account (cluster-admin)`,
          ...(c.unchecked ? [`      note: ${c.unchecked}`] : []),
        );
    }
    for (const r of p.reconcilers) {
      out.push(`  tenant namespace ${r.namespace}: ${r.exists ? `its reconciler ${r.namespace}:${choices.reconciler} exists` : `fleet adds reconciler ${r.namespace}:${choices.reconciler}, bound to ClusterRole ${choices.role} in ${r.namespace} (beside ${r.anchor})`}`);
      if (r.shared)
        out.push(`    note: tenants ${r.shared.join(", ")} (their appliers' toolkit.fluxcd.io/tenant labels) share namespace ${r.namespace}, so one reconciler acts for all of them: each can change the others' objects; give each tenant a namespace of its own to isolate them`);
      for (const c of p.appliers.filter((x) => x.tenant === r.namespace)) {
        out.push(`    ${at(c.at)}: acts as ${c.now} today; with the flags alone as ${c.withFlags}`);
        out.push(c.at.inRepo ? `      fleet sets serviceAccountName: ${c.account}` : `      in the tenant's repository: its team sets serviceAccountName: ${c.account}`);
        if (c.increase) out.push(`      more than today: ${c.increase}`);
        out.push(...refusedLines(c));
        if (c.unchecked) out.push(`      not checked: ${c.unchecked}`);
      }
    }
    if (p.blockers.length) {
      out.push("  blockers: fleet cannot fix these, and the flags would break them; fix them first (fleet lockdown --stage flags refuses until then; --ignore-blockers overrides):");
      for (const b of p.blockers) out.push(`    ${at(b)}: ${b.why}`, `      fix: ${b.fix}`);
    }
    if (p.forTenants.length) {
      out.push("  for the tenant teams (their repositories; these fail once the flags are on, until changed):");
      for (const b of p.forTenants) out.push(`    ${at(b)}: ${b.why}`, `      fix: ${b.fix}`);
    }
    for (const n of p.notChecked) out.push(`  not checked: ${n}`);
    out.push("");
  }
  const todo = plans.some((p) => p.flags.length || p.appliers.some((c) => c.account && c.at.inRepo) || p.reconcilers.some((r) => !r.exists));
  const blocked = plans.some((p) => p.blockers.length);
  out.push(
    todo && blocked
      ? "Nothing was written. fleet lockdown --stage platform writes the accounts now (--dry-run shows the diff); the flags wait until the blockers above are fixed."
      : todo
      ? "Nothing was written. fleet lockdown writes all of it as one change (--dry-run shows the diff); --stage platform then --stage flags writes it as two, merged and reconciled in that order."
      : blocked
        ? "Nothing fleet can write: what is left are the blockers above, to fix by hand before the flags."
        : plans.some((p) => p.notChecked.length)
          ? "Nothing to do for what this plan could read: every cluster runs with the lockdown, and every applier it saw names its account (see not checked; --source NS/NAME=DIR adds a repository)."
          : "Nothing to do: every cluster runs with the lockdown, and every applier names its account.",
  );
  return out;
}

export function planJson(plans: ClusterPlan[]): Record<string, unknown> {
  return {
    clusters: plans.map((p) => ({
      cluster: p.cluster,
      path: p.path,
      via: p.via,
      lockdownFile: p.lockdownFile,
      defaultServiceAccount: p.defaultServiceAccount,
      flags: p.flags,
      appliers: p.appliers.map((c) => ({
        object: c.at.ref,
        file: c.at.file,
        inRepo: c.at.inRepo,
        now: c.now,
        withFlags: c.withFlags,
        ...(c.account ? { account: c.account } : {}),
        ...(c.tenant ? { tenantNamespace: c.tenant } : {}),
        refused: c.refused.map((r) => ({ object: r.ref, file: r.file, why: r.why, afterwards: afterwards(r) })),
        ...(c.unchecked ? { notChecked: c.unchecked } : {}),
        ...(c.increase ? { increase: c.increase } : {}),
      })),
      reconcilers: p.reconcilers,
      blockers: p.blockers.map((b) => ({ object: b.ref, file: b.file, why: b.why, fix: b.fix })),
      forTenants: p.forTenants.map((b) => ({ object: b.ref, file: b.file, why: b.why, fix: b.fix })),
      notChecked: p.notChecked,
    })),
  };
}
