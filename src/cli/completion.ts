/**
 * Shell completion. `fleet completion bash|zsh|fish` prints a script that asks fleet itself for
 * the words (`fleet __complete <words typed so far>`), so commands, the repo's team generators,
 * each command's flags and their fixed values come from the one command table, never a copy of
 * it in shell. The scripts call `fleet`, the name the README puts on PATH.
 */
import { parseArgs } from "node:util";
import { EXIT, InputError } from "../core/errors.js";
import { flagOf } from "../core/generator.js";
import { findFleetRepo } from "../model/root.js";
import { listTeamGenerators, repoFlagOf } from "../core/team-generators.js";
import { COMMANDS, COMMON_FLAGS, generatorOptions, reservedNames, type Options } from "./commands.js";
import type { Io } from "./output.js";
import { badArguments, closest } from "./suggest.js";

const SCRIPTS = {
  bash: `# fleet completion for bash: add this line to ~/.bashrc
#   source <(fleet completion bash)
_fleet_completion() {
  local IFS=$'\\n'
  COMPREPLY=($(fleet __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
}
complete -o default -F _fleet_completion fleet
`,
  zsh: `#compdef fleet
# fleet completion for zsh: add this line to ~/.zshrc, after compinit
#   source <(fleet completion zsh)
_fleet() {
  local -a found
  found=("\${(@f)$(fleet __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  found=(\${found:#})
  if (( \${#found} )); then
    compadd -- "\${found[@]}"
  else
    _files
  fi
}
compdef _fleet fleet
`,
  fish: `# fleet completion for fish: run this once
#   fleet completion fish > ~/.config/fish/completions/fleet.fish
function __fleet_complete
    set -l typed (commandline -opc)
    set -e typed[1]
    set -l current (commandline -ct)
    set -l found (fleet __complete $typed "$current" 2>/dev/null)
    if test (count $found) -gt 0
        printf '%s\\n' $found
    else
        __fish_complete_path "$current"
    end
end
complete -c fleet -f -a '(__fleet_complete)'
`,
} as const;

type Shell = keyof typeof SCRIPTS;
const SHELLS = Object.keys(SCRIPTS) as Shell[];

const USAGE = [
  "fleet completion bash|zsh|fish",
  "",
  "Print the shell completion script for fleet's commands, the repo's team generators and each",
  "command's flags:",
  "  bash  add to ~/.bashrc:  source <(fleet completion bash)",
  "  zsh   add to ~/.zshrc, after compinit:  source <(fleet completion zsh)",
  "  fish  run once:  fleet completion fish > ~/.config/fish/completions/fleet.fish",
].join("\n");

export async function runCompletion(args: string[], p: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { help: { type: "boolean", short: "h" } }, allowPositionals: true, strict: true });
  } catch (e) {
    throw badArguments(e, "completion", ["help"]);
  }
  if (parsed.values.help) {
    p.out(USAGE);
    return EXIT.ok;
  }
  const [shell, ...more] = parsed.positionals;
  if (shell === undefined || more.length > 0 || !(SHELLS as string[]).includes(shell)) {
    const near = shell === undefined ? undefined : closest(shell, SHELLS);
    throw new InputError("<shell>", shell === undefined ? "is missing" : `'${shell}' is not one of: ${SHELLS.join(", ")}`, near ? `did you mean fleet completion ${near}?` : "fleet completion bash (or zsh, fish)");
  }
  p.out(SCRIPTS[shell as Shell]);
  return EXIT.ok;
}

/**
 * The values of a flag (or, for "", of the positional argument): fixed choices (bootstrap
 * methods), else the repo's, read as the prompt reads them (clusters, environments, tenants).
 */
async function choices(flag: string, command: string, typed: string[], cwd: string): Promise<string[]> {
  const cmd = COMMANDS.find((c) => c.name === command);
  if (!cmd || "run" in cmd) return [];
  const gen = await cmd.load();
  const spec = gen.answers.find((a) => (flag === "" ? a.positional : !a.positional && `--${flagOf(a)}` === flag));
  if (!spec?.choices) return [];
  const fixed = (await import("./help.js")).fixedValues(spec);
  if (fixed) return fixed;
  const root = gen.needsRepo ? findFleetRepo(repoFlagOf(typed), cwd) : undefined;
  if (!root) return [];
  const { repoContext } = await import("../core/context.js");
  try {
    return spec.choices(repoContext(root));
  } catch {
    // A repo that does not read (a broken fleet.yaml) has nothing to offer; the command says why.
    return [];
  }
}

/** A command's long flags, as typed. Team generators': only the common ones (listing theirs would run repo code). */
async function flagsOf(command: string): Promise<Options> {
  const cmd = COMMANDS.find((c) => c.name === command);
  if (!cmd) return Object.fromEntries(COMMON_FLAGS.map(([f]) => [f.split(" ")[0]!.slice(2), { type: f.includes(" ") ? "string" : "boolean" }])) as Options;
  return "run" in cmd ? await cmd.options() : generatorOptions(await cmd.load());
}

/**
 * The words that can follow `typed` (the words after `fleet`, the last one the word being
 * completed, maybe empty). Bash splits `--env=prod` at '=': that '=' is read as the space it
 * stands for.
 */
export async function candidates(typed: string[], cwd: string): Promise<string[]> {
  const words = typed.filter((w) => w !== "=");
  const current = typed.at(-1) === "=" ? "" : (words.at(-1) ?? "");
  const before = typed.at(-1) === "=" ? words : words.slice(0, -1);
  const [command] = before;
  let found: string[] = [];
  if (command === undefined) {
    const root = findFleetRepo(repoFlagOf(typed), cwd);
    const team = root ? listTeamGenerators(root, reservedNames()).filter((t) => !t.refused) : [];
    found = [...COMMANDS.map((c) => c.name), ...team.map((t) => t.name), "help"];
  } else if (command === "help") found = before.length === 1 ? COMMANDS.map((c) => c.name) : [];
  else if (command === "completion") found = before.length === 1 && !current.startsWith("-") ? [...SHELLS] : ["--help"];
  else {
    const options = await flagsOf(command);
    const prev = before.at(-1)!;
    const takesValue = prev.startsWith("--") && options[prev.slice(2)]?.type === "string";
    if (takesValue) found = await choices(prev, command, typed, cwd);
    else if (current.startsWith("-")) found = Object.keys(options).map((f) => `--${f}`);
    else found = before.length === 1 ? await choices("", command, typed, cwd) : [];
  }
  return found.filter((w) => w.startsWith(current));
}

export async function runComplete(typed: string[], p: Io): Promise<number> {
  const found = await candidates(typed, p.cwd);
  if (found.length > 0) p.out(found.join("\n"));
  return EXIT.ok;
}
