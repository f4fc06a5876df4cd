/**
 * Runs the external commands a generator asked for: every precondition is checked before the
 * change set is applied (tokens present, the right flux, a terminal or --yes for confirmations),
 * and the commands run after it, their output streamed with secrets redacted.
 */
import * as path from "node:path";
import { InputError, InputErrors } from "../core/errors.js";
import type { ExternalCommand } from "../core/generator.js";
import { redactor, runTool } from "./exec.js";
import { checkFluxMatchesPin } from "./flux.js";
import { onRemote } from "./git.js";
import { checkTool } from "./tools.js";

export interface CommandOptions {
  root: string;
  yes: boolean;
  /** A person is at a terminal to answer a confirmation. */
  terminal: boolean;
  print: (line: string) => void;
}

const secretNames = (c: ExternalCommand) => [
  ...(c.requiredEnv ?? []).map((e) => e.name),
  ...Object.values(c.envFrom ?? {}),
  ...(c.stdinFrom ? [c.stdinFrom] : []),
];

function argv(c: ExternalCommand, yes: boolean): string[] {
  return yes && c.autoApprove ? [...c.args, c.autoApprove] : c.args;
}

/** The command line as a person would type it; secrets appear only as the variable that holds them. */
export function commandLine(c: ExternalCommand, yes: boolean): string {
  const env = Object.entries(c.envFrom ?? {}).map(([to, from]) => `${to}=$${from} `);
  const stdin = c.stdinFrom ? `printf %s "$${c.stdinFrom}" | ` : "";
  return `${stdin}${env.join("")}${c.tool} ${argv(c, yes).join(" ")}`;
}

export async function preflight(commands: ExternalCommand[], opts: CommandOptions): Promise<void> {
  const errors: InputError[] = [];
  for (const c of commands) {
    for (const e of c.requiredEnv ?? [])
      if (!process.env[e.name])
        errors.push(
          new InputError(
            e.name,
            `is not set; ${c.tool} needs ${e.why}`,
            `export ${e.name}=...  (fleet passes it to ${c.tool} through the environment, never on the command line or in a file)`,
          ),
        );
    if (c.autoApprove && !opts.yes && !opts.terminal)
      errors.push(new InputError("--yes", `${c.tool} ${c.args[1] ?? ""} asks for confirmation and there is no terminal to answer it`, "run it on a terminal, or pass --yes"));
  }
  const unique = errors.filter((e, i) => errors.findIndex((f) => f.message === e.message) === i);
  if (unique.length === 1) throw unique[0]!;
  if (unique.length > 1) throw new InputErrors(unique, "cannot bootstrap:");
  const redact = redactor(process.env, commands.flatMap(secretNames));
  for (const pin of new Set(commands.map((c) => c.fluxPin).filter((p): p is string => !!p))) await checkFluxMatchesPin(opts.root, pin, redact);
  for (const tool of new Set(commands.map((c) => c.tool))) await checkTool(tool, opts.root, redact);
}

/** Run them in order; stops at a command whose file is not on the remote yet (deferred). */
export async function runCommands(commands: ExternalCommand[], opts: CommandOptions): Promise<{ deferred?: string }> {
  for (const c of commands) {
    if (c.onRemote) {
      const state = await onRemote(opts.root, c.onRemote.branch, c.onRemote.file);
      if (!state.ok) {
        const rule = `${c.onRemote.what} not run: ${state.why}. ${c.onRemote.why}`;
        const fix = `commit and push ${c.onRemote.file} (and the rest of the cluster directory) to ${c.onRemote.branch}, then run: ${c.onRemote.then}`;
        if (c.onRemote.deferrable) return { deferred: `${rule}.\n  next: ${fix}` };
        throw new InputError("bootstrap", rule, fix);
      }
    }
    const redact = redactor(process.env, secretNames(c));
    const env: Record<string, string> = {};
    for (const [to, from] of Object.entries(c.envFrom ?? {})) env[to] = process.env[from] ?? "";
    opts.print(`▸ ${c.title}`);
    opts.print(`  $ ${commandLine(c, opts.yes)}`);
    await runTool(c.tool, argv(c, opts.yes), {
      cwd: path.join(opts.root, c.cwd ?? ""),
      env,
      interactive: !!c.autoApprove && !opts.yes,
      ...(c.stdinFrom ? { input: process.env[c.stdinFrom] ?? "" } : {}),
      redact,
      onLine: (line) => opts.print(`  ${c.tool} │ ${line}`),
    });
  }
  return {};
}
