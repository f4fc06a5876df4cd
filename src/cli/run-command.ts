/**
 * Run one writing command end to end: find the repo, hold its lock, settle the answers (flags,
 * then prompts on a terminal), stage the generator's actions, and preview or apply them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { loadConfig } from "../core/config.js";
import { initContext, locateRepo, repoContext } from "../core/context.js";
import { EXIT, InputError, LockError } from "../core/errors.js";
import { flagOf, type Generator } from "../core/generator.js";
import type { ChangeSet } from "../changeset/changeset.js";
import { factsWarning } from "../flux/index.js";
import { acquireLock, STALE_MS, type Lock } from "../changeset/lock.js";
import { pruneEmptyDirs } from "../changeset/journal.js";
import { recover, refuseHalfApplied } from "../changeset/recover.js";
import { proveChange } from "../changeset/proof.js";
import { resolveAnswers, stageGenerator, type RawFlags } from "../core/run-generator.js";
import { validateRoot } from "../model/root.js";
import { equivalentCommand } from "./command-line.js";
import { report, type Io } from "./output.js";
import { asker, confirm } from "./prompts.js";
import { durationMs } from "./validate.js";

/** The nearest existing path at or above `dir`, when it is not a directory: init cannot go there. */
function fileInTheWay(dir: string): string | undefined {
  for (let d = dir; path.dirname(d) !== d; d = path.dirname(d)) {
    try {
      return fs.statSync(d).isDirectory() ? undefined : d;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") throw e;
    }
  }
  return undefined;
}

function pinAfter(ctx: { cs: ChangeSet; config: { flux: { version: string } } }): string {
  try {
    return loadConfig(ctx.cs).flux.version;
  } catch {
    return ctx.config.flux.version;
  }
}

/** What a change does to the files, counted, what is lost first: "deletes 4 files, updates 2 files". */
function changeCounts(cs: ChangeSet): string {
  const verbs = [["deleted", "deletes"], ["updated", "updates"], ["created", "creates"]] as const;
  const changes = cs.changes();
  return verbs
    .map(([kind, verb]) => [verb, changes.filter((c) => c.kind === kind).length] as const)
    .filter(([, n]) => n > 0)
    .map(([verb, n]) => `${verb} ${n} file${n === 1 ? "" : "s"}`)
    .join(", ");
}

export async function runCommand(gen: Generator, values: RawFlags, positionals: string[], p: Io): Promise<number> {
  const reportOnly = gen.reportOnly?.(values) === true;
  // A report writes nothing: like a dry run, it takes no lock.
  const dryRun = values["dry-run"] === true || reportOnly;
  const json = values.json === true;
  const atTerminal = values.yes !== true && p.terminal;
  // fleet's prompts write to standard output, which under --json holds the one JSON document.
  const interactive = atTerminal && !json;
  const positional = gen.answers.find((a) => a.positional);
  if (positionals.length > (positional ? 1 : 0))
    throw new InputError(`fleet ${gen.name}`, `takes ${positional ? `one argument <${positional.name}>` : "no arguments"}, got: ${positionals.join(" ")}`);
  const flags: RawFlags = {};
  for (const a of gen.answers) flags[a.name] = a.positional ? positionals[0] : values[flagOf(a)];

  let root: string;
  // init creates its directory (and any missing parents); a failed init removes them again.
  let madeDir: string | undefined;
  if (gen.anyFluxRepo) root = validateRoot(values.repo as string | undefined, p.cwd);
  else if (gen.needsRepo) root = locateRepo(values.repo as string | undefined, p.cwd);
  else {
    root = path.resolve(p.cwd, String(flags.dir ?? values.repo ?? "."));
    const file = fileInTheWay(root);
    if (file)
      throw new InputError(
        flags.dir !== undefined ? "<dir>" : "--repo",
        `${file === root ? root : `${file}, on the way to ${root},`} is a file, not a directory`,
        "give a directory that does not exist yet (fleet creates it) or an existing one; fleet wrote nothing",
      );
    if (!dryRun) madeDir = fs.mkdirSync(root, { recursive: true });
  }

  let lock: Lock | undefined;
  let failed = true;
  try {
    // Whatever an interrupted run left half done is finished or undone before anything is read.
    if (!dryRun) lock = await acquireLock(root, gen.name);
    if (lock) {
      const recovered = recover(root);
      if (recovered) p.err(recovered);
    } else refuseHalfApplied(root, `${gen.name} --dry-run`);
    const opts = { force: values.force === true };
    const ctx = gen.needsRepo ? repoContext(root, { ...opts, configOptional: gen.anyFluxRepo === true }) : await initContext(root, flags.adopt === true, opts);
    const asked = new Set<string>();
    const answers = await resolveAnswers(gen, ctx, flags, interactive ? asker(p, (name) => asked.add(name)) : undefined);
    // Printed last, after a run that asked anything: the same run as one line for a runbook.
    const finish = (code: number) => {
      if (asked.size > 0 && !json) p.out(`\nThe same run without prompts, for runbooks:\n  ${equivalentCommand(gen, answers, values, ctx)}`);
      return code;
    };
    await gen.survey?.(answers, ctx);
    const reported = reportOnly ? gen.report?.(answers, ctx) : undefined;
    if (reported) {
      if (json) p.out(JSON.stringify({ command: gen.name, ...reported.json }, null, 2));
      else for (const line of reported.lines) p.out(line);
      failed = false;
      return finish(EXIT.ok);
    }
    await stageGenerator(gen, ctx, answers);
    // Proven before anything is written, --dry-run included: it shows what a real run would do.
    const proven = await proveChange(ctx.cs, gen.proof && (() => gen.proof!(answers, ctx)), {
      verify: values["no-verify"] !== true,
      ...(typeof values.timeout === "string" ? { timeoutMs: durationMs(values.timeout) } : {}),
      warn: (l) => p.err(l),
      ...(p.errTerminal && !json ? { progress: (l: string) => p.err(l) } : {}),
    });
    const assessment = await gen.assess?.(answers, ctx);
    const assessed = proven || assessment ? { notes: [...(proven?.notes ?? []), ...(assessment?.notes ?? [])], json: { ...proven?.json, ...assessment?.json } } : undefined;
    const commands = gen.commands?.(answers, ctx) ?? [];
    // A tool's own output is a log beside the result: under --json it goes to standard error.
    const cmdOpts = { root, yes: values.yes === true, terminal: atTerminal, print: (l: string) => (json ? p.err(l) : p.out(l)) };
    // Loaded only by commands that run tools; everything they need is checked before a single
    // file is written.
    const runners = commands.length > 0 ? await import("../runners/commands.js") : undefined;
    if (!dryRun && runners) await runners.preflight(commands, cmdOpts);
    const question = interactive && !dryRun && ctx.cs.hasChanges() ? gen.confirm?.(answers, ctx) : undefined;
    if (question && !(await confirm(p, ctx, `${question} (${changeCounts(ctx.cs)})`)))
      throw new InputError(`fleet ${gen.name}`, "not confirmed; nothing was written", "run it again and answer y, or pass --yes");
    if (lock && !lock.held())
      throw new LockError(
        `another fleet process took this repository's lock over while this one was stalled (it had not refreshed the lock for ${STALE_MS / 1000} s); nothing was written\n  fix: run again`,
      );
    if (!dryRun) await ctx.cs.apply({ command: gen.name });
    failed = false;
    const steps = gen.nextSteps?.(answers, ctx) ?? [];
    // A pin outside fleet's Flux tables is written with borrowed facts: say so every time, of
    // the pin as this run leaves it (upgrade moves it).
    const notes = [...new Set([factsWarning(pinAfter(ctx)), ...(gen.notes?.(answers, ctx) ?? []), ...(assessed?.notes ?? [])])].filter((n) => n !== undefined);
    if (commands.length === 0 || ctx.cs.hasChanges() || json)
      report(p, gen.name, ctx.cs, { dryRun, json, nextSteps: steps, commands, notes, ...(assessed ? { extra: assessed.json } : {}) });
    if (!runners) return finish(EXIT.ok);
    if (dryRun) {
      if (!json) for (const c of commands) p.out(`would run: ${runners.commandLine(c, cmdOpts.yes)}`);
      return finish(EXIT.ok);
    }
    const { deferred } = await runners.runCommands(commands, cmdOpts);
    if (deferred) cmdOpts.print(`\n${deferred}`);
    return finish(EXIT.ok);
  } finally {
    lock?.release();
    // Up to and including the first directory init made.
    if (failed && madeDir) pruneEmptyDirs(path.dirname(madeDir), root);
  }
}
