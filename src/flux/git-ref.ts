/**
 * A GitRepository's spec.ref as source-controller reads it (api/v1 GitRepositoryRef): fields
 * branch, tag, semver, name and commit, each taking precedence over the ones before it; with
 * none set it checks out branch master. A commit may stand beside a branch (the branch is then
 * what is cloned to find it).
 */
export const REF_KINDS = ["branch", "tag", "semver", "name", "commit"] as const;
export type RefKind = (typeof REF_KINDS)[number];

/** A spec.ref as written: only the fields it sets. */
export type GitRef = Partial<Record<RefKind, string>>;

/** The ref's fields in the API's order, for writing and showing them. */
export const refEntries = (ref: GitRef): Array<{ kind: RefKind; value: string }> =>
  REF_KINDS.filter((k) => ref[k] !== undefined).map((kind) => ({ kind, value: ref[kind]! }));

/** The field source-controller checks out by: the last set one in the API's order. */
export const checkedOutBy = (ref: GitRef): RefKind | undefined => [...REF_KINDS].reverse().find((k) => ref[k] !== undefined);

/** A ref as one line for people: `tag v1.2.0`, `branch main, commit 0a1b...`. */
export const refText = (ref: GitRef): string => refEntries(ref).map((e) => `${e.kind} ${e.value}`).join(", ");
