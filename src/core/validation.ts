/**
 * Validation rules for every value that reaches a template. Each rule returns `undefined` when
 * the value is fine, or the broken rule as a sentence (the caller adds the field name), so one
 * rule serves flags, prompts and fleet.yaml alike.
 */
export type Rule = (value: string) => string | undefined;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export const RESERVED_NAMESPACES = [
  "flux-system",
  "kube-system",
  "kube-public",
  "kube-node-lease",
  "default",
];

/**
 * Characters that would change the meaning of a value inside YAML, a Flux postBuild
 * substitution or a handlebars template. Refused outright rather than escaped: a tenant
 * name or branch that needs quoting is a mistake, not a feature.
 */
const UNSAFE: Array<[RegExp, string]> = [
  [/[\r\n]/, "must be a single line"],
  [/["'`]/, "must not contain quotes"],
  [/\$\{/, "must not contain ${...}: Flux would substitute it"],
  [/\{\{|\}\}/, "must not contain {{...}}"],
  [/#/, "must not contain '#'"],
  [/\\/, "must not contain a backslash"],
];

/** A value that goes inside double quotes: a ':' is fine there, nothing else unsafe is. */
export const quotedText: Rule = (v) => {
  for (const [re, rule] of UNSAFE) if (re.test(v)) return rule;
  return undefined;
};

export const safeText: Rule = (v) => {
  const unsafe = quotedText(v);
  if (unsafe) return unsafe;
  if (/:/.test(v)) return "must not contain ':'";
  if (/^\s|\s$/.test(v)) return "must not start or end with white space";
  return undefined;
};

export const dnsLabel: Rule = (v) => {
  if (v === "") return "must not be empty";
  if (v.length > 63) return `must be at most 63 characters (it has ${v.length})`;
  if (!DNS1123_LABEL.test(v))
    return "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit";
  return undefined;
};

export const namespaceName: Rule = (v) =>
  dnsLabel(v) ??
  (RESERVED_NAMESPACES.includes(v) ? `'${v}' is a reserved namespace (${RESERVED_NAMESPACES.join(", ")})` : undefined);

/**
 * Git URLs that Flux's GitRepository accepts: https:// or ssh://. The scp form (git@host:org/repo)
 * is refused because source-controller does not take it; credentials in the URL are refused
 * because they would be committed.
 */
export const gitUrl: Rule = (v) => {
  const unsafe = quotedText(v);
  if (unsafe) return unsafe;
  if (/\s/.test(v)) return "must not contain white space";
  if (/^[\w.-]+@[\w.-]+:(?!\/\/)/.test(v))
    return "must be an https:// or ssh:// URL; Flux does not accept the scp form (write ssh://git@host/org/repo)";
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return "must be an https:// or ssh:// URL, e.g. https://github.com/acme/team-config";
  }
  if (url.protocol !== "https:" && url.protocol !== "ssh:")
    return `must use https:// or ssh:// (not ${url.protocol}//)`;
  if (!url.hostname) return "must name a host";
  if (url.password || (url.protocol === "https:" && url.username))
    return "must not carry credentials; put them in the git-auth secret instead";
  if (url.search || url.hash) return "must not have a query or fragment";
  if (url.pathname.length <= 1) return "must name a repository path";
  return undefined;
};

/** Git branch names (git check-ref-format), minus anything unsafe in YAML. */
export const branchName: Rule = (v) => {
  if (v === "") return "must not be empty";
  const unsafe = safeText(v);
  if (unsafe) return unsafe;
  if (!/^[A-Za-z0-9._/-]+$/.test(v)) return "may contain only letters, digits, '.', '_', '/' and '-'";
  if (/^[-/.]|[/.]$|\.\.|\/\/|\.lock$|@\{/.test(v)) return "is not a valid git branch name";
  return undefined;
};

/** A path inside the source repo, as Flux's spec.path takes it. */
export const repoPath: Rule = (v) => {
  if (v === "") return "must not be empty";
  const unsafe = safeText(v);
  if (unsafe) return unsafe;
  if (!/^[A-Za-z0-9._/-]+$/.test(v)) return "may contain only letters, digits, '.', '_', '/' and '-'";
  if (v.split("/").includes("..")) return "must stay inside the repository (no '..')";
  if (v.startsWith("/")) return "must be relative, e.g. ./deploy";
  return undefined;
};

/** Go durations as Flux intervals take them: 30s, 5m, 1h30m. */
export const duration: Rule = (v) =>
  /^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/.test(v) ? undefined : "must be a duration such as 30s, 5m or 1h";

/** Kubernetes resource quantities: 500m, 2, 4Gi, 1.5. */
export const quantity: Rule = (v) =>
  /^([0-9]+(\.[0-9]+)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.test(v)
    ? undefined
    : "must be a Kubernetes quantity such as 500m, 2, 512Mi or 4Gi";

/** A CODEOWNERS owner: @user, @org/team or an e-mail address. */
export const codeOwner: Rule = (v) => {
  if (/^@[A-Za-z0-9-]+(\/[A-Za-z0-9._-]+)?$/.test(v)) return undefined;
  if (/^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/.test(v)) return undefined;
  return "must be @user, @org/team or an e-mail address";
};

/** A host name, for self-hosted GitHub or GitLab. */
export const hostname: Rule = (v) =>
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:\d{1,5})?$/.test(v)
    ? undefined
    : "must be a host name such as github.acme.io";

/** A postBuild variable name as kustomize-controller takes it. */
export const variableName: Rule = (v) =>
  /^[_a-zA-Z][_a-zA-Z0-9]*$/.test(v) ? undefined : "must be a variable name: a letter or '_', then letters, digits or '_'";


/** A GitHub/GitLab owner or repository name. */
export const gitName: Rule = (v) => {
  if (v === "") return "must not be empty";
  return /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/.test(v)
    ? undefined
    : "may contain only letters, digits, '.', '_', '-' (and '/' for GitLab groups)";
};

/** Environment names: labels, and not `base`, which is the overlays' shared base. */
export const envName: Rule = (v) =>
  dnsLabel(v) ?? (v === "base" ? "'base' is the shared base of the overlays, not an environment" : undefined);

export const oneOf =
  (choices: readonly string[]): Rule =>
  (v) =>
    choices.includes(v) ? undefined : `must be one of: ${choices.join(", ")}`;
