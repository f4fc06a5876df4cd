/**
 * Setter markers for Flux image automation: the controller rewrites only lines that carry
 * `# {"$imagepolicy": "<namespace>:<policy>"}` (or `:tag` / `:name` where the tag is a field of
 * its own, as in Helm values). Marking is a line edit: every other byte of the file stays.
 */
export interface SetterResult {
  text: string;
  /** Lines that got a marker (1-based). */
  marked: number[];
  /** Lines that use the image but could not be marked, with why. */
  skipped: Array<{ line: number; why: string }>;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
export const marker = (policy: string, field?: "tag" | "name") => `# {"$imagepolicy": "${policy}${field ? `:${field}` : ""}"}`;

/**
 * Mark every line of `text` that uses `image`: `image: <image>:<tag>` gets the full marker;
 * `repository: <image>` with a sibling `tag:` gets `:name`, and that `tag:` line `:tag`.
 */
export function markSetters(text: string, image: string, policy: string): SetterResult {
  const lines = text.split("\n");
  const marked: number[] = [];
  const skipped: Array<{ line: number; why: string }> = [];
  const img = escape(image);
  // A tag (or digest) is required: `image: <repo>` alone is how an ImageRepository names what
  // it scans, and that line must never be rewritten.
  const full = new RegExp(String.raw`^(\s*(?:-\s+)?image:\s*["']?)${img}(?::[\w][\w.-]*(?:@sha256:[a-f0-9]+)?|@sha256:[a-f0-9]+)(["']?)\s*(#.*)?$`);
  const repo = new RegExp(String.raw`^(\s*(?:-\s+)?)repository:\s*["']?${img}["']?\s*(#.*)?$`);
  const mark = (i: number, m: string) => {
    const line = lines[i]!;
    const comment = /\s#(.*)$/.exec(line);
    if (comment) {
      if (comment[1]!.includes("$imagepolicy")) {
        if (!line.includes(m)) skipped.push({ line: i + 1, why: "already marked for another policy" });
        return;
      }
      skipped.push({ line: i + 1, why: "already has a comment; the marker must be the line's only comment" });
      return;
    }
    lines[i] = `${line.replace(/\s+$/, "")} ${m}`;
    marked.push(i + 1);
  };
  lines.forEach((line, i) => {
    if (full.test(line)) return mark(i, marker(policy));
    const r = repo.exec(line);
    if (!r) return;
    // The tag is a sibling key at the same indentation, before the mapping ends.
    const indent = r[1]!.replace(/-/, " ").length;
    for (let j = i + 1; j < lines.length; j++) {
      const l = lines[j]!;
      if (/^\s*(#.*)?$/.test(l)) continue;
      const ind = l.length - l.trimStart().length;
      if (ind < indent) break;
      if (ind === indent && /^\s*tag:/.test(l)) {
        mark(i, marker(policy, "name"));
        mark(j, marker(policy, "tag"));
        return;
      }
    }
    skipped.push({ line: i + 1, why: "uses the image as repository: but has no sibling tag: field" });
  });
  return { text: lines.join("\n"), marked, skipped };
}
