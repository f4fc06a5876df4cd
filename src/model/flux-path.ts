/**
 * spec.path as Flux resolves it: relative to the source root, a leading / or ./ allowed. One
 * that climbs out of the root is undefined (Flux would clamp it inside: `inside` says where).
 * The one reading of a Flux path: a cluster's sync path and every Kustomization validate walks.
 */
import * as path from "node:path";

export function fluxPath(p: unknown): { path?: string; inside: string } {
  const s = String(p ?? "").replace(/^\/+/, "");
  const normal = path.posix.normalize(s || ".").replace(/(.)\/$/, "$1");
  const inside = path.posix.join("/", s).slice(1).replace(/\/$/, "") || ".";
  return normal === ".." || normal.startsWith("../") ? { inside } : { path: normal, inside };
}
