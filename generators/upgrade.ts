/**
 * `fleet upgrade --flux-version vX.Y.Z`: move every pin in one change: fleet.yaml, the Terraform
 * provider and Flux versions, and the apiVersion of every Flux object to what the new minor
 * serves. Reports clusters whose bootstrapped Flux differs from the new pin.
 */
import { listClusters, terraformDir } from "../src/core/bootstrap.js";
import type { ChangeSet } from "../src/changeset/changeset.js";
import { CONFIG_FILE } from "../src/core/config.js";
import { tenantProof } from "./tenant-proof.js";
import { apiVersions, bootstrappedVersion, factsWarning, releaseRule, terraformProviderVersion } from "../src/flux/index.js";
import type { Context, FleetAction, Generator } from "../src/core/generator.js";

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

function drift(ctx: Context, pin: string): string[] {
  return listClusters(ctx.cs).flatMap((c) => {
    const running = bootstrappedVersion(ctx.cs.read(`clusters/${c}/flux-system/gotk-components.yaml`) ?? "");
    return running && running !== pin
      ? [`cluster ${c} runs Flux ${running} (clusters/${c}/flux-system/gotk-components.yaml), not ${pin}: run fleet bootstrap ${c}`]
      : [];
  });
}

export const upgrade: Generator = {
  name: "upgrade",
  description: "Move the Flux pin, Terraform pins and Flux API versions to another Flux release in one change",
  needsRepo: true,
  answers: [
    {
      name: "fluxVersion",
      flag: "flux-version",
      message: "Flux release to pin (vX.Y.Z)",
      validate: (val) => releaseRule(String(val)),
    },
  ],
  // API versions rewritten in every tenant's files: each tenant overlay must still build, every object otherwise the same.
  proof: (_a, ctx) => tenantProof(ctx, "all"),
  actions: (a, ctx) => {
    const pin = String(a.fluxVersion);
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
    return [
      { type: "fleet:yaml-set", path: CONFIG_FILE, keyPath: ["flux", "version"], value: pin },
      ...clusterPins,
      ...tf,
      ...yamlFiles(ctx.cs).map((path): FleetAction => ({ type: "fleet:api-versions", path, versions })),
    ];
  },
  notes: (a, ctx) => [...[factsWarning(String(a.fluxVersion))].filter((w) => w !== undefined), ...drift(ctx, String(a.fluxVersion))],
  nextSteps: (a, ctx) => [
    `Review and commit the change; then bootstrap each cluster at ${String(a.fluxVersion)}: ${listClusters(ctx.cs).map((c) => `fleet bootstrap ${c}`).join("; ") || "(no clusters yet)"}`,
  ],
};

export default upgrade;
