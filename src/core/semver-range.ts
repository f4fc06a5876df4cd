/**
 * Semver ranges as Flux's ImagePolicy takes them (Masterminds semver: `>=1.4.0 <2.0.0`, `^1.4`,
 * `~1.4.2`, `1.x`, comma or space for AND, `||` for OR), checked with npm's semver, which reads
 * the same syntax once commas are spaces.
 */
import semver from "semver";

export interface RangeCheck {
  /** The broken rule, when the range is not usable. */
  error?: string;
  /** The range admits versions of more than one major: automation could cross a major on its own. */
  crossesMajor?: boolean;
}

export function checkRange(range: string): RangeCheck {
  const normal = range.replace(/,/g, " ").trim();
  if (normal === "") return { error: "must not be empty" };
  const valid = semver.validRange(normal);
  if (!valid) return { error: `'${range}' is not a semver range (e.g. ">=1.4.0 <2.0.0" or "^1.4")` };
  const min = semver.minVersion(valid);
  if (!min) return { error: `'${range}' matches no version` };
  // Any version of a higher major than the lowest admitted one means the range crosses a major.
  return { crossesMajor: semver.intersects(valid, `>=${min.major + 1}.0.0`) };
}
