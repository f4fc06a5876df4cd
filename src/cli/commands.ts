/**
 * The command table. `fleet --help` prints it without loading any generator, template or prompt
 * code; a command's module is imported only when that command runs.
 */
import type { ParseArgsConfig } from "node:util";
import { flagOf, type Generator } from "../core/generator.js";
import type { Io } from "./output.js";

export type Options = NonNullable<ParseArgsConfig["options"]>;

/** A command that writes: a generator, run through the change set. */
export interface GeneratorCommand {
  name: string;
  usage: string;
  summary: string;
  load: () => Promise<Generator>;
}

/** A command that only reads and reports (validate): it parses its own arguments. */
export interface ReportCommand {
  name: string;
  usage: string;
  summary: string;
  /** Returns the exit code. */
  run: () => Promise<(args: string[], p: Io) => Promise<number>>;
  /** Its flags, for suggestions and completion. */
  options: () => Promise<Options>;
}

export type Command = GeneratorCommand | ReportCommand;

export const COMMANDS: Command[] = [
  {
    name: "init",
    usage: "fleet init [dir] [--adopt]",
    summary: "scaffold a fleet repo, or adopt an existing Flux repo (--adopt writes only fleet.yaml)",
    load: async () => (await import("../../generators/init.js")).default,
  },
  {
    name: "new-env",
    usage: "fleet new-env <env>",
    summary: "add an environment overlay to infrastructure/ and tenants/, with every tenant in it",
    load: async () => (await import("../../generators/new-env.js")).default,
  },
  {
    name: "new-tenant",
    usage: "fleet new-tenant <name> --url URL [--env e1,e2] ...",
    summary: "onboard a tenant into tenants/base/<name>/ and every environment overlay",
    load: async () => (await import("../../generators/new-tenant.js")).default,
  },
  {
    name: "new-cluster",
    usage: "fleet new-cluster <name> --env ENV [--var key=value ...] [--bootstrap flux|terraform|operator|none]",
    summary: "add clusters/<name>/ with the multi-tenancy lockdown and cluster variables; bootstrap it",
    load: async () => (await import("../../generators/new-cluster.js")).default,
  },
  {
    name: "bootstrap",
    usage: "fleet bootstrap <cluster>",
    summary: "run the pinned bootstrap of an existing cluster again",
    load: async () => (await import("../../generators/bootstrap.js")).default,
  },
  {
    name: "remove-tenant",
    usage: "fleet remove-tenant <name>",
    summary: "offboard a tenant: the exact reverse of new-tenant",
    load: async () => (await import("../../generators/remove-tenant.js")).default,
  },
  {
    name: "migrate-layout",
    usage: "fleet migrate-layout [--env E] [--prepare]",
    summary: "move a flat repo's tenants into per-tenant units, proven to apply the same objects (--prepare first: see the README)",
    load: async () => (await import("../../generators/migrate-layout.js")).default,
  },
  {
    name: "lockdown",
    usage: "fleet lockdown [--plan] [--stage all|platform|flags] [--cluster NAME] [--source NS/NAME=DIR]",
    summary: "retrofit the multi-tenancy lockdown onto a Flux repo: plan it offline (--plan), then write it as one proven change",
    load: async () => (await import("../../generators/lockdown.js")).default,
  },
  {
    name: "add-image-automation",
    usage: 'fleet add-image-automation --tenant T --image REPO --semver ">=1.4.0 <2.0.0"',
    summary: "automate image updates for a tenant (or --platform) through a pull-request branch",
    load: async () => (await import("../../generators/add-image-automation.js")).default,
  },
  {
    name: "validate",
    usage: "fleet validate [--cluster NAME] [--json | --format text|markdown] [--source NS/NAME=DIR] [--explain-access NS/SA] [--timeout DURATION]",
    summary: "build every cluster offline, check the invariants and prove tenant isolation",
    run: async () => (await import("./validate.js")).runValidate,
    options: async () => (await import("./validate.js")).OPTIONS,
  },
  {
    name: "graph",
    usage: "fleet graph [--cluster NAME] [--format mermaid|dot]",
    summary: "draw each cluster's reconciliation graph (Kustomizations, dependsOn, tenant units, sources, identities)",
    run: async () => (await import("./graph.js")).runGraph,
    options: async () => (await import("./graph.js")).OPTIONS,
  },
  {
    name: "upgrade",
    usage: "fleet upgrade --flux-version vX.Y.Z [--allow-downgrade]",
    summary: "move the Flux pin, Terraform pins, FluxInstance versions and Flux API versions in one change; list behaviour changes and drift",
    load: async () => (await import("../../generators/upgrade.js")).default,
  },
  {
    name: "list",
    usage: "fleet list [--json]",
    summary: "list tenants, environments and clusters, and which tenant runs where (read from the tree)",
    run: async () => (await import("./list.js")).runList,
    options: async () => (await import("./list.js")).OPTIONS,
  },
  {
    name: "completion",
    usage: "fleet completion bash|zsh|fish",
    summary: "print the completion script for bash, zsh or fish (fleet completion --help says where it goes)",
    run: async () => (await import("./completion.js")).runCompletion,
    options: async () => ({ help: { type: "boolean", short: "h" } }),
  },
];

export const COMMON_FLAGS = [
  ["--repo DIR", "the fleet repo (default: the nearest directory above holding fleet.yaml)"],
  ["--dry-run", "show what would be written (a line per file and a unified diff); write nothing"],
  ["--yes", "ask nothing: every answer comes from flags or defaults"],
  ["--force", "overwrite files that differ from what fleet would write"],
  ["--no-verify", "write without the proof (building the touched overlays before and after); warns"],
  ["--timeout DURATION", "bound each kubectl kustomize of the proof (90s, 5m; default 5m)"],
  ["--json", "print the result as JSON"],
  ["--help", "show help"],
] as const;

/** The flags of a generator command: the common ones and one per answer (node's parseArgs table). */
export function generatorOptions(gen: Generator): Options {
  const options: Options = {
    repo: { type: "string" },
    "dry-run": { type: "boolean" },
    yes: { type: "boolean", short: "y" },
    force: { type: "boolean" },
    "no-verify": { type: "boolean" },
    timeout: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  };
  for (const a of gen.answers) {
    if (a.positional) continue;
    options[flagOf(a)] = a.type === "confirm" ? { type: "boolean" } : { type: "string", multiple: a.multiple === true };
  }
  return options;
}

/** Other spellings of fleet's own answers: `fleet version` is `fleet --version`. */
export const ALIASES: ReadonlyMap<string, "--help" | "--version"> = new Map([
  ["help", "--help"],
  ["-h", "--help"],
  ["version", "--version"],
  ["-v", "--version"],
] as const);

/**
 * Words people type at a CLI out of habit, and what fleet answers instead. Reserved like the
 * command names: a team generator called `version`, `status` or `lint` would otherwise run the
 * repo's code where a person expected fleet itself to answer.
 */
export const RESERVED_WORDS: ReadonlyMap<string, string> = new Map([
  ["completions", "fleet completion bash|zsh|fish prints the completion script"],
  ["status", "fleet list shows tenants, environments and clusters; fleet validate checks them"],
  ["lint", "fleet validate checks the repo"],
  ["check", "fleet validate checks the repo"],
  ["verify", "fleet validate checks the repo"],
  ["doctor", "fleet validate checks the repo"],
  ["test", "fleet validate checks the repo"],
  ["ls", "fleet list"],
  ["show", "fleet list"],
  ["get", "fleet list"],
  ["add", "fleet new-tenant, new-env, new-cluster or add-image-automation"],
  ["new", "fleet new-tenant, new-env, new-cluster or add-image-automation"],
  ["create", "fleet new-tenant, new-env, new-cluster or add-image-automation"],
  ["generate", "fleet new-tenant, new-env, new-cluster or add-image-automation"],
  ["rm", "fleet remove-tenant"],
  ["remove", "fleet remove-tenant"],
  ["delete", "fleet remove-tenant"],
  ["update", "fleet upgrade --flux-version vX.Y.Z moves the Flux pin; update fleet itself with npm"],
  ["self-update", "update fleet itself with npm"],
  ["install", "fleet new-cluster --bootstrap, or fleet bootstrap <cluster>"],
  ["config", "the settings are in fleet.yaml; edit it, then run fleet validate"],
  ["run", "fleet <team generator> runs a team generator; fleet --help lists them"],
]);

/**
 * Every name a team generator cannot take, with the rule it would break ("a team generator
 * cannot ..."): fleet's commands, their aliases and the words above. `fleet <name>` never runs
 * repo code for any of them.
 */
export function reservedNames(): ReadonlyMap<string, string> {
  const out = new Map<string, string>();
  for (const c of COMMANDS) out.set(c.name, `shadow the built-in command '${c.name}'`);
  for (const [word, does] of ALIASES) if (!word.startsWith("-")) out.set(word, `be named '${word}': fleet ${word} is fleet ${does}`);
  for (const [word, hint] of RESERVED_WORDS) out.set(word, `be named '${word}': fleet reserves it (${hint})`);
  return out;
}
