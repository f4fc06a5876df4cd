/**
 * `fleet add-image-automation`: an ImageRepository, an ImagePolicy and an ImageUpdateAutomation
 * that stay reviewable: they push to a branch of their own that a pull request merges, read the
 * tenant's own source (so --no-cross-namespace-refs holds), and never cross a major by default.
 */
import { listClusters } from "../src/core/bootstrap.js";
import { CONFIG_FILE } from "../src/core/config.js";
import type { Answers, Context, FleetAction, Generator } from "../src/core/generator.js";
import { marker } from "../src/core/image-setters.js";
import { readTenantSync, TENANTS_BASE } from "../src/model/tenants.js";
import { tenantProof } from "./tenant-proof.js";
import { checkRange } from "../src/core/semver-range.js";
import * as v from "../src/core/validation.js";

const IMAGE_CONTROLLERS = ["image-reflector-controller", "image-automation-controller"];
const PLATFORM_NS = "flux-system";
const PLATFORM_DIR = "infrastructure/base";

/** A repository reference without tag or digest: [registry[:port]/]path. */
const IMAGE = /^(?:[a-z0-9]([a-z0-9.-]*[a-z0-9])?(?::\d+)?\/)?[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

interface Target {
  namespace: string;
  source: string;
  checkoutBranch: string;
  dir: string;
  tenant: string;
}

function target(a: Answers, ctx: Context): Target {
  if (a.platform === true)
    return { namespace: PLATFORM_NS, source: "flux-system", checkoutBranch: ctx.config.git.branch, dir: PLATFORM_DIR, tenant: "" };
  const tenant = String(a.tenant);
  const sync = readTenantSync(ctx.cs, tenant);
  // A tenant pinned to a tag, range or commit has no branch to follow: the automation checks out the fleet's default.
  const checkoutBranch = sync.ref.branch ?? ctx.config.tenantDefaults.branch;
  return { namespace: sync.namespace, source: sync.gitRepository || tenant, checkoutBranch, dir: `${TENANTS_BASE}/${tenant}`, tenant };
}

const fileOf = (a: Answers, t: Target) => `${t.dir}/image-${String(a.name)}.yaml`;
const policyRef = (a: Answers, t: Target) => `${t.namespace}:${String(a.name)}`;
const lastSegment = (image: string) => image.split("/").pop()!.replace(/[._]/g, "-");

export const addImageAutomation: Generator = {
  name: "add-image-automation",
  description: "Automate image updates for a tenant (or the platform) through a pull-request branch",
  needsRepo: true,
  answers: [
    { name: "tenant", message: "Tenant whose image it is", type: "list", choices: (ctx) => ctx.tenants, when: (a) => a.platform !== true },
    { name: "platform", message: "For the platform itself, in flux-system", type: "confirm", ask: false, default: () => false },
    {
      name: "image",
      message: "Image repository, without tag",
      hint: "ghcr.io/acme/payments-api",
      validate: (val) => (IMAGE.test(String(val)) ? undefined : "must be an image repository such as ghcr.io/acme/api, without a tag or digest"),
    },
    {
      name: "semver",
      message: "Semver range of tags to follow",
      hint: '">=1.4.0 <2.0.0"',
      validate: (val, _ctx, a) => {
        const s = String(val);
        const broken = v.semverRange(s);
        if (broken) return broken;
        return checkRange(s).crossesMajor && a.allowMajor !== true
          ? `'${s}' crosses a major version, so automation could ship a breaking release on its own; bound it (e.g. "<2.0.0") or pass --allow-major`
          : undefined;
      },
    },
    { name: "allowMajor", message: "Allow the range to cross a major version", type: "confirm", ask: false, default: () => false },
    {
      name: "name",
      message: "Name of the image objects",
      default: (_ctx, a) => (a.image ? lastSegment(String(a.image)) : undefined),
      validate: (val) => v.dnsLabel(String(val)),
    },
    {
      name: "pushBranch",
      message: "Branch the automation pushes to (a pull request merges it)",
      default: () => "flux-image-updates",
      validate: (val) => v.branchName(String(val)),
    },
    {
      name: "path",
      message: "Path in the source repository whose manifests it updates",
      default: (ctx, a) => (a.platform === true ? "./infrastructure" : a.tenant ? readTenantSync(ctx.cs, String(a.tenant)).path : undefined),
      defaultHelp: "the tenant's sync path (./infrastructure with --platform)",
      validate: (val) => v.repoPath(String(val)),
    },
  ],
  check: (a) => (a.platform !== true && !a.tenant ? [{ field: "--tenant", rule: "is required (or --platform for the platform's own images)" }] : []),
  exists: (a, ctx) => {
    const file = fileOf(a, target(a, ctx));
    return ctx.cs.exists(file) ? { field: "--name", rule: `${file} already exists with other settings`, fix: "choose another --name, or edit the file" } : undefined;
  },
  // A tenant's automation is applied from its base, with platform authority: proven as any tenant edit.
  proof: (a, ctx) => (a.platform === true ? undefined : tenantProof(ctx, [String(a.tenant)])),
  actions: (a, ctx) => {
    const t = target(a, ctx);
    const file = fileOf(a, t);
    const pushBranch = String(a.pushBranch);
    const actions: FleetAction[] = [
      {
        type: "fleet:render",
        path: file,
        template: "image/automation.yaml",
        data: {
          ...t,
          api: ctx.api,
          name: String(a.name),
          image: String(a.image),
          range: String(a.semver),
          pushBranch,
          separateBranch: pushBranch !== t.checkoutBranch,
          path: String(a.path),
        },
      },
      { type: "fleet:kustomization", path: `${t.dir}/kustomization.yaml`, addResources: [file.slice(t.dir.length + 1)] },
      // Without the image controllers the objects above do nothing: add them to the pinned set.
      ...IMAGE_CONTROLLERS.map((c): FleetAction => ({ type: "fleet:yaml-list-add", path: CONFIG_FILE, key: ["flux", "componentsExtra"], value: c })),
    ];
    // The platform's manifests are in this repo: mark them. A tenant's are in its own repository.
    if (a.platform === true) actions.push({ type: "fleet:image-setters", dir: String(a.path).replace(/^\.\//, ""), image: String(a.image), policy: policyRef(a, t) });
    return actions;
  },
  notes: (a, ctx) => {
    const t = target(a, ctx);
    const notes: string[] = [];
    const m = marker(policyRef(a, t));
    if (a.platform === true) {
      const dir = String(a.path).replace(/^\.\//, "");
      const marked = ctx.cs.walk(dir).filter((f) => (ctx.cs.read(f) ?? "").includes(m.slice(2)));
      if (marked.length) notes.push(`setter markers for ${policyRef(a, t)} are in: ${marked.join(", ")}`);
      else notes.push(`no line under ${String(a.path)} uses ${String(a.image)}; add the marker at the end of the line that sets it:\n    image: ${String(a.image)}:<tag> ${m}`);
    } else
      notes.push(
        `in ${readTenantSync(ctx.cs, t.tenant).url || "the tenant's repository"}, under ${String(a.path)}, end the line that sets the image with the marker:\n    image: ${String(a.image)}:<tag> ${m}\n  (for Helm values with a separate tag: field, mark repository: with ${marker(policyRef(a, t), "name")} and tag: with ${marker(policyRef(a, t), "tag")})`,
      );
    if (String(a.pushBranch) === t.checkoutBranch)
      notes.push(`WARNING: the automation pushes straight to ${t.checkoutBranch}, the branch Flux deploys; no pull request reviews its commits`);
    if (a.allowMajor === true && checkRange(String(a.semver)).crossesMajor)
      notes.push(`WARNING: the range ${String(a.semver)} crosses a major version; automation may ship breaking releases`);
    const missing = IMAGE_CONTROLLERS.filter((c) => !ctx.config.flux.componentsExtra.includes(c));
    if (missing.length)
      notes.push(
        `added ${missing.join(", ")} to flux.componentsExtra in fleet.yaml; bootstrap each cluster again to install them (fleet bootstrap passes the full set): ${listClusters(ctx.cs).map((c) => `fleet bootstrap ${c}`).join("; ") || "no clusters yet"}`,
      );
    return notes;
  },
  nextSteps: (a, ctx) => {
    const t = target(a, ctx);
    return [
      `The automation pushes with the ${t.tenant ? `tenant's git-auth secret in ${t.namespace}` : "flux-system secret"}: it needs write access to the repository.`,
      `Protect ${t.checkoutBranch} and open pull requests from ${String(a.pushBranch)} (e.g. a CI job on push to ${String(a.pushBranch)}).`,
    ];
  },
};

export default addImageAutomation;
