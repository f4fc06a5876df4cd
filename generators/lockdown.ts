/**
 * `fleet lockdown [--plan] [--stage platform|flags]`: retrofit the multi-tenancy lockdown onto a
 * Flux repo that lacks it (the practitioner's enterprise scenario: tenant Kustomizations without
 * serviceAccountName, all applying as kustomize-controller), planned offline from what each
 * cluster applies, and written as one proven change (src/lockdown/: plan, fixes, proof).
 *
 * The order is what makes it safe to merge: the platform step (accounts for every applier and a
 * reconciler per tenant namespace) changes no power the platform has and takes the tenants' away;
 * only once it is reconciled do the flags (the flags step) make anything without an account
 * powerless. So the flags step waits for the platform step, and for every blocker to be fixed.
 */
import type { Answers, Context, Generator } from "../src/core/generator.js";
import { InputError } from "../src/core/errors.js";
import * as v from "../src/core/validation.js";
import { readClusters } from "../src/model/clusters.js";
import { RECONCILER } from "../src/model/tenant-bounds.js";
import { lockdownActions, type Stage } from "../src/lockdown/fixes.js";
import type { ClusterPlan, LockdownChoices } from "../src/lockdown/plan.js";
import { proveLockdown } from "../src/lockdown/proof.js";
import { planJson, planLines } from "../src/lockdown/report.js";
import { surveyLockdown, type Surveyed } from "../src/lockdown/survey.js";
import { sourceFlagRule } from "../src/validate/source-flags.js";

const STAGES = ["all", "platform", "flags"] as const;
const surveyed = new WeakMap<Context, Surveyed>();
const str = (a: Answers, k: string) => (typeof a[k] === "string" ? (a[k] as string) : "");
const list = (a: Answers, k: string) => (Array.isArray(a[k]) ? (a[k] as string[]) : []);
const choicesOf = (a: Answers): LockdownChoices => ({ defaultServiceAccount: str(a, "defaultServiceAccount"), role: str(a, "role"), reconciler: str(a, "reconciler") });
const stagesOf = (a: Answers): Stage[] => (str(a, "stage") === "platform" ? ["platform"] : str(a, "stage") === "flags" ? ["flags"] : ["platform", "flags"]);
const plansOf = (ctx: Context): ClusterPlan[] => surveyed.get(ctx)?.clusters.map((c) => c.plan) ?? [];
/** What the platform step still has to write. */
const platformLeft = (p: ClusterPlan) => [
  ...p.appliers.filter((c) => c.account && c.at.inRepo).map((c) => `${c.at.ref} names no account`),
  ...p.reconcilers.filter((r) => !r.exists).map((r) => `tenant namespace ${r.namespace} has no reconciler`),
];
const FLAGGED = "tenant reconciler bound to cluster-admin (forced with --allow-cluster-admin)";

export const lockdown: Generator = {
  name: "lockdown",
  description: "Retrofit the multi-tenancy lockdown onto a Flux repo: plan it offline (--plan), then write it as one proven change (or two: --stage platform, then --stage flags)",
  needsRepo: true,
  anyFluxRepo: true,
  answers: [
    { name: "plan", message: "Only print the plan: what would lose power or fail once the lockdown is on, and what fleet would write", type: "confirm", ask: false, default: () => false },
    {
      name: "stage",
      message: "What to write: all of it, the platform step (accounts and reconcilers), or the flags step (after the platform step is merged and reconciled)",
      type: "list",
      ask: false,
      choices: () => [...STAGES],
      default: () => "all",
    },
    { name: "cluster", message: "Only this cluster (default: every cluster of the repository)", ask: false, optional: true, offer: (ctx) => readClusters(ctx.cs).map((c) => c.name) },
    {
      name: "defaultServiceAccount",
      message: "The account --default-service-account names where a cluster sets none: what an applier without serviceAccountName acts as (nothing should grant it anything)",
      ask: false,
      default: () => "default",
      validate: (val) => v.dnsSubdomain(String(val)),
    },
    { name: "role", message: "ClusterRole each tenant reconciler is bound to in its namespace", ask: false, default: (ctx) => ctx.config.tenantDefaults.role, validate: (val) => v.dnsLabel(String(val)) },
    { name: "allowClusterAdmin", message: "Bind cluster-admin in the tenant namespaces anyway (flagged)", type: "confirm", ask: false, default: () => false },
    { name: "reconciler", message: "Name of each tenant's reconciler ServiceAccount (and its RoleBinding)", ask: false, default: () => RECONCILER, validate: (val) => v.dnsSubdomain(String(val)) },
    {
      name: "source",
      message: "A Flux source that is not this repository, as NAMESPACE/NAME=DIR (DIR absolute, or relative to the repository): its content is planned too (a tenant's repository)",
      hint: "NS/NAME=DIR",
      multiple: true,
      ask: false,
      optional: true,
      validate: (val) => (val as string[]).map(sourceFlagRule).find((e) => e !== undefined),
    },
    { name: "ignoreBlockers", message: "Write the flags although the plan names blockers fleet cannot fix (they fail once the flags are on)", type: "confirm", ask: false, default: () => false },
  ],
  check: (a) =>
    str(a, "role") === "cluster-admin" && a.allowClusterAdmin !== true
      ? [{ field: "--role", rule: "cluster-admin gives each tenant's reconciler every power in its namespace, including over its quota and RBAC", fix: "use admin, edit or a narrower role; --allow-cluster-admin forces it and flags the bindings" }]
      : [],
  reportOnly: (flags) => flags.plan === true,
  survey: async (a, ctx) => {
    const s = await surveyLockdown(ctx.cs, { ...(str(a, "cluster") ? { cluster: str(a, "cluster") } : {}), sources: list(a, "source"), choices: choicesOf(a) });
    surveyed.set(ctx, s);
    if (a.plan === true) return;
    const plans = s.clusters.map((c) => c.plan);
    const stages = stagesOf(a);
    if (stages.length === 1 && stages[0] === "flags") {
      const left = plans.flatMap((p) => platformLeft(p).map((l) => `cluster ${p.cluster}: ${l}`));
      if (left.length)
        throw new InputError(
          "--stage",
          `flags come after the platform step, which is not in the repository yet (${left.slice(0, 3).join("; ")}${left.length > 3 ? `; and ${left.length - 3} more` : ""}): with the flags first, those would lose their power`,
          "run fleet lockdown --stage platform, merge it and wait until flux get kustomizations -A shows every Kustomization Ready; then run --stage flags",
        );
    }
    const blockers = plans.flatMap((p) => p.blockers.map((b) => `cluster ${p.cluster}: ${b.ref}${b.file ? ` (${b.file})` : ""}: ${b.why}`));
    if (stages.includes("flags") && blockers.length && a.ignoreBlockers !== true)
      throw new InputError(
        str(a, "stage") === "flags" ? "--stage" : "fleet lockdown",
        `the flags would break what fleet cannot fix from this repository:\n  - ${blockers.join("\n  - ")}`,
        "fix each as fleet lockdown --plan says, or write the platform step alone now (--stage platform); --ignore-blockers writes the flags anyway",
      );
  },
  report: (a, ctx) => ({ lines: planLines(plansOf(ctx), choicesOf(a)), json: { plan: planJson(plansOf(ctx)) } }),
  actions: (a, ctx) => (a.plan === true ? [] : lockdownActions(ctx.cs, plansOf(ctx), choicesOf(a), stagesOf(a), str(a, "role") === "cluster-admin" ? FLAGGED : "")),
  proof: (a, ctx) => {
    const s = surveyed.get(ctx);
    if (!s || !ctx.cs.hasChanges()) return undefined;
    return { prove: (opts) => proveLockdown(ctx.cs, { ...s, choices: choicesOf(a), stages: stagesOf(a) }, opts) };
  },
  confirm: (a, ctx) => `Write the lockdown's ${stagesOf(a).join(" and ")} step${stagesOf(a).length > 1 ? "s" : ""} for ${plansOf(ctx).map((p) => p.cluster).join(", ")}?`,
  notes: (a, ctx) => {
    const plans = plansOf(ctx);
    const out: string[] = [];
    // A file of one cluster's plan may be applied by others too (a shared tenants/base): they change with it, unproven.
    if (str(a, "cluster") && ctx.cs.hasChanges())
      out.push(`--cluster ${str(a, "cluster")} planned and proved that cluster only; a changed file another cluster also applies changes it too: run fleet lockdown --plan without --cluster to see every cluster`);
    const blockers = plans.reduce((n, p) => n + p.blockers.length, 0);
    if (!ctx.cs.hasChanges())
      out.push(`nothing fleet can write for the ${stagesOf(a).join(" and ")} step${blockers ? `; ${blockers} blocker${blockers === 1 ? "" : "s"} fleet cannot fix remain${blockers === 1 ? "s" : ""}` : ""}: fleet lockdown --plan shows what each cluster has`);
    for (const p of plans) {
      const refused = p.appliers.flatMap((c) => c.refused.map((r) => `${r.ref} (applied by ${c.at.ref})`));
      if (refused.length) out.push(`cluster ${p.cluster}: once its Kustomization runs as the reconciler, Kubernetes refuses ${refused.join(", ")}: that Kustomization stays not Ready until they leave its source, and ones already on the cluster must be deleted by hand (fleet lockdown --plan says how)`);
      for (const b of p.forTenants) out.push(`cluster ${p.cluster}: for the tenant team: ${b.ref}: ${b.fix}`);
      if (stagesOf(a).includes("flags")) for (const b of p.blockers) out.push(`cluster ${p.cluster}: written with --ignore-blockers: ${b.ref} fails once the flags are on: ${b.fix}`);
    }
    return out;
  },
  nextSteps: (a, ctx) => {
    const plans = plansOf(ctx);
    const tenant = plans.flatMap((p) => p.reconcilers)[0]?.namespace ?? "<tenant namespace>";
    const sa = `system:serviceaccount:${tenant}:${str(a, "reconciler")}`;
    const platform = [
      "Merge this step alone. On each cluster, once Flux applied it: flux get kustomizations -A shows every Kustomization Ready at the new revision (one that is not names what its account may not do), and flux get helmreleases -A the same.",
      `Check a tenant's reconciler: kubectl auth can-i create deployments -n ${tenant} --as=${sa} says yes; kubectl auth can-i create clusterrolebindings --as=${sa} says no.`,
    ];
    const flags = [
      "Merge the flags. On each cluster: kubectl -n flux-system get deployment kustomize-controller -o jsonpath='{.spec.template.spec.containers[0].args}' lists them, and flux get kustomizations -A and flux get helmreleases -A show everything Ready.",
      `Check the default account is powerless: kubectl auth can-i create deployments -n ${tenant} --as=system:serviceaccount:${tenant}:${plans[0]?.defaultServiceAccount ?? "default"} says no. Then run fleet validate.`,
    ];
    const stages = stagesOf(a);
    if (stages.length === 2)
      return ["This change holds both steps. Safer: merge them apart (fleet lockdown --stage platform, then --stage flags). Merged at once, appliers may fail until their new spec is applied; nothing is pruned meanwhile.", ...platform, ...flags];
    return stages[0] === "platform" ? [...platform, "Then: fleet lockdown --stage flags."] : flags;
  },
};

export default lockdown;
