/**
 * `fleet graph [--cluster C] [--format mermaid|dot]`: the reconciliation graph of each cluster.
 * Read-only, like list and validate: it builds what validate builds and writes nothing.
 */
import { parseArgs } from "node:util";
import { EXIT, InputError, ToolError } from "../core/errors.js";
import { validateRoot } from "../model/root.js";
import { printable } from "../core/text.js";
import type { Options } from "./commands.js";
import type { Io } from "./output.js";
import { badArguments } from "./suggest.js";
import { sourcesFrom } from "./validate.js";
import { refuseUnusedSources } from "../validate/source-flags.js";

const FORMATS = ["mermaid", "dot"] as const;

const USAGE = `fleet graph [--cluster NAME] [--format mermaid|dot] [--source NAMESPACE/NAME=DIR ...] [--repo DIR]

Draw what each cluster reconciles, as fleet validate walks it offline: the cluster's entry
Kustomizations, what each applies, their dependsOn edges, and the tenants' units, each with the
tenant's source and the identity it acts as. Writes nothing.

Options:
  --cluster NAME     one cluster (default: every cluster, one diagram each)
  --format FORMAT    mermaid (default) or dot
                     mermaid: with --cluster, the diagram alone (a .mmd file); without it, each
                     cluster under a Markdown heading in a \`\`\`mermaid block, which GitHub and
                     GitLab render. A diagram past Mermaid's limits (500 edges, 50,000
                     characters) names tenant units without their sources and identities, or
                     counts them; --format dot always shows everything.
                     dot: one digraph per cluster, for Graphviz (dot -Tsvg -O graph.dot)
  --source NS/NAME=DIR  read a source that is not this repository from a directory
  --repo DIR         the repository (default: the nearest directory above holding fleet.yaml or clusters/)
  --help             show help

Exit codes: 0 drawn, 2 bad input or no such cluster, 3 kubectl is missing.`;

export const OPTIONS = {
  cluster: { type: "string" },
  format: { type: "string" },
  source: { type: "string", multiple: true },
  repo: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

export async function runGraph(args: string[], p: Io): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: OPTIONS, strict: true }));
  } catch (e) {
    throw badArguments(e, "graph", Object.keys(OPTIONS));
  }
  if (values.help) {
    p.out(USAGE);
    return EXIT.ok;
  }
  const format = values.format ?? "mermaid";
  if (!(FORMATS as readonly string[]).includes(format)) throw new InputError("--format", `'${printable(format)}' is not a graph format`, `use one of: ${FORMATS.join(", ")}`);
  const root = validateRoot(values.repo, p.cwd);
  const sources = sourcesFrom(values.source, p.cwd);
  const { refuseHalfApplied } = await import("../changeset/recover.js");
  refuseHalfApplied(root, "graph");
  const { readGraphs } = await import("../graph/read.js");
  const { NoClusters } = await import("../validate/index.js");
  const { KubectlMissing } = await import("../validate/build.js");
  let graphs;
  try {
    graphs = await readGraphs({ root, sources, ...(values.cluster ? { cluster: values.cluster } : {}) });
  } catch (e) {
    if (e instanceof KubectlMissing) throw new ToolError(`graph could not run: ${printable(e.message)}\n  fix: install kubectl (it builds with its embedded kustomize)`);
    if (e instanceof NoClusters) throw new InputError("--cluster", printable(e.message));
    throw e;
  }
  refuseUnusedSources(sources, "that content is not drawn");
  const { mermaid } = await import("../graph/mermaid.js");
  const { dot } = await import("../graph/dot.js");
  if (format === "dot") p.out(graphs.map(dot).join("\n\n"));
  else if (values.cluster) p.out(mermaid(graphs[0]!));
  else p.out(graphs.map((g) => `### cluster ${g.cluster.replace(/[\\`*_[\]<>|~&#]/g, "\\$&")}\n\n\`\`\`mermaid\n${mermaid(g)}\n\`\`\``).join("\n\n"));
  // What is missing from a picture is said beside it, never inside it.
  for (const g of graphs) for (const m of g.missing) p.err(`fleet graph: cluster ${printable(g.cluster)}: not drawn: ${printable(m)}; fleet validate says why`);
  return EXIT.ok;
}
