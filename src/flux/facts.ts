/**
 * Questions fleet asks of the Flux facts tables (src/flux/minors.ts) for any release: a minor
 * with a table gets its own; a minor newer than the newest table gets the newest, one older
 * than the oldest gets the oldest, each with a warning (factsWarning) that fleet is guessing.
 */
import { InputError } from "../core/errors.js";
import { fluxGroup, GROUP, type FluxKind } from "./kinds.js";
import { LOCKDOWN_FLAGS, MINORS, type BehaviourChange, type ExtraComponent, type MinorFacts } from "./minors.js";
import { compareMinors, compareReleases, fluxMinor } from "./release.js";

const KNOWN = Object.keys(MINORS).sort(compareMinors);
const OLDEST = KNOWN[0]!;
const NEWEST = KNOWN[KNOWN.length - 1]!;

/** The table a release's facts come from: its minor's, else the newest one below it. */
function tableMinor(version: string): string {
  const minor = fluxMinor(version);
  if (compareMinors(minor, OLDEST) < 0) return OLDEST;
  return KNOWN.filter((k) => compareMinors(k, minor) <= 0).at(-1)!;
}

export function factsFor(version: string): MinorFacts {
  return MINORS[tableMinor(version)]!;
}

/** The newest minor fleet has facts for within a major ("2.9" for 2), or undefined. */
export function newestMinor(major: number): string | undefined {
  return KNOWN.filter((k) => Number(k.split(".")[0]) === major).at(-1);
}
/** The release's minor is newer than every table fleet has. */
export const newerThanFacts = (version: string): boolean => compareMinors(fluxMinor(version), NEWEST) > 0;

/** Why fleet's facts for this release are a guess, or undefined when they are Flux's own. */
export function factsWarning(version: string): string | undefined {
  const minor = fluxMinor(version);
  if (compareMinors(minor, NEWEST) > 0)
    return `Flux ${version} is newer than fleet's facts (Flux ${OLDEST} to ${NEWEST}): fleet treats it as ${NEWEST}; check the API versions it writes against Flux ${minor}'s release notes`;
  if (compareMinors(minor, OLDEST) < 0)
    return `Flux ${version} is older than fleet's facts (Flux ${OLDEST} to ${NEWEST}): fleet treats it as ${OLDEST}; upgrade the cluster's Flux`;
  return undefined;
}

/** Every extra controller fleet knows (the newest minor's): what fleet.yaml may list. */
export const EXTRA_COMPONENTS: readonly ExtraComponent[] = MINORS[NEWEST]!.extraComponents;

/** The extra controllers the release can install (source-watcher from 2.7). */
export const extraComponents = (fluxVersion: string): readonly ExtraComponent[] => factsFor(fluxVersion).extraComponents;

/** The lockdown flags the release's controllers do not take yet (before Flux v0.30.0). */
export const lockdownFlagsMissing = (fluxVersion: string) => LOCKDOWN_FLAGS.filter((f) => compareReleases(fluxVersion, f.since) < 0);

/** The minor a release's behaviour changes are listed under, when fleet has a table for it. */
export interface CrossedMinor {
  minor: string;
  changes: readonly BehaviourChange[];
}

/**
 * The minors an upgrade from `from` to `to` moves a cluster onto, each with the behaviour
 * changes it brings that the move crosses (a change some patch brings counts from that patch);
 * none for a downgrade. Minors newer than the tables have none listed: factsWarning says so.
 */
export function minorsCrossed(from: string, to: string): CrossedMinor[] {
  const crossed = (at: string) => compareReleases(from, at) < 0 && compareReleases(at, to) <= 0;
  return KNOWN.map((minor) => ({ minor, changes: (MINORS[minor]!.changes ?? []).filter((c) => crossed(c.since ?? `v${minor}.0`)) })).filter(
    (m) => m.changes.length > 0 || (crossed(`v${m.minor}.0`) && compareMinors(m.minor, fluxMinor(from)) > 0),
  );
}

/**
 * `group/version` fleet writes for each Flux kind under the given release, keyed by kind for
 * templates. A kind the release does not serve at all has no entry.
 */
export function apiVersions(fluxVersion: string): Partial<Record<FluxKind, string>> {
  const out: Partial<Record<FluxKind, string>> = {};
  for (const [kind, f] of Object.entries(factsFor(fluxVersion).kinds) as Array<[FluxKind, { write: string }]>) out[kind] = `${GROUP[kind]}/${f.write}`;
  return out;
}

/**
 * How the pinned Flux treats an apiVersion of a kind: "preferred" (what fleet writes),
 * "deprecated" (served; Flux marks it deprecated), "served" (an older version, still served
 * without a deprecation), "unserved" (removed, or not served yet), or undefined when it is not
 * a Flux kind in its Flux group.
 */
export function apiVersionStatus(fluxVersion: string, apiVersion: string, kind: string): "preferred" | "deprecated" | "served" | "unserved" | undefined {
  const [grp, version] = apiVersion.split("/");
  if (!grp || !version || fluxGroup(kind) !== grp) return undefined;
  const f = factsFor(fluxVersion).kinds[kind as FluxKind];
  if (!f || !f.served.includes(version)) return "unserved";
  if (f.write === version) return "preferred";
  return f.deprecated.includes(version) ? "deprecated" : "served";
}

/** Strict postBuild substitution (an undefined variable fails the build) is the default from 2.9. */
export const strictSubstitution = (fluxVersion: string): boolean => factsFor(fluxVersion).strictSubstitution;

/**
 * The fluxcd/flux Terraform provider release that installs the given Flux minor; a minor newer
 * than the tables gets the newest provider (it installs the pinned release: embedded_manifests
 * is off), under factsWarning.
 */
export function terraformProviderVersion(fluxVersion: string): string {
  const minor = fluxMinor(fluxVersion);
  const v = (compareMinors(minor, NEWEST) > 0 ? MINORS[NEWEST] : MINORS[minor])?.terraformProvider;
  if (!v) {
    const paired = KNOWN.filter((k) => MINORS[k]!.terraformProvider);
    throw new InputError(
      "flux.version",
      `fleet knows no fluxcd/flux Terraform provider release for Flux ${minor} (it knows Flux ${paired[0]} to ${paired.at(-1)})`,
      `pin a Flux release of those minors with fleet upgrade --flux-version, or bootstrap with --bootstrap flux`,
    );
  }
  return v;
}

/** The Terraform releases the generated HCL is written for. */
export const TERRAFORM_REQUIRED_VERSION = ">= 1.5.0, < 2.0.0";
