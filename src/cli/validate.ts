/** `fleet validate`: arguments, output, and exit codes (0 clean, 1 a check failed, 2 could not run). */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { EXIT, InputError } from "../core/errors.js";
import { validateRoot } from "../model/root.js";
import { printable } from "../core/text.js";
import { duration, durationNanos } from "../core/validation.js";
import type { Io } from "./output.js";

const USAGE = `fleet validate [--cluster NAME] [--json] [--source NAMESPACE/NAME=DIR ...] [--explain-access NAMESPACE/SA] [--timeout DURATION] [--repo DIR]

Build every cluster offline with kubectl kustomize, apply Flux's own changes (patches,
targetNamespace, postBuild substitution), follow the Kustomizations it finds, check the
invariants of a multi-tenant Flux repo and prove tenant isolation with a static RBAC model.
Works in any Flux monorepo with a clusters/ directory, with or without fleet.yaml.
Safe on a repo you do not trust: it reads nothing outside the repository and never goes to
the network (a remote base is reported, an error where the cluster forbids remote bases).
--timeout bounds each build (90s, 5m; default 5m).
Exit codes: 0 clean (warnings allowed), 1 a check failed, 2 it could not run.`;

/** --timeout as Flux writes durations (90s, 5m, 1m30s), in milliseconds. */
export function durationMs(text: string): number {
  const broken = duration(text);
  if (broken) throw new InputError("--timeout", `'${printable(text)}' ${broken}`);
  return Number(durationNanos(text)! / 1_000_000n);
}

export async function runValidate(args: string[], p: Io): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        cluster: { type: "string" },
        json: { type: "boolean" },
        source: { type: "string", multiple: true },
        "explain-access": { type: "string" },
        timeout: { type: "string" },
        repo: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (e) {
    throw new InputError("fleet validate", (e as Error).message.replace(/\. To specify.*$/s, ""), "see fleet validate --help");
  }
  if (values.help) {
    p.out(USAGE);
    return EXIT.ok;
  }
  const root = validateRoot(values.repo, p.cwd);
  const sources = new Map<string, string>();
  for (const s of values.source ?? []) {
    const m = /^([a-z0-9-]+)\/([a-z0-9.-]+)=(.+)$/.exec(s);
    if (!m) throw new InputError("--source", `'${s}' must be <namespace>/<name>=<dir>`);
    sources.set(`${m[1]}/${m[2]}`, path.resolve(p.cwd, m[3]!));
  }
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
  const report = await import("../validate/report.js");
  let results;
  try {
    results = await validateRepo({ root, ...(values.cluster ? { cluster: values.cluster } : {}), sources, ...(timeoutMs ? { timeoutMs } : {}) });
  } catch (e) {
    if (e instanceof KubectlMissing) {
      p.err(`fleet validate could not run: ${printable(e.message)}\n  fix: install kubectl (it builds with its embedded kustomize)`);
      return EXIT.usage;
    }
    if (e instanceof NoClusters) {
      p.err(`fleet validate could not run: ${printable(e.message)}`);
      return EXIT.usage;
    }
    throw e;
  }
  if (explain) p.out(report.explainAccess(results, ...explain));
  else p.out(values.json ? report.jsonReport(results) : report.textReport(results));
  return results.some((r) => r.findings.some((f) => f.severity === "error")) ? EXIT.checkFailed : EXIT.ok;
}
