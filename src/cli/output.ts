/** What a command prints: a line per file, the diff on --dry-run, next steps, errors as JSON; and where it goes. */
import type { Change, ChangeSet } from "../changeset/changeset.js";
import { stopWhenSafe } from "../changeset/signals.js";
import { EXIT, InputError, InputErrors } from "../core/errors.js";
import type { ExternalCommand } from "../core/generator.js";

/** Where a command runs and how it talks to the person who ran it. */
export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** The directory the command was run from. */
  cwd: string;
  /** A person is at a terminal (stdin and stdout): prompts are possible. */
  terminal: boolean;
  /** Standard error is a terminal: progress lines go there. */
  errTerminal?: boolean;
}

/**
 * A line writer for a standard stream whose reader may leave early (`fleet ... | head`). What
 * is left to say then has no reader: standard output's reader gone ends the run quietly with
 * exit 0, as a pipe's reader expects of `git log`, once any apply under way has finished or been
 * undone; standard error's gone (its own pipe closed) only silences it.
 */
function lineWriter(stream: NodeJS.WriteStream, onGone: () => void): (s: string) => void {
  let gone = false;
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    gone = true;
    onGone();
  });
  return (s) => {
    if (!gone) stream.write(s.endsWith("\n") ? s : `${s}\n`);
  };
}

let streams: { out: (s: string) => void; err: (s: string) => void } | undefined;

/** The process's own: standard streams, working directory, terminal. */
export function stdio(): Io {
  streams ??= { out: lineWriter(process.stdout, () => stopWhenSafe(EXIT.ok)), err: lineWriter(process.stderr, () => {}) };
  return {
    ...streams,
    cwd: process.cwd(),
    terminal: process.stdin.isTTY === true && process.stdout.isTTY === true,
    errTerminal: process.stderr.isTTY === true,
  };
}

const pad = (kind: string) => kind.padEnd(9);

export function summary(changes: Change[]): string {
  return changes.map((c) => `  ${pad(c.kind)} ${c.path}`).join("\n");
}

export function report(
  p: Io,
  command: string,
  cs: ChangeSet,
  opts: { dryRun: boolean; json: boolean; nextSteps: string[]; commands?: ExternalCommand[]; notes?: string[]; extra?: Record<string, unknown> },
): void {
  const all = cs.changes();
  const changed = all.filter((c) => c.kind !== "unchanged");
  if (opts.json) {
    p.out(
      JSON.stringify(
        {
          command,
          dryRun: opts.dryRun,
          changes: all.map((c) => ({ path: c.path, change: c.kind })),
          ...(opts.dryRun ? { diff: cs.diff() } : {}),
          ...(opts.commands?.length ? { commands: opts.commands.map((c) => ({ tool: c.tool, args: c.args, env: c.envFrom ?? {} })) } : {}),
          notes: opts.notes ?? [],
          ...opts.extra,
          nextSteps: changed.length > 0 && !opts.dryRun ? opts.nextSteps : [],
        },
        null,
        2,
      ),
    );
    return;
  }
  const notes = () => {
    if (opts.notes?.length) for (const n of opts.notes) p.out(`note: ${n}`);
  };
  if (changed.length === 0) {
    p.out(`fleet ${command}: nothing to do${all.length ? `; the repository already has all of it (${all.length} file${all.length === 1 ? "" : "s"} unchanged)` : ""}`);
    notes();
    return;
  }
  p.out(summary(all));
  if (opts.dryRun) {
    p.out("");
    p.out(cs.diff());
    p.out(`dry run: ${changed.length} file${changed.length === 1 ? "" : "s"} would change; nothing was written`);
    notes();
    return;
  }
  p.out(`fleet ${command}: ${changed.length} file${changed.length === 1 ? "" : "s"} changed`);
  notes();
  if (opts.nextSteps.length > 0) {
    p.out("\nNext steps:");
    for (const line of opts.nextSteps) p.out(`  ${line}`);
  }
}

/** An error's fields a program can rely on: the field and the rule broken, and the fix. */
function errorFields(e: Error): Record<string, unknown> {
  if (e instanceof InputError) return { field: e.field, rule: e.rule, ...(e.fix ? { fix: e.fix } : {}) };
  if (e instanceof InputErrors) return { errors: e.errors.map(errorFields) };
  return {};
}

/**
 * The --json answer of a run that failed, the same document for every command: what a person
 * would read on standard error, with its parts as fields.
 */
export function errorDocument(e: Error, exitCode: number, command?: string): string {
  return JSON.stringify({ ...(command ? { command } : {}), error: { message: e.message, ...errorFields(e) }, exitCode }, null, 2);
}
