/**
 * A cluster graph as a Mermaid flowchart, the diagram GitHub and GitLab render in a pull request.
 * Node and group ids are fleet's own (n0, g0): only labels come from the repository, always
 * quoted, with every character Mermaid reads inside a quoted label written as its entity code.
 *
 * Mermaid draws at most 500 edges and 50,000 characters (its maxEdges and maxTextSize defaults,
 * which GitHub keeps): a diagram past either shows an error instead. So the diagram is drawn in
 * full when it fits, else with names only (sources and identities are in --format dot), else
 * with each group of tenant units as one node that counts them.
 */
import { printable } from "../core/text.js";
import type { ClusterGraph, GraphNode } from "./graph.js";

export const MERMAID_MAX_TEXT = 50_000;
export const MERMAID_MAX_EDGES = 500;

/** Characters Mermaid reads inside a quoted label (quote, entity start, HTML, markdown string), as entity codes. */
const ENTITIES: Record<string, string> = { '"': "#quot;", "#": "#35;", "&": "#amp;", "<": "#lt;", ">": "#gt;", "`": "#96;" };
const label = (lines: string[]) => `"${lines.map((l) => printable(l).replace(/["#&<>`]/g, (c) => ENTITIES[c]!)).join("<br/>")}"`;

const SHAPES: Record<GraphNode["shape"], [string, string]> = {
  root: ["([", "])"],
  platform: ["[", "]"],
  tenant: ["(", ")"],
  missing: ["{{", "}}"],
};

/** Units per column of a group. */
const COLUMN = 50;

export type Detail = "full" | "names" | "counts";
const DETAILS: Detail[] = ["full", "names", "counts"];

const ARROWS = { applies: "-->", dependsOn: "-.->|dependsOn|" } as const;

function draw(g: ClusterGraph, detail: Detail): { text: string; edges: number } {
  const out = ["flowchart LR", `  %% fleet graph: cluster ${printable(g.cluster).replace(/%/g, "")}`];
  // Counted: a group is one node standing for its members.
  const standIn = new Map<string, string>();
  if (detail === "counts") for (const grp of g.groups) for (const m of grp.members) standIn.set(m, grp.id);
  const node = (n: GraphNode, indent: string) => {
    const [open, close] = SHAPES[n.shape];
    out.push(`${indent}${n.id}${open}${label(detail === "full" ? n.lines : [n.short])}${close}`);
  };
  for (const n of g.nodes) if (!n.group) node(n, "  ");
  const members = new Map(g.groups.map((grp) => [grp.id, [] as GraphNode[]]));
  for (const n of g.nodes) if (n.group) members.get(n.group)!.push(n);
  for (const grp of g.groups) {
    if (detail === "counts") {
      out.push(`  ${grp.id}(${label([grp.title])})`);
      continue;
    }
    const note = detail === "names" ? ["sources and identities: fleet graph --format dot"] : [];
    out.push(`  subgraph ${grp.id}[${label([grp.title, ...note])}]`);
    // Members have no edges of their own, so Mermaid lays a group out in one rank: a row 200 km
    // wide for a thousand units. Columns of COLUMN units side by side keep it about twice as wide as tall.
    const list = members.get(grp.id)!;
    if (list.length <= COLUMN) {
      out.push("    direction LR");
      for (const n of list) node(n, "    ");
    } else {
      out.push("    direction TB");
      for (let i = 0; i < list.length; i += COLUMN) {
        out.push(`    subgraph ${grp.id}c${i / COLUMN}[" "]`, "      direction LR");
        for (const n of list.slice(i, i + COLUMN)) node(n, "      ");
        out.push("    end");
      }
    }
    out.push("  end");
  }
  const seen = new Set<string>();
  for (const e of g.edges) {
    const from = standIn.get(e.from) ?? e.from;
    const to = standIn.get(e.to) ?? e.to;
    const line = `  ${from} ${ARROWS[e.kind]} ${to}`;
    if (from !== to && !seen.has(line)) seen.add(line);
  }
  out.push(...seen);
  return { text: out.join("\n"), edges: seen.size };
}

/** The diagram at the most detail Mermaid will still render. */
export function mermaid(g: ClusterGraph): string {
  let drawn = draw(g, "full");
  for (const detail of DETAILS.slice(1)) {
    if (drawn.text.length <= MERMAID_MAX_TEXT && drawn.edges <= MERMAID_MAX_EDGES) break;
    drawn = draw(g, detail);
  }
  return drawn.text;
}
