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

/** One CODEOWNERS rule: a pattern and its owners, in file order (the last match wins). */
export interface OwnerRule {
  pattern: string;
  owners: string[];
  match: RegExp;
}

/** A CODEOWNERS pattern (gitignore syntax, as both hosts read it) as a test on repo-relative paths. */
function patternRegExp(pattern: string): RegExp {
  const body = pattern.replace(/^\//, "").replace(/\/$/, "");
  const anchored = pattern.startsWith("/") || body.includes("/");
  const glob = body
    .split(/(\*\*\/?|\*|\?)/)
    .map((part) => (part === "**/" || part === "**" ? ".*" : part === "*" ? "[^/]*" : part === "?" ? "[^/]" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`${anchored ? "^" : "(^|/)"}${glob}(/.*)?$`);
}

export function readCodeowners(cs: ChangeSet): OwnerRule[] {
  const file = codeownersFile(cs);
  if (!file) return [];
  const rules: OwnerRule[] = [];
  for (const raw of (cs.read(file) ?? "").split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (line === "" || /^\^?\[/.test(line)) continue;
    const [pattern, ...owners] = line.split(/\s+/);
    if (pattern) rules.push({ pattern, owners, match: patternRegExp(pattern) });
  }
  return rules;
}

/** The owners of a repo-relative path: the last rule that matches it, as on GitHub and GitLab. */
export function ownersOf(rules: OwnerRule[], file: string): string[] {
  for (let i = rules.length - 1; i >= 0; i--) if (rules[i]!.match.test(file)) return rules[i]!.owners;
  return [];
}
