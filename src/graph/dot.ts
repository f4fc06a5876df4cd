/**
 * A cluster graph in Graphviz's DOT, with every detail (DOT has no size limit). Ids are fleet's
 * own; labels are quoted strings with backslash and quote escaped, so a name from the repository
 * can neither end the string nor become one of DOT's escapes (\N, \G, \l), and & written as
 * &amp;, since Graphviz decodes HTML entities in every label (`&amp;` in a name would show as `&`).
 */
import { printable } from "../core/text.js";
import type { ClusterGraph, GraphNode } from "./graph.js";

const ESCAPES: Record<string, string> = { "\\": "\\\\", '"': '\\"', "&": "&amp;" };
const escape = (s: string) => printable(s).replace(/[\\"&]/g, (c) => ESCAPES[c]!);
const quote = (s: string) => `"${escape(s)}"`;
const label = (lines: string[]) => `"${lines.map(escape).join("\\n")}"`;

const SHAPES: Record<GraphNode["shape"], string> = {
  root: "shape=doubleoctagon",
  platform: "shape=box",
  tenant: 'shape=box, style="rounded,filled", fillcolor="#eef2ff"',
  missing: 'shape=box, style=dashed, color="#b91c1c"',
};

export function dot(g: ClusterGraph): string {
  const out = [
    `digraph ${quote(`cluster ${g.cluster}`)} {`,
    "  rankdir=LR;",
    "  compound=true;",
    '  graph [fontname="Helvetica", fontsize=11];',
    '  node [fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  const node = (n: GraphNode, indent: string) => out.push(`${indent}${n.id} [label=${label(n.lines)}, ${SHAPES[n.shape]}];`);
  for (const n of g.nodes) if (!n.group) node(n, "  ");
  const first = new Map<string, string>();
  for (const grp of g.groups) {
    out.push(`  subgraph cluster_${grp.id} {`, `    label=${label([grp.title])};`, '    style="rounded,dashed";');
    for (const n of g.nodes) if (n.group === grp.id) node(n, "    ");
    out.push("  }");
    first.set(grp.id, grp.members[0]!);
  }
  // An edge to or from a group is drawn to its first member, clipped at the group's border.
  for (const e of g.edges) {
    const attrs = [
      ...(first.has(e.from) ? [`ltail=cluster_${e.from}`] : []),
      ...(first.has(e.to) ? [`lhead=cluster_${e.to}`] : []),
      ...(e.kind === "dependsOn" ? ["style=dashed", 'label="dependsOn"'] : []),
    ];
    out.push(`  ${first.get(e.from) ?? e.from} -> ${first.get(e.to) ?? e.to}${attrs.length ? ` [${attrs.join(", ")}]` : ""};`);
  }
  out.push("}");
  return out.join("\n");
}
