/**
 * Flux release numbers: what counts as one, its minor, and the one a cluster was bootstrapped
 * with. Any `vX.Y.Z` is a release; fleet does not keep a list of them.
 */

/**
 * Pre-releases (v2.0.0-rc.5) are refused as a pin: an rc's CRDs may differ from its minor's
 * final release, so fleet's tables would be a guess, and no Terraform provider release ships
 * one. A repo bootstrapped with one is still read (see bootstrappedVersion).
 */
const RELEASE = /^v(\d+)\.(\d+)\.(\d+)$/;

/**
 * The release fleet pins when fleet.yaml says nothing: the newest 2.9 patch that every way fleet
 * bootstraps can install. fluxcd/flux2's stored tags end at v2.9.4. v2.9.5 exists
 * (fluxcd/terraform-provider-flux#836 moved the provider to github.com/fluxcd/flux2 v2.9.5, a
 * module version Go resolves only from the release tag; released as provider 1.9.5 in #837),
 * but the newest Flux Operator (v0.58.1, config/data/flux/) embeds up to v2.9.4 and installs
 * nothing newer, so a v2.9.5 default would fail `--bootstrap operator`. The provider pin stays
 * 1.9.5: it installs the exact `version` fleet passes (embedded_manifests = false).
 */
export const DEFAULT_FLUX_VERSION = "v2.9.4";

export function isRelease(version: string): boolean {
  return RELEASE.test(version);
}

/** The validation rule (src/core/validation.ts style) for a Flux pin. */
export function releaseRule(version: string): string | undefined {
  return isRelease(version) ? undefined : `must be a Flux release vX.Y.Z, e.g. ${DEFAULT_FLUX_VERSION} (not '${version}'; release candidates are not pinned)`;
}

/** "2.7" for v2.7.4. */
export function fluxMinor(version: string): string {
  const m = RELEASE.exec(version);
  if (!m) throw new Error(`not a Flux release: ${version}`);
  return `${Number(m[1])}.${Number(m[2])}`;
}

/** Orders releases (v2.9.5 < v2.10.0); negative when a is older. */
export function compareReleases(a: string, b: string): number {
  const parts = (v: string) => RELEASE.exec(v)!.slice(1).map(Number) as [number, number, number];
  const [x, y] = [parts(a), parts(b)];
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

/** Orders minors ("0.41" < "2.0" < "2.10"). */
export function compareMinors(a: string, b: string): number {
  const [am, an] = a.split(".").map(Number) as [number, number];
  const [bm, bn] = b.split(".").map(Number) as [number, number];
  return am - bm || an - bn;
}

/**
 * The `# Flux Version:` header flux writes at the top of gotk-components.yaml, which says what a
 * cluster was bootstrapped with: any release, 0.x included, or a pre-release as written (callers
 * that need a pin check isRelease).
 */
export function bootstrappedVersion(gotkComponents: string): string | undefined {
  return /^# Flux Version: (v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\s*$/m.exec(gotkComponents)?.[1];
}
