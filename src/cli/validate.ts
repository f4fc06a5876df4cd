/** `fleet validate`: arguments, output, and exit codes (0 clean, 1 a check failed, 2 could not run). */
import { parseArgs } from "node:util";
import { EXIT, FleetError, InputError } from "../core/errors.js";
import { validateRoot } from "../model/root.js";
import { printable } from "../core/text.js";
import { parseSourceFlags, refuseUnusedSources } from "../validate/source-flags.js";
import { duration, durationNanos } from "../core/validation.js";
import type { Options } from "./commands.js";
import type { Io } from "./output.js";
import { badArguments } from "./suggest.js";

const USAGE = `fleet validate [--cluster NAME] [--json | --format text|markdown] [--strict] [--source NAMESPACE/NAME=DIR ...] [--explain-access NAMESPACE/SA] [--timeout DURATION] [--no-cache] [--repo DIR]

Build every cluster offline with kubectl kustomize, apply Flux's own changes (patches,
targetNamespace, postBuild substitution), follow the Kustomizations it finds, check the
invariants of a multi-tenant Flux repo and prove tenant isolation with a static RBAC model.
Works in any Flux monorepo with a clusters/ directory, with or without fleet.yaml.
Safe on a repo you do not trust: it reads nothing outside the repository and never goes to
the network (a remote base is reported, an error where the cluster forbids remote bases).
Each cluster is judged by its own Flux version and its own lockdown flags. An error is what
Flux would fail on, or a way for a tenant to act beyond its namespace; a warning is hardening or
layout convention. What validate cannot see (other repositories, OCI artifacts, ResourceSets,
remote bases) is listed as not checked, and the run is never called clean while it is.
--source NS/NAME=DIR reads a source that is not this repository (a tenant's repository) from
DIR (relative to the working directory); a name no Kustomization reads is refused.
--strict fails on warnings too. --timeout bounds each build (90s, 5m; default 5m).
--json prints one JSON document on every exit, errors included.
--format markdown prints the result as Markdown for a CI job summary (GitHub's
$GITHUB_STEP_SUMMARY): the result, the findings by severity, the isolation table and what was
not checked. --format text (the default) is the report above.
Builds are cached by the content of every file they read (in $XDG_CACHE_HOME/fleet/validate,
else ~/.cache/fleet/validate): after a change, only what it touches is built again. A file
whose size, times and inode are as they were is not read again to know it (as git does).
--no-cache neither reads nor writes that cache.
Exit codes: 0 no error (warnings allowed unless --strict), 1 a check failed, 2 bad input,
3 kubectl is missing.`;

const FORMATS = ["text", "markdown"] as const;

/** --timeout as Flux writes durations (90s, 5m, 1m30s), in milliseconds. */
export function durationMs(text: string): number {
  const broken = duration(text);
  if (broken) throw new InputError("--timeout", `'${printable(text)}' ${broken}`);
  return Number(durationNanos(text)! / 1_000_000n);
}

/** --source NAMESPACE/NAME=DIR, each: the directory (relative to the working directory) that holds a source that is not this repository. */
export function sourcesFrom(flags: string[] | undefined, cwd: string): Map<string, string> {
  const sources = parseSourceFlags(flags ?? [], cwd);
  if (!(sources instanceof Map)) throw new InputError("--source", `'${printable(sources.value)}' ${sources.problem}`);
  return sources;
}

/** Could not run: kubectl missing (a tool, exit 3) or no such cluster (usage, exit 2). */
class CannotRun extends FleetError {
  constructor(
    message: string,
    override readonly exitCode: number,
  ) {
    super(message);
  }
}

export const OPTIONS = {
  cluster: { type: "string" },
  json: { type: "boolean" },
  format: { type: "string" },
  strict: { type: "boolean" },
  source: { type: "string", multiple: true },
  "explain-access": { type: "string" },
  timeout: { type: "string" },
  "no-cache": { type: "boolean" },
  repo: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

/** --json's one document on every exit, a run that could not start included, is main's (errorDocument). */
export async function runValidate(args: string[], p: Io): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: OPTIONS, strict: true }));
  } catch (e) {
    throw badArguments(e, "validate", Object.keys(OPTIONS));
  }
  if (values.help) {
    p.out(USAGE);
    return EXIT.ok;
  }
  const format = values.format ?? "text";
  if (!(FORMATS as readonly string[]).includes(format)) throw new InputError("--format", `'${printable(format)}' is not a report format`, `use one of: ${FORMATS.join(", ")} (or --json)`);
  if (values.json && values.format !== undefined) throw new InputError("--format", "--json and --format each choose the output; give one", "drop --format for JSON, or --json for text or Markdown");
  const root = validateRoot(values.repo, p.cwd);
  const sources = sourcesFrom(values.source, p.cwd);
  let explain: [string, string] | undefined;
  if (values["explain-access"] !== undefined) {
    const m = /^([a-z0-9-]+)\/([a-z0-9.-]+)$/.exec(values["explain-access"]);
    if (!m) throw new InputError("--explain-access", `'${values["explain-access"]}' must be <namespace>/<serviceaccount>`);
    explain = [m[1]!, m[2]!];
  }
  const timeoutMs = values.timeout === undefined ? undefined : durationMs(values.timeout);
  // Never validate half a change, and never write: a journal stops validate (recover.ts says why).
  const { refuseHalfApplied } = await import("../changeset/recover.js");
  refuseHalfApplied(root, "validate");
  const { validateRepo, NoClusters } = await import("../validate/index.js");
  const { KubectlMissing } = await import("../validate/build.js");
  // Set for every run (tests run many in one process); validateRepo's Builder reads it.
  const report = await import("../validate/report.js");
  // Progress is for a person watching: on a terminal's stderr only, never in a pipe or --json.
  const progress = p.errTerminal === true && !values.json ? (line: string) => p.err(line) : undefined;
  let results;
  try {
    results = await validateRepo({ root, ...(values.cluster ? { cluster: values.cluster } : {}), sources, ...(timeoutMs ? { timeoutMs } : {}), ...(progress ? { progress } : {}), ...(values["no-cache"] ? { cache: false } : {}) });
  } catch (e) {
    if (e instanceof KubectlMissing) throw new CannotRun(`validate could not run: ${printable(e.message)}\n  fix: install kubectl (it builds with its embedded kustomize)`, EXIT.tool);
    if (e instanceof NoClusters) throw new CannotRun(`validate could not run: ${printable(e.message)}`, EXIT.usage);
    throw e;
  }
  refuseUnusedSources(sources, "that content was not checked");
  const errors = results.some((r) => r.findings.some((f) => f.severity === "error"));
  const warnings = results.some((r) => r.findings.some((f) => f.severity === "warning"));
  const failed = errors || (values.strict === true && warnings);
  if (explain) p.out(values.json ? JSON.stringify({ command: "validate", explainAccess: report.accessOf(results, ...explain) }, null, 2) : report.explainAccess(results, ...explain));
  else if (values.json) p.out(report.jsonReport(results));
  else p.out(format === "markdown" ? report.markdownReport(results, failed) : report.textReport(results));
  return failed ? EXIT.checkFailed : EXIT.ok;
}
