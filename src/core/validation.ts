/**
 * Validation rules for every value that reaches a template. Each rule returns `undefined` when
 * the value is fine, or the broken rule as a sentence (the caller adds the field name), so one
 * rule serves flags, prompts and fleet.yaml alike. Every rule first refuses invisible and
 * control characters, naming the code point, so a value never looks other than it is.
 */
import { checkRange } from "./semver-range.js";
import { codePoint, INVISIBLE } from "./text.js";

export type Rule = (value: string) => string | undefined;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export const RESERVED_NAMESPACES = [
  "flux-system",
  "kube-system",
  "kube-public",
  "kube-node-lease",
  "default",
];

/**
 * Lower-case words that a YAML reader takes for something other than text where they stand
 * unquoted: YAML 1.1 (kubectl apply, the API server's reader) has y/n/yes/no/on/off as
 * booleans, YAML 1.2 and go-yaml true/false/null. Names are pasted unquoted into YAML by Flux's
 * ${cluster_name}/${environment} substitution and by hand-written manifests.
 */
const YAML_WORDS: Record<string, string> = {
  true: "a boolean",
  false: "a boolean",
  yes: "a boolean",
  no: "a boolean",
  on: "a boolean",
  off: "a boolean",
  y: "a boolean",
  n: "a boolean",
  null: "null",
};

/** The longest free text fleet writes: far beyond any real value, short of a pasted file. */
const MAX_TEXT = 1024;

/** What kind of unseen character a code point is, for the error message. */
function invisibleKind(ch: string): string {
  const cp = ch.codePointAt(0)!;
  if (cp === 0x85 || cp === 0x2028 || cp === 0x2029) return "a line separator, which YAML 1.1 readers such as kustomize take as a line break";
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return "a control character";
  if (cp === 0x061c || cp === 0x200e || cp === 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
    return "a bidirectional control, which reorders the text on screen";
  return "an invisible character";
}

/** The rule every other rule starts with: nothing that cannot be seen. */
export const visible: Rule = (v) => {
  const m = INVISIBLE.exec(v);
  return m ? `must not contain ${codePoint(m[0])} (${invisibleKind(m[0])})` : undefined;
};

const atMost = (v: string, max: number, why = ""): string | undefined =>
  v.length > max ? `must be at most ${max} characters${why} (it has ${v.length})` : undefined;

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
  return visible(v) ?? atMost(v, MAX_TEXT);
};

export const safeText: Rule = (v) => {
  const unsafe = quotedText(v);
  if (unsafe) return unsafe;
  if (/:/.test(v)) return "must not contain ':'";
  if (/^\s|\s$/.test(v)) return "must not start or end with white space";
  return undefined;
};

/** What Kubernetes takes as most object names and as a namespace: an RFC 1123 label. */
export const dnsLabel: Rule = (v) => {
  if (v === "") return "must not be empty";
  const broken = visible(v) ?? atMost(v, 63);
  if (broken) return broken;
  if (!DNS1123_LABEL.test(v))
    return "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit";
  return undefined;
};

/** What Kubernetes takes as the name of a Secret, a ConfigMap and most objects: an RFC 1123 subdomain. */
export const dnsSubdomain: Rule = (v) => {
  if (v === "") return "must not be empty";
  const broken = visible(v) ?? atMost(v, 253);
  if (broken) return broken;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(v))
    return "must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit";
  return undefined;
};

const DNS1035_RULE = "must be a DNS-1035 label: lower-case letters, digits and '-', starting with a letter and ending with a letter or digit";

/**
 * Names of tenants, environments and clusters: RFC 1035 labels (what Kubernetes requires of a
 * Service name), and not a word YAML reads as a boolean or null. Kubernetes would take `123` or
 * `true` as a namespace, but these names also stand unquoted in YAML: in every tenant's
 * manifests through ${cluster_name}/${environment}, in hand-written overlays and patches. There
 * `1e3` is a number, `017` an octal, `true` a boolean and `null` nothing.
 */
export const dns1035Label: Rule = (v) => {
  if (v === "") return "must not be empty";
  const broken = visible(v) ?? atMost(v, 63);
  if (broken) return broken;
  if (!DNS1035_LABEL.test(v))
    return /^[0-9]/.test(v) && DNS1123_LABEL.test(v)
      ? `${DNS1035_RULE} ('${v}' starts with a digit)`
      : DNS1035_RULE;
  const word = YAML_WORDS[v];
  if (word) return `${DNS1035_RULE}, not a word YAML reads as something else ('${v}' reads as ${word} in YAML)`;
  return undefined;
};

export const namespaceName: Rule = (v) =>
  dns1035Label(v) ??
  (RESERVED_NAMESPACES.includes(v) ? `'${v}' is a reserved namespace (${RESERVED_NAMESPACES.join(", ")})` : undefined);

/** A DNS name (RFC 1123 host name): ASCII labels of at most 63 characters, 253 in all. */
export const dnsName: Rule = (v) => {
  if (v === "") return "must not be empty";
  const broken = visible(v) ?? ascii(v) ?? atMost(v, 253);
  if (broken) return broken;
  const labels = v.split(".");
  const bad = labels.find((l) => !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(l) || l.length > 63);
  if (bad !== undefined)
    return bad === ""
      ? "must be a host name such as github.acme.io (no empty part between dots)"
      : `must be a host name such as github.acme.io: '${bad}' is not a DNS label (letters, digits and '-', at most 63 characters)`;
  return undefined;
};

/**
 * Non-ASCII in a host or URL: a Cyrillic 'а' looks like a Latin 'a' and leads to another host
 * (WHATWG URL parsing quietly turns it into punycode).
 */
function ascii(v: string): string | undefined {
  const m = /[^\x20-\x7e]/u.exec(v);
  return m
    ? `must be ASCII: '${m[0]}' (${codePoint(m[0])}) is not, and may only look like an ASCII letter; write an international host name in its xn-- form`
    : undefined;
}

/** A host name with an optional port, for self-hosted GitHub or GitLab. */
export const hostname: Rule = (v) => {
  const m = /^(.*?)(?::([0-9]+))?$/.exec(v)!;
  const broken = dnsName(m[1]!);
  if (broken) return broken;
  if (m[2] !== undefined && !(Number(m[2]) >= 1 && Number(m[2]) <= 65535)) return `port ${m[2]} must be from 1 to 65535`;
  return undefined;
};

/**
 * Git URLs that Flux's GitRepository accepts: https:// or ssh://, literally: WHATWG URL parsing
 * takes `https:github.com/x` or `https:/github.com/x` as https://github.com/x, and Flux and git
 * do not. The scp form (git@host:org/repo) is refused because source-controller does not take it;
 * credentials in the URL are refused because they would be committed.
 */
export const gitUrl: Rule = (v) => {
  const unsafe = quotedText(v);
  if (unsafe) return unsafe;
  if (/\s/.test(v)) return "must not contain white space";
  const nonAscii = ascii(v);
  if (nonAscii) return nonAscii;
  if (/^[\w.-]+@[\w.-]+:(?!\/\/)/.test(v))
    return "must be an https:// or ssh:// URL; Flux does not accept the scp form (write ssh://git@host/org/repo)";
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(v)?.[1];
  if (!v.startsWith("https://") && !v.startsWith("ssh://")) {
    if (scheme === undefined) return "must be an https:// or ssh:// URL, e.g. https://github.com/acme/team-config";
    const lower = scheme.toLowerCase();
    if (lower !== "https" && lower !== "ssh") return `must use https:// or ssh:// (not ${scheme}://)`;
    return `must start with exactly ${lower}:// (lower case, then two slashes), e.g. https://github.com/acme/team-config`;
  }
  const https = v.startsWith("https://");
  const rest = v.slice(v.indexOf("://") + 3);
  const authority = rest.split("/")[0]!;
  const at = authority.lastIndexOf("@");
  const userinfo = at === -1 ? "" : authority.slice(0, at);
  if (https ? at !== -1 : userinfo.includes(":")) return "must not carry credentials; put them in the git-auth secret instead";
  const hostPort = authority.slice(at + 1);
  if (hostPort === "" || hostPort.startsWith(":")) return "must name a host, e.g. https://github.com/acme/team-config";
  const badHost = hostname(hostPort);
  if (badHost) return `host '${hostPort}' ${badHost}`;
  const badPercent = /%(?![0-9A-Fa-f]{2})/.test(v);
  if (badPercent) return "'%' must start a percent-encoding such as %20";
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return "must be an https:// or ssh:// URL, e.g. https://github.com/acme/team-config";
  }
  if (url.search || url.hash) return "must not have a query or fragment";
  if (url.pathname.length <= 1) return "must name a repository path";
  return undefined;
};

/**
 * Git branch and tag names (git check-ref-format), minus anything unsafe in YAML, and short
 * enough to be a ref on disk: git keeps a ref as a file per '/'-separated part and writes
 * `<part>.lock` first, and a file name holds at most 255 bytes, so a part may have 250. The whole
 * name is held to 255 too, as GitHub and GitLab do. A tag may also hold '+' (semver build
 * metadata, v1.2.0+build.5).
 */
const gitRefName =
  (what: "branch" | "tag", chars: RegExp, allowed: string): Rule =>
  (v) => {
    if (v === "") return "must not be empty";
    const unsafe = atMost(v, 255) ?? safeText(v);
    if (unsafe) return unsafe;
    if (!chars.test(v)) return `may contain only ${allowed}`;
    if (v === "HEAD" || v.startsWith("-")) return `is not a valid git ${what} name (HEAD, or a leading '-')`;
    if (/^\/|\/$|\/\/|\.\.|\.$/.test(v)) return `is not a valid git ${what} name ('/' at either end, '//', '..' or a trailing '.')`;
    for (const part of v.split("/")) {
      if (part.startsWith(".") || part.endsWith(".lock"))
        return `is not a valid git ${what} name: '${part}' starts with '.' or ends with '.lock'`;
      const longPart = atMost(part, 250, " per '/'-separated part (git writes <part>.lock, and a file name holds 255 bytes)");
      if (longPart) return `'${part.slice(0, 20)}...' ${longPart}`;
    }
    return undefined;
  };

export const branchName: Rule = gitRefName("branch", /^[A-Za-z0-9._/-]+$/, "letters, digits, '.', '_', '/' and '-'");
export const tagName: Rule = gitRefName("tag", /^[A-Za-z0-9._/+-]+$/, "letters, digits, '.', '_', '/', '+' and '-'");

/**
 * A commit as a GitRepository's spec.ref.commit takes it: the full SHA-1. source-controller
 * looks the object up by the whole hash (go-git's plumbing.NewHash pads a prefix with zeros),
 * so a short SHA finds nothing.
 */
export const commitSha: Rule = (v) => {
  const broken = visible(v);
  if (broken) return broken;
  if (!/^[0-9a-fA-F]*$/.test(v)) return "must be a commit SHA: hexadecimal digits (0-9, a-f) only";
  if (v.length !== 40)
    return `must be the full 40-digit commit SHA (it has ${v.length}); source-controller finds a commit by its whole SHA, never by a prefix (git rev-parse <sha> prints the full one)`;
  return undefined;
};

/** A semver range of tags, as source-controller's spec.ref.semver and an ImagePolicy take it. */
export const semverRange: Rule = (v) => checkRange(v).error ?? quotedText(v);

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

/** Go's time.Duration in nanoseconds per unit, and its largest value (int64 nanoseconds). */
const DURATION_UNITS: Record<string, bigint> = { ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };
const MAX_DURATION_NS = 2n ** 63n - 1n;
const MAX_DURATION = "2562047h47m16.854775807s";

/** A Go duration (30s, 5m, 1h30m, 1.5s) in nanoseconds, or undefined when it is not one. */
export function durationNanos(v: string): bigint | undefined {
  if (!/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/.test(v)) return undefined;
  let ns = 0n;
  for (const [, whole, frac = "", unit] of v.matchAll(/([0-9]+)(?:\.([0-9]+))?(ms|s|m|h)/g)) {
    const per = DURATION_UNITS[unit!]!;
    ns += BigInt(whole!) * per + (BigInt(frac || "0") * per) / 10n ** BigInt(frac.length);
  }
  return ns;
}

/**
 * Go durations as Flux intervals take them (30s, 5m, 1h30m; the CRDs' pattern): positive, and
 * within Go's time.Duration, which a Flux controller cannot parse beyond.
 */
export const duration: Rule = (v) => {
  const broken = visible(v) ?? atMost(v, 64);
  if (broken) return broken;
  const ns = durationNanos(v);
  if (ns === undefined) return "must be a duration such as 30s, 5m or 1h";
  if (ns > MAX_DURATION_NS) return `must be at most ${MAX_DURATION} (the longest Go time.Duration, which Flux parses intervals into)`;
  if (ns === 0n) return "must be longer than 0s";
  return undefined;
};

/** Kubernetes resource quantities: 500m, 2, 4Gi, 1.5. */
export const quantity: Rule = (v) =>
  visible(v) ??
  atMost(v, 64) ??
  (/^([0-9]+(\.[0-9]+)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.test(v)
    ? undefined
    : "must be a Kubernetes quantity such as 500m, 2, 512Mi or 4Gi");

/** A count of objects (the pods quota): a whole number; Kubernetes has no half a pod. */
export const count: Rule = (v) =>
  visible(v) ?? (/^(0|[1-9][0-9]{0,8})$/.test(v) ? undefined : "must be a whole number from 0 to 999999999, such as 50");

/**
 * A CODEOWNERS owner: @user, @org/team or an e-mail address, at most 254 characters (the
 * longest e-mail address, RFC 5321; GitHub's and GitLab's names are shorter).
 */
export const codeOwner: Rule = (v) => {
  const broken = visible(v) ?? atMost(v, 254);
  if (broken) return broken;
  // GitLab's CODEOWNERS names nested groups by their path (@group/subgroup/team).
  if (/^@[A-Za-z0-9-]+(\/[A-Za-z0-9._-]+)*$/.test(v)) return undefined;
  if (/^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$/.test(v)) return undefined;
  return "must be @user, @org/team (on GitLab @group/subgroup/...) or an e-mail address";
};

/** A postBuild variable name as kustomize-controller takes it, and a ConfigMap key (253 at most). */
export const variableName: Rule = (v) =>
  visible(v) ??
  atMost(v, 253) ??
  (/^[_a-zA-Z][_a-zA-Z0-9]*$/.test(v) ? undefined : "must be a variable name: a letter or '_', then letters, digits or '_'");

/**
 * A GitHub/GitLab owner or repository name; each '/'-separated part at most 255 characters
 * (GitLab's limit for a group or project path; GitHub's are shorter).
 */
export const gitName: Rule = (v) => {
  if (v === "") return "must not be empty";
  const broken = visible(v) ?? atMost(v, MAX_TEXT);
  if (broken) return broken;
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/.test(v))
    return "may contain only letters, digits, '.', '_', '-' (and '/' for GitLab groups)";
  const long = v.split("/").find((p) => p.length > 255);
  return long ? `each '/'-separated part must be at most 255 characters ('${long.slice(0, 20)}...' has ${long.length})` : undefined;
};

/** Environment names: DNS-1035 labels, and not `base`, which is the overlays' shared base. */
export const envName: Rule = (v) =>
  dns1035Label(v) ?? (v === "base" ? "'base' is the shared base of the overlays, not an environment" : undefined);

export const oneOf =
  (choices: readonly string[]): Rule =>
  (v) =>
    choices.includes(v) ? undefined : `must be one of: ${choices.join(", ")}`;
