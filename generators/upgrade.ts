/**
 * `fleet upgrade --flux-version vX.Y.Z`: move every pin in one change: fleet.yaml, the Terraform
 * provider and Flux versions, each FluxInstance's distribution.version, and the apiVersion of
 * every Flux object to what the new minor serves. Says, for each minor crossed, the behaviour
 * changes a platform team must act on and the objects of this repo they affect, and which
 * clusters run another release than the new pin.
 */
import { listClusters, lockdownFile, terraformDir } from "../src/core/bootstrap.js";
import type { ChangeSet } from "../src/changeset/changeset.js";
import { CONFIG_FILE, sharedPin } from "../src/core/config.js";
import { readClusters } from "../src/model/clusters.js";
import { readObjects } from "../src/model/objects.js";
import { tenantProof } from "./tenant-proof.js";
import {
  apiVersions,
  compareReleases,
  extraComponents,
  fluxMinor,
  isRelease,
  lockdownFlagsMissing,
  minorsCrossed,
  newerThanFacts,
  releaseRule,
  terraformProviderVersion,
} from "../src/flux/index.js";
import { findAffected, runningReleases, type Affected } from "../src/flux/affected.js";
import type { Answers, Context, FleetAction, Generator } from "../src/core/generator.js";

/** Flux writes gotk-components.yaml itself on every bootstrap; fleet leaves it to Flux. */
const FLUX_OWNED = /(^|\/)gotk-components\.yaml$/;

/** Every YAML file of the repo that may hold Flux objects. */
function yamlFiles(cs: ChangeSet): string[] {
  return cs
    .list("")
    .dirs.filter((d) => !d.startsWith(".") && d !== "node_modules" && d !== "terraform")
    .flatMap((d) => cs.walk(d))
    .filter((f) => /\.ya?ml$/.test(f) && !FLUX_OWNED.test(f) && (cs.read(f) ?? "").includes("toolkit.fluxcd.io/"));
}

const pinOf = (a: Answers) => String(a.fluxVersion);

/**
 * The FluxInstances that pin one exact release, in a file fleet can edit in place (one object):
 * a range (`2.x`) is the team's choice to follow Flux on its own, and stays.
 */
function fluxInstances(ctx: Context) {
  return readClusters(ctx.cs).filter((c) => c.via === "operator" && c.fluxVersion && readObjects(ctx.cs, c.syncFile).length === 1);
}

/** The clusters whose running Flux differs from the pin, read from the repo model. */
function drift(ctx: Context, pin: string): string[] {
  return readClusters(ctx.cs).flatMap((c) => {
    if (c.via === "bootstrap" && c.fluxVersion && c.fluxVersion !== pin)
      return [`cluster ${c.name} runs Flux ${c.fluxVersion} (${c.fluxVersionFrom}), not ${pin}: run fleet bootstrap ${c.name}`];
    if (c.via === "operator" && c.fluxVersionRange)
      return [`cluster ${c.name}'s FluxInstance follows the range ${c.fluxVersionRange} (${c.fluxVersionFrom}), not ${pin}: the Flux Operator picks its release; set spec.distribution.version to ${pin} to pin it`];
    if (c.via === "operator" && c.fluxVersion && c.fluxVersion !== pin)
      return [`cluster ${c.name}'s FluxInstance (${c.fluxVersionFrom}) pins ${c.fluxVersion}, not ${pin}: fleet edits only a file holding the FluxInstance alone; set spec.distribution.version there`];
    return [];
  });
}

/** One behaviour change as a person reads it: what, what to do, and the objects it affects. */
function describe(minor: string, c: { id: string; what: string; todo: string; source: string }, affected: Affected[]): string {
  const objects = affected.map((a) => `    ${a.object} (${a.file})${a.detail ? `: ${a.detail}` : ""} [cluster ${a.clusters.join(", ")}]`);
  return [
    `Flux ${minor} ${c.id}: ${c.what} (${c.source})`,
    `  do: ${c.todo}`,
    objects.length ? `  affects:\n${objects.join("\n")}` : "  affects: nothing fleet found in this repository",
  ].join("\n");
}

/** Why the repo cannot move to a release, each rule a sentence or undefined. */
const REFUSALS: Array<(pin: string, ctx: Context, a: Answers) => string | undefined> = [
  // Every pin moves to the new one: moving any of them down is a downgrade.
  (pin, ctx, a) => {
    const current = [ctx.config.flux.version, ...Object.values(ctx.config.flux.clusters ?? {}).map((c) => c.version)].reduce((x, y) => (compareReleases(x, y) >= 0 ? x : y));
    return a.allowDowngrade !== true && compareReleases(pin, current) < 0
      ? `${pin} is older than the pin ${current} (fleet.yaml): a downgrade, and the older release may not serve what the clusters store; pass --allow-downgrade to move to it anyway`
      : undefined;
  },
  // fleet's lockdown files set every flag: a controller that does not know one does not start.
  (pin, ctx) => {
    const lockdowns = listClusters(ctx.cs).map(lockdownFile);
    const unknown = lockdownFlagsMissing(pin).find((f) => lockdowns.some((l) => (ctx.cs.read(l) ?? "").includes(`${f.flag}=`)));
    return unknown
      ? `Flux ${pin}'s ${unknown.controllers.join(", ")} ${unknown.controllers.length > 1 ? "do" : "does"} not take ${unknown.flag} (from ${unknown.since}), which fleet's lockdown sets (${lockdowns.join(", ")}): they would not start; pin ${unknown.since} or later`
      : undefined;
  },
  (pin, ctx) => {
    const missing = ctx.config.flux.componentsExtra.filter((x) => !(extraComponents(pin) as readonly string[]).includes(x));
    return missing.length ? `Flux ${fluxMinor(pin)} cannot install ${missing.join(", ")} (fleet.yaml flux.componentsExtra): remove it there first, or pin a release that has it` : undefined;
  },
];

export const upgrade: Generator = {
  name: "upgrade",
  description: "Move the Flux pin, Terraform pins, FluxInstance versions and Flux API versions to another Flux release in one change",
  needsRepo: true,
  answers: [
    {
      name: "fluxVersion",
      flag: "flux-version",
      message: "Flux release to pin (vX.Y.Z)",
      validate: (val, ctx, a) => {
        const pin = String(val);
        return releaseRule(pin) ?? REFUSALS.map((rule) => rule(pin, ctx, a)).find((r) => r !== undefined);
      },
    },
    { name: "allowDowngrade", flag: "allow-downgrade", message: "Move to an older Flux release than the pin", type: "confirm", ask: false, default: () => false },
  ],
  // API versions rewritten in every tenant's files: each tenant overlay must still build, every object otherwise the same.
  proof: (_a, ctx) => tenantProof(ctx, "all"),
  actions: (a, ctx) => {
    const pin = pinOf(a);
    const versions = apiVersions(pin);
    const tfDirs = ctx.cs.list("terraform").dirs;
    // Asked only when there is Terraform to move: a repo bootstrapped by the flux CLI may pin a
    // minor no provider release is known for.
    const provider = tfDirs.length > 0 ? terraformProviderVersion(pin) : "";
    const tf = tfDirs.flatMap((c): FleetAction[] => [
      {
        type: "fleet:replace",
        path: `${terraformDir(c)}/versions.tf`,
        pattern: String.raw`(source\s*=\s*"fluxcd/flux"\s*\n\s*version\s*=\s*")[^"]*(")`,
        replacement: `$1${provider}$2`,
      },
      {
        type: "fleet:replace",
        path: `${terraformDir(c)}/main.tf`,
        pattern: String.raw`(resource "flux_bootstrap_git"[^{]*\{\s*\n\s*version\s*=\s*")[^"]*(")`,
        replacement: `$1${pin}$2`,
      },
      {
        type: "fleet:replace",
        path: `${terraformDir(c)}/main.tf`,
        pattern: String.raw`(# Bootstraps Flux )v\d+\.\d+\.\d+`,
        replacement: `$1${pin}`,
      },
    ]);
    // Every pin moves: the repo's and each cluster's own (clusters adopted at other releases).
    const clusterPins = Object.keys(ctx.config.flux.clusters ?? {}).map(
      (name): FleetAction => ({ type: "fleet:yaml-set", path: CONFIG_FILE, keyPath: ["flux", "clusters", name, "version"], value: pin }),
    );
    // Written as the file writes it, with or without the v.
    const instances = fluxInstances(ctx).map((c): FleetAction => {
      const written = String(readObjects(ctx.cs, c.syncFile)[0]?.spec?.distribution?.version ?? "");
      return { type: "fleet:yaml-set", path: c.syncFile, keyPath: ["spec", "distribution", "version"], value: written.startsWith("v") ? pin : pin.slice(1) };
    });
    return [
      { type: "fleet:yaml-set", path: CONFIG_FILE, keyPath: ["flux", "version"], value: pin },
      ...clusterPins,
      ...tf,
      ...instances,
      ...yamlFiles(ctx.cs).map((path): FleetAction => ({ type: "fleet:api-versions", path, versions })),
    ];
  },
  notes: (a, ctx) => {
    const pin = pinOf(a);
    // Beside the warning every command gives for a pin past fleet's tables (the API versions):
    // what else fleet cannot vouch for under it.
    const unvouched = isRelease(pin) && newerThanFacts(pin)
      ? [`fleet lists none of Flux ${fluxMinor(pin)}'s behaviour changes and pins the newest Terraform provider it knows (${terraformProviderVersion(pin)}): read Flux ${fluxMinor(pin)}'s release notes before merging`]
      : [];
    return [...unvouched, ...drift(ctx, pin)];
  },
  assess: async (a, ctx) => {
    // From the oldest release a cluster is pinned at or runs: it crosses the most.
    const from = [sharedPin(ctx.config), ...runningReleases(ctx.cs.root)].reduce((x, y) => (compareReleases(x, y) <= 0 ? x : y));
    const to = pinOf(a);
    const crossed = minorsCrossed(from, to);
    const { byChange, notChecked } = await findAffected(ctx.cs.root, crossed.flatMap((m) => m.changes.map((c) => c.id)));
    const minors = crossed.map((m) => ({ minor: m.minor, changes: m.changes.map((c) => ({ ...c, affected: byChange.get(c.id) ?? [] })) }));
    return {
      notes: [
        ...minors.flatMap((m) => m.changes.map((c) => describe(m.minor, c, c.affected))),
        ...(minors.some((m) => m.changes.length) ? notChecked.map((n) => `not looked at for the behaviour changes: ${n}`) : []),
      ],
      json: { upgrade: { from, to, minors, notChecked } },
    };
  },
  nextSteps: (a, ctx) => {
    const pin = pinOf(a);
    const bootstrap = listClusters(ctx.cs).filter((c) => readClusters(ctx.cs).find((m) => m.name === c)?.via !== "operator");
    const operator = fluxInstances(ctx).map((c) => c.name);
    return [
      `Review and commit the change; then bootstrap each cluster at ${pin}: ${bootstrap.map((c) => `fleet bootstrap ${c}`).join("; ") || "(no clusters to bootstrap)"}`,
      ...(operator.length ? [`The Flux Operator moves ${operator.join(", ")} to ${pin} once the change is merged`] : []),
    ];
  },
};

export default upgrade;
