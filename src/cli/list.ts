/**
 * `fleet list [--json]`: tenants, environments and clusters, and which tenant runs where, read
 * from the tree. Read-only: no change set applied, and the lock only to finish or undo what an
 * interrupted run left half done.
 */
import { parseArgs } from "node:util";
import { ChangeSet } from "../changeset/changeset.js";
import { recoverFirst } from "../changeset/recover.js";
import { locateRepo } from "../core/context.js";
import { EXIT } from "../core/errors.js";
import { readInventory, type Inventory } from "../core/inventory.js";
import { printable } from "../core/text.js";
import { refText } from "../flux/git-ref.js";
import type { Options } from "./commands.js";
import type { Io } from "./output.js";
import { badArguments } from "./suggest.js";

const USAGE = [
  "fleet list [--json] [--repo DIR]",
  "",
  "Tenants, environments and clusters of the fleet repo, and which tenant runs where, read from the tree:",
  "a tenant runs in an environment when tenants/<env>/kustomization.yaml lists ../base/<tenant>,",
  "and on a cluster when the cluster's tenants Kustomization points at that environment.",
  "",
  "Options:",
  "  --repo DIR  the fleet repo (default: the nearest directory above holding fleet.yaml)",
  "  --json      print it as JSON",
  "  --help      show help",
].join("\n");

/** Rows as aligned columns under a header, two spaces apart. */
function table(header: string[], rawRows: string[][]): string[] {
  // Every cell is a name read from the tree: printed escaped.
  const rows = rawRows.map((r) => r.map(printable));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join("  ")}`.trimEnd();
  return [line(header), ...rows.map(line)];
}

const names = (list: string[]) => (list.length > 0 ? list.join(",") : "-");

export function formatInventory(inv: Inventory): string {
  const out: string[] = [];
  out.push(`Tenants (${inv.tenants.length}):`);
  if (inv.tenants.length > 0)
    out.push(...table(["TENANT", "NAMESPACE", "REF", "ENVIRONMENTS", "CLUSTERS"], inv.tenants.map((t) => [t.name, t.namespace, refText(t.ref) || "-", names(t.environments), names(t.clusters)])));
  out.push("", `Environments (${inv.environments.length}):`);
  if (inv.environments.length > 0)
    out.push(...table(["ENVIRONMENT", "TENANTS", "CLUSTERS"], inv.environments.map((e) => [e.name, names(e.tenants), names(e.clusters)])));
  out.push("", `Clusters (${inv.clusters.length}):`);
  if (inv.clusters.length > 0)
    out.push(...table(["CLUSTER", "ENVIRONMENT", "TENANTS"], inv.clusters.map((c) => [c.name, c.environment || "-", names(c.tenants)])));
  for (const problem of inv.problems) out.push(`warning: ${printable(problem)}`);
  return out.join("\n");
}

export const OPTIONS = { repo: { type: "string" }, json: { type: "boolean" }, help: { type: "boolean", short: "h" } } as const satisfies Options;

export async function runList(args: string[], p: Io): Promise<number> {
  let values: { repo?: string; json?: boolean; help?: boolean };
  try {
    values = parseArgs({ args, options: OPTIONS, allowPositionals: false, strict: true }).values;
  } catch (e) {
    throw badArguments(e, "list", Object.keys(OPTIONS));
  }
  if (values.help) {
    p.out(USAGE);
    return EXIT.ok;
  }
  const root = locateRepo(values.repo, p.cwd);
  const recovered = await recoverFirst(root, "list");
  if (recovered) p.err(recovered);
  const inv = readInventory(new ChangeSet(root));
  p.out(values.json ? JSON.stringify({ repo: root, ...inv }, null, 2) : formatInventory(inv));
  return EXIT.ok;
}
