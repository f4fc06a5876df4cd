/**
 * fleet's command line: parse arguments, pick prompts or flags, print, map errors to exit
 * codes. The only place that talks to a person. Kept free of heavy imports so that
 * `fleet --version` and `fleet --help` start fast; a command loads its code when it runs.
 */
import * as path from "node:path";
import { parseArgs } from "node:util";
import { EXIT, FleetError, fromSystemError, InputError, InputErrors } from "../core/errors.js";
import { flagOf, type Generator } from "../core/generator.js";
import { fleetVersion } from "../core/paths.js";
import { GENERATORS_DIR, listTeamGenerators, repoFlagOf, type TeamGeneratorFile } from "../core/team-generators.js";
import { findFleetRepo } from "../model/root.js";
import { printable } from "../core/text.js";
import { ALIASES, COMMANDS, COMMON_FLAGS, generatorOptions, RESERVED_WORDS, reservedNames, type GeneratorCommand } from "./commands.js";
import { errorDocument, stdio, type Io } from "./output.js";
import { badArguments, closest } from "./suggest.js";

/** The team generators of the fleet repo `--repo` names or cwd is in, by file name only. */
function teamGenerators(args: string[], cwd: string): { root: string; list: TeamGeneratorFile[] } | undefined {
  const root = findFleetRepo(repoFlagOf(args), cwd);
  return root ? { root, list: listTeamGenerators(root, reservedNames()) } : undefined;
}

/** Lists team generators without importing them: `fleet --help` runs no repo code. Text read from the repo is escaped. */
function mainHelp(team: ReturnType<typeof teamGenerators>): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), ...(team?.list ?? []).map((t) => t.name.length)) + 2;
  const teamRows = team?.list.length
    ? [
        "",
        `Team generators (${printable(path.join(team.root, GENERATORS_DIR))}${path.sep}):`,
        ...team.list.map(
          (t) => `  ${t.name.padEnd(width)}${printable(t.refused ? `refused: ${t.refused}` : t.summary || `team generator (${t.file})`)}`,
        ),
        "  (fleet <team generator> runs the repo's code, --dry-run included; --help does not)",
      ]
    : [];
  return [
    "fleet: create and keep a Flux CD GitOps monorepo for many tenants on shared clusters",
    "",
    "Usage: fleet <command> [options]",
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    ...teamRows,
    "",
    "Options for every command that writes:",
    ...COMMON_FLAGS.map(([f, d]) => `  ${f.padEnd(Math.max(...COMMON_FLAGS.map(([g]) => g.length)) + 2)}${d}`),
    "",
    "  fleet --version      print the version",
    "  fleet <command> --help   show a command's answers and flags",
  ].join("\n");
}

/**
 * `fleet <team generator> --help`: only what the file says without running it. Its answers are
 * defined by running the module, and reading help must never run repo code.
 */
function teamHelp(t: TeamGeneratorFile): string {
  return [
    `fleet ${t.name} [arguments] [options]   (team generator: ${t.file})`,
    ...(t.summary ? ["", printable(t.summary)] : []),
    ...(t.refused ? ["", `refused: ${t.refused}`] : []),
    "",
    `Its answers (arguments, flags and prompts) are defined in ${t.file}: read that file for them.`,
    "fleet does not run repo code for --help, so it cannot list them here.",
    `fleet ${t.name} runs that module's code, with or without --dry-run, as npm run runs a package's scripts.`,
    "",
    "Common options:",
    ...COMMON_FLAGS.map(([f, d]) => `  ${f.padEnd(28)}${d}`),
  ].join("\n");
}

/** `--help`, `-h` or a group of short switches holding h (`-yh`), before any `--`. */
function asksForHelp(args: string[]): boolean {
  for (const a of args) {
    if (a === "--") return false;
    if (a === "--help" || /^-[a-z]*h[a-z]*$/i.test(a)) return true;
  }
  return false;
}

/**
 * Switches that default to on need a way off: `--no-network-policy` and `--network-policy=false`
 * (node's parseArgs takes neither before Node 22).
 */
function splitNegations(gen: Generator, argv: string[]): { args: string[]; negated: string[] } {
  const switches = new Set(gen.answers.filter((a) => a.type === "confirm" && !a.positional).map(flagOf));
  const args: string[] = [];
  const negated: string[] = [];
  for (const arg of argv) {
    const m = /^--(no-)?([a-z][a-z0-9-]*)(?:=(true|false))?$/.exec(arg);
    const flag = m?.[2];
    if (!m || !flag || !switches.has(flag) || (m[1] && m[3])) {
      args.push(arg);
      continue;
    }
    if (m[1] || m[3] === "false") negated.push(flag);
    else args.push(`--${flag}`);
  }
  return { args, negated };
}

/** The hidden command shell completion scripts call: the words typed so far in, candidates out. */
const COMPLETE = "__complete";

/** `--json` given before any `--`: the answer is one JSON document, whatever happens. */
const wantsJson = (argv: string[]) => argv.slice(0, argv.includes("--") ? argv.indexOf("--") : undefined).includes("--json");

export async function main(argv: string[], p: Io = stdio()): Promise<number> {
  let command: string | undefined;
  try {
    const [typed, ...rest] = argv;
    // `fleet help new-tenant` is `fleet new-tenant --help`.
    if (typed === "help" && rest[0] !== undefined && !rest[0].startsWith("-")) return await main([rest[0], "--help", ...rest.slice(1)], p);
    const first = (typed !== undefined && ALIASES.get(typed)) || typed;
    if (first === undefined || first === "--help") {
      p.out(mainHelp(teamGenerators(rest, p.cwd)));
      return first === undefined ? EXIT.usage : EXIT.ok;
    }
    if (first === "--version") {
      p.out(fleetVersion());
      return EXIT.ok;
    }
    if (first === COMPLETE) return await (await import("./completion.js")).runComplete(rest, p);
    const cmd = COMMANDS.find((c) => c.name === first);
    if (cmd) command = cmd.name;
    if (cmd && "run" in cmd) return await (await cmd.run())(rest, p);
    if (cmd) return await runGenerator(cmd, await cmd.load(), rest, p);
    const team = teamGenerators(rest, p.cwd);
    const entry = team?.list.find((t) => t.name === first);
    const hint = RESERVED_WORDS.get(first);
    if (hint !== undefined) {
      const shadowed = entry ? `; ${entry.file} is not run: ${entry.refused}` : "";
      throw new InputError("<command>", `fleet has no command '${first}'${shadowed}`, hint);
    }
    if (!entry) {
      const names = [...COMMANDS.map((c) => c.name), ...(team?.list ?? []).filter((t) => !t.refused).map((t) => t.name)];
      const near = closest(first, names);
      throw new InputError("<command>", `unknown command '${printable(first)}'`, `${near ? `did you mean fleet ${near}? ` : ""}one of: ${names.join(", ")}`);
    }
    command = entry.name;
    if (asksForHelp(rest)) {
      p.out(teamHelp(entry));
      return EXIT.ok;
    }
    return await runTeamGenerator(entry, rest, p);
  } catch (e) {
    // The file system's refusals (permissions, a full disk, a directory where a file goes) are
    // the system's or the repo's, not fleet's: typed, with the path and the fix, no stack.
    const known = e instanceof FleetError ? e : fromSystemError(e, findFleetRepo(repoFlagOf(argv), p.cwd));
    const json = wantsJson(argv);
    if (known) {
      if (json) p.out(errorDocument(known, known.exitCode, command));
      else p.err(`fleet: ${known.message}`);
      return known.exitCode;
    }
    // The stack is for a bug report: on standard error even under --json.
    p.err(`fleet: internal error: ${(e as Error).stack ?? String(e)}`);
    if (json) p.out(errorDocument(new Error(`internal error: ${(e as Error).message ?? String(e)}`), EXIT.checkFailed, command));
    return EXIT.checkFailed;
  }
}

/**
 * A team generator runs exactly as fleet's own do (change set, --dry-run, answers from flags or
 * prompts, lock, contract). What goes wrong inside it is reported under its name.
 */
async function runTeamGenerator(entry: TeamGeneratorFile, rest: string[], p: Io): Promise<number> {
  const { loadTeamGenerator, TeamGeneratorError } = await import("../core/team-loader.js");
  const gen = await loadTeamGenerator(entry);
  const positional = gen.answers.find((a) => a.positional);
  const cmd: GeneratorCommand = {
    name: gen.name,
    usage: `fleet ${gen.name}${positional ? ` <${positional.name}>` : ""} [options]   (team generator: ${entry.file})`,
    summary: gen.description,
    load: async () => gen,
  };
  try {
    return await runGenerator(cmd, gen, rest, p);
  } catch (e) {
    if (e instanceof TeamGeneratorError || e instanceof InputError || e instanceof InputErrors) throw e;
    // The file system's refusals are the system's or the repo's, whoever's code met them.
    const refused = e instanceof FleetError ? undefined : fromSystemError(e);
    if (refused) throw refused;
    const who = `team generator '${entry.name}' (${entry.file})`;
    if (e instanceof FleetError) throw new TeamGeneratorError(`${who}: ${e.message}`, e.exitCode);
    throw new TeamGeneratorError(`${who} failed: ${(e as Error).message ?? String(e)}\n  fix: correct the generator; nothing was written`);
  }
}

async function runGenerator(cmd: GeneratorCommand, gen: Generator, rest: string[], p: Io): Promise<number> {
  let parsed;
  const options = generatorOptions(gen);
  try {
    const { args, negated } = splitNegations(gen, rest);
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    for (const flag of negated) (parsed.values as Record<string, unknown>)[flag] = false;
  } catch (e) {
    throw badArguments(e, cmd.name, Object.keys(options));
  }
  if ((parsed.values as { help?: boolean }).help) {
    p.out((await import("./help.js")).commandHelp(cmd, gen));
    return EXIT.ok;
  }
  const { runCommand } = await import("./run-command.js");
  return await runCommand(gen, parsed.values as Record<string, string | string[] | boolean | undefined>, parsed.positionals, p);
}
