/**
 * The command table. `fleet --help` prints it without loading any generator, template or prompt
 * code; a command's module is imported only when that command runs.
 */
import type { Generator } from "../core/generator.js";

export interface Command {
  name: string;
  usage: string;
  summary: string;
  load: () => Promise<Generator>;
}

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
    usage: "fleet new-tenant <name> --url URL [--team @org/team] [--env e1,e2] ...",
    summary: "onboard a tenant into tenants/base/<name>/ and every environment overlay",
    load: async () => (await import("../../generators/new-tenant.js")).default,
  },
  {
    name: "remove-tenant",
    usage: "fleet remove-tenant <name>",
    summary: "offboard a tenant: the exact reverse of new-tenant",
    load: async () => (await import("../../generators/remove-tenant.js")).default,
  },
];

export const COMMON_FLAGS = [
  ["--repo DIR", "the fleet repo (default: the nearest directory above holding fleet.yaml)"],
  ["--dry-run", "show what would be written (a line per file and a unified diff); write nothing"],
  ["--yes", "ask nothing: every answer comes from flags or defaults"],
  ["--force", "overwrite files that differ from what fleet would write"],
  ["--json", "print the result as JSON"],
  ["--help", "show help"],
] as const;
