/**
 * The platform team as the repo's CODEOWNERS says it: the owner of `*` (everything), else of
 * `/clusters/` (what every cluster applies with platform authority).
 */
import type { ChangeSet } from "../changeset/changeset.js";

/**
 * Where GitHub looks (.github/, the root, docs/; the first found is used) and where GitLab does
 * (the root, docs/, .gitlab/). A file only GitLab reads comes last.
 */
export const CODEOWNERS_FILES = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS"] as const;

export interface PlatformTeam {
  team: string;
  file: string;
  /** The pattern it owns: `*` or the clusters directory. */
  pattern: string;
}

const CLUSTERS = new Set(["/clusters/", "/clusters", "clusters/", "/clusters/*", "/clusters/**", "/clusters/**/*"]);

/** The CODEOWNERS file the repo has, by the hosts' own order. */
export function codeownersFile(cs: ChangeSet): string | undefined {
  return CODEOWNERS_FILES.find((f) => cs.exists(f));
}

export function readPlatformTeam(cs: ChangeSet): PlatformTeam | undefined {
  const file = codeownersFile(cs);
  if (!file) return undefined;
  const owners = new Map<string, string>();
  for (const raw of (cs.read(file) ?? "").split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    // GitLab sections (`[Docs] @owner`, `^[Optional]`) are headings, not rules.
    if (line === "" || /^\^?\[/.test(line)) continue;
    const [pattern, first] = line.split(/\s+/);
    // The last rule for a pattern wins, as it does on both hosts.
    if (pattern && first) owners.set(pattern, first);
  }
  const all = owners.get("*");
  if (all) return { team: all, file, pattern: "*" };
  const clusters = [...CLUSTERS].find((p) => owners.has(p));
  return clusters ? { team: owners.get(clusters)!, file, pattern: clusters } : undefined;
}
