/** `fleet new-tenant <name>`: onboard a team into tenants/base/ and every environment overlay. */
import type { Answers, AnswerSpec, FleetAction, Generator } from "../src/core/generator.js";
import { ISOLATED_DIR, repoLayout, type Layout } from "../src/model/overlays.js";
import type { Context } from "../src/core/generator.js";
import { namespaceUsers } from "../src/model/namespaces.js";
import * as v from "../src/core/validation.js";
import { POD_SECURITY_LEVELS, sourceAllowed, type PodSecurityLevel } from "../src/core/tenant-policies.js";
import { DEFAULT_SECRET, QUOTA_KEYS, tenantActions, type Tenant } from "./tenant-actions.js";
import { tenantProof } from "./tenant-proof.js";
import { checkedOutBy, type GitRef, type RefKind } from "../src/flux/git-ref.js";

const str = (a: Answers, k: string) => String(a[k]);
const list = (a: Answers, k: string) => (Array.isArray(a[k]) ? (a[k] as string[]) : []);

/** cpu and memory are Kubernetes quantities; pods is a count, a whole number. */
const QUOTA_RULES: Record<(typeof QUOTA_KEYS)[number], v.Rule> = { cpu: v.quantity, memory: v.quantity, pods: v.count };

/** `cpu=4`, `memory=8Gi` for every environment, or `prod.pods=50` for one. */
export function checkQuota(items: string[], environments: string[]): string | undefined {
  for (const item of items) {
    const m = /^(?:([a-z0-9-]+)\.)?([a-z]+)=(.*)$/.exec(item);
    if (!m) return `'${item}' must be key=value or env.key=value, with key one of ${QUOTA_KEYS.join(", ")}`;
    const [, env, key, value] = m;
    if (env !== undefined && !environments.includes(env))
      return `'${item}' names environment '${env}', which is not one of: ${environments.join(", ")}`;
    if (!(QUOTA_KEYS as readonly string[]).includes(key!)) return `'${item}': key must be one of ${QUOTA_KEYS.join(", ")}`;
    const broken = QUOTA_RULES[key as keyof typeof QUOTA_RULES](value!);
    if (broken) return `'${item}': value ${broken}`;
  }
  return undefined;
}

export const quotaAnswer = (message: string): AnswerSpec => ({
  name: "quota",
  message,
  multiple: true,
  hint: "cpu=4,memory=8Gi,pods=50 or prod.cpu=8; default: each environment's quota",
  default: () => [],
  validate: (val, ctx) => checkQuota(val as string[], ctx.environments),
});

/** The kinds of ref a tenant may follow instead of a branch (src/flux/git-ref.ts). */
const PINNED_KINDS = ["tag", "semver", "commit"] as const satisfies readonly RefKind[];
const TENANT_REF_KINDS = ["branch", ...PINNED_KINDS] as const;

/** The one ref given (check() refuses more than one). */
const refOf = (a: Answers): GitRef => Object.fromEntries(TENANT_REF_KINDS.filter((k) => a[k] !== undefined).map((k) => [k, str(a, k)]));

const answers: AnswerSpec[] = [
  {
    name: "name",
    positional: true,
    message: "Tenant name (its namespace)",
    validate: (val) => v.namespaceName(String(val)),
  },
  {
    name: "url",
    message: "Git URL of the tenant's config repository",
    hint: "https://... or ssh://git@...",
    validate: (val) => v.gitUrl(String(val)),
  },
  {
    name: "branch",
    message: "Branch to reconcile",
    // Only when no other kind of ref is given: the default is a branch, never a second ref.
    when: (a) => !PINNED_KINDS.some((k) => a[k] !== undefined),
    default: (ctx) => ctx.config.tenantDefaults.branch,
    validate: (val) => v.branchName(String(val)),
  },
  {
    name: "tag",
    message: "Tag to reconcile, instead of a branch",
    ask: false,
    optional: true,
    validate: (val) => v.tagName(String(val)),
  },
  {
    name: "semver",
    message: "Semver range of tags to reconcile (the highest match), instead of a branch",
    hint: '">=1.0.0 <2.0.0"',
    ask: false,
    optional: true,
    validate: (val) => v.semverRange(String(val)),
  },
  {
    name: "commit",
    message: "Commit to reconcile (its full SHA), instead of a branch",
    ask: false,
    optional: true,
    validate: (val) => v.commitSha(String(val)),
  },
  {
    name: "secret",
    message: "The repository needs credentials (--no-secret: a public repository, no secretRef)",
    type: "confirm",
    ask: false,
    default: () => true,
  },
  {
    name: "secretRef",
    message: "Secret in the tenant namespace holding the repository's credentials",
    ask: false,
    when: (a) => a.secret !== false,
    default: () => DEFAULT_SECRET,
    validate: (val) => v.dnsSubdomain(String(val)),
  },
  {
    name: "path",
    message: "Path in the tenant's repository; each environment reads <path>/<env>",
    default: (ctx) => ctx.config.tenantDefaults.path,
    validate: (val) => v.repoPath(String(val)),
  },
  {
    name: "environments",
    flag: "env",
    message: "Environments to onboard into",
    type: "checkbox",
    multiple: true,
    choices: (ctx) => ctx.environments,
    default: (ctx) => ctx.environments,
    defaultHelp: "every environment",
    validate: (val) => ((val as string[]).length === 0 ? "must name at least one environment" : undefined),
  },
  {
    name: "role",
    message: "ClusterRole bound in the tenant namespace",
    default: (ctx) => ctx.config.tenantDefaults.role,
    validate: (val) => v.dnsLabel(String(val)),
  },
  {
    name: "allowClusterAdmin",
    message: "Bind cluster-admin in the namespace anyway (flagged)",
    type: "confirm",
    ask: false,
    default: () => false,
  },
  {
    name: "interval",
    message: "How often Flux polls the tenant's repository",
    default: (ctx) => ctx.config.tenantDefaults.interval,
    validate: (val) => v.duration(String(val)),
  },
  quotaAnswer("Quota overrides (empty: the environment's defaults)"),
  {
    name: "podSecurity",
    flag: "pod-security",
    message: "Pod Security Standard the tenant's namespace enforces",
    type: "list",
    choices: () => [...POD_SECURITY_LEVELS],
    // fleet.yaml's tenantPolicies.podSecurity: false writes no labels, so there is nothing to ask.
    when: (_a, ctx) => ctx.config.tenantPolicies.podSecurity,
    default: (ctx) => ctx.config.tenantDefaults.podSecurity,
    validate: (val) => v.oneOf(POD_SECURITY_LEVELS)(String(val)),
  },
];

function tenantOf(a: Answers): Tenant {
  const role = str(a, "role");
  return {
    name: str(a, "name"),
    url: str(a, "url"),
    ref: refOf(a),
    secretRef: a.secret === false ? "" : str(a, "secretRef"),
    path: str(a, "path"),
    interval: str(a, "interval"),
    role,
    environments: list(a, "environments"),
    quota: list(a, "quota"),
    flagged: role === "cluster-admin" ? "tenant reconciler bound to cluster-admin (forced with --allow-cluster-admin)" : "",
    podSecurity: (a.podSecurity ?? "restricted") as PodSecurityLevel,
  };
}

/** Each environment's overlay file and layout; one fleet.yaml names that the tree lacks yet gets the repo's layout. */
export function overlayLayouts(ctx: Context): Record<string, { file?: string; layout: Layout }> {
  const fallback = repoLayout(ctx.model.overlays);
  return Object.fromEntries([
    ...ctx.config.environments.map((e) => [e.name, { layout: fallback }] as const),
    ...ctx.model.overlays.map((o) => [o.env, { file: o.file, layout: o.layout }] as const),
  ]);
}

export const newTenant: Generator = {
  name: "new-tenant",
  description: "Onboard a tenant: namespace, reconciler RBAC, its GitRepository and Kustomization, in every environment",
  needsRepo: true,
  answers,
  check: (a, ctx) => {
    const out = [];
    // Its own files (a second identical run) are no claim on its namespace; anyone else's are.
    // The environment overlays are not read here: what they hold is built by the proof before
    // write, where another object in the namespace is a duplicate or a tenant out of bounds.
    const name = str(a, "name");
    const users = namespaceUsers(ctx.cs, name, [`tenants/base/${name}`, ...ctx.model.overlays.map((o) => o.dir)]);
    const owner = ctx.model.tenants.find((t) => users.some((u) => u === t.base || u.startsWith(`${t.base}/`)));
    if (owner)
      out.push({
        field: "<name>",
        rule: `namespace '${name}' is tenant ${owner.name}'s (${owner.base}); a namespace belongs to one tenant, whose reconciler is its admin`,
        fix: "choose another tenant name",
      });
    else if (users.length > 0)
      out.push({
        field: "<name>",
        rule: `namespace '${name}' is already used by ${users.join(", ")}; a tenant's namespace is its own (two Kustomizations applying it fight over it, and a prune by either deletes it)`,
        fix: "choose another tenant name, or move what uses that namespace elsewhere first",
      });
    const refs = TENANT_REF_KINDS.filter((k) => a[k] !== undefined);
    if (refs.length > 1)
      out.push({
        field: refs.map((k) => `--${k}`).join(", "),
        rule: `a tenant's GitRepository follows exactly one ref: one of --branch, --tag, --semver or --commit (source-controller would check out by --${checkedOutBy(refOf(a))} and ignore the rest)`,
        fix: "keep one of them",
      });
    if (a.secret === false && a.secretRef !== undefined)
      out.push({
        field: "--secret-ref",
        rule: "names a Secret, but --no-secret says the repository needs none: the GitRepository gets no secretRef",
        fix: "drop --no-secret for a private repository, or --secret-ref for a public one",
      });
    // The admission policy would refuse the tenant's source on the cluster: refuse it here first.
    const prefixes = ctx.config.tenantPolicies.sourcePrefixes;
    if (!sourceAllowed(str(a, "url"), prefixes))
      out.push({
        field: "--url",
        rule: `starts with none of the prefixes fleet.yaml allows tenant sources (tenantPolicies.sourcePrefixes: ${prefixes.join(", ")}); the clusters' admission policy would refuse its GitRepository`,
        fix: "use a repository under one of those prefixes, or add its prefix to tenantPolicies.sourcePrefixes in fleet.yaml and to the ConfigMap in infrastructure/base/tenant-admission.yaml",
      });
    if (str(a, "role") === "cluster-admin" && a.allowClusterAdmin !== true)
      out.push({
        field: "--role",
        rule: "cluster-admin gives the tenant's reconciler every power in its namespace, including over the namespace's RBAC",
        fix: "use admin, edit or a narrower role; --allow-cluster-admin forces it and flags the binding",
      });
    return out;
  },
  exists: (a, ctx) => {
    const name = str(a, "name");
    return ctx.tenants.includes(name)
      ? {
          field: "<name>",
          rule: `tenant '${name}' already exists in tenants/base/${name}/ with other settings`,
          fix: "choose another name, edit its files, or `fleet remove-tenant` it first",
        }
      : undefined;
  },
  actions: (a, ctx) => {
    const t = tenantOf(a);
    // An overlay whose transformers would capture the new tenant (Flux's multi-tenancy example
    // sets `namespace: apps` on it) keeps them for what it holds, in a sub-overlay; the tenant
    // goes beside it. (A units overlay lists only the units: its transformers never reach a
    // tenant's objects, and what they do to the units the proof checks.)
    const isolate: FleetAction[] = ctx.model.overlays
      .filter((o) => t.environments.includes(o.env) && o.layout === "flat" && o.transformers.length > 0)
      .map((o) => ({ type: "fleet:isolate-overlay", path: o.file, into: ISOLATED_DIR }));
    return [...isolate, ...tenantActions(t, ctx.config, overlayLayouts(ctx))];
  },
  proof: (a, ctx) => tenantProof(ctx, [str(a, "name")]),
  nextSteps: (a, ctx) => {
    const t = tenantOf(a);
    const sa = `system:serviceaccount:${t.name}:reconciler`;
    const other = ctx.model.tenants.find((x) => x.name !== t.name)?.namespace ?? "kube-system";
    return [
      ...(t.secretRef
        ? [
            `Create the ${t.secretRef} secret the tenant's GitRepository reads (fleet never writes secrets):`,
            `  flux create secret git ${t.secretRef} --namespace=${t.name} --url=${t.url} ...`,
          ]
        : []),
      `Commit and push, then check isolation on each cluster; both must answer "no":`,
      `  kubectl auth can-i create clusterrolebindings --as=${sa}`,
      `  kubectl auth can-i get secrets -n ${other} --as=${sa}`,
      ...(t.flagged ? [`WARNING: ${t.flagged}`] : []),
    ];
  },
};

export default newTenant;
