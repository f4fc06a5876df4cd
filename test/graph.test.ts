/**
 * fleet graph and validate --format markdown: pictures and summaries a person reads in a pull
 * request. The diagrams are read back by the real parsers of what renders them: Mermaid's own
 * (mermaid; its sanitiser, DOMPurify, needs a DOM, so it is loaded with a jsdom window) and
 * Graphviz's (compiled to WASM).
 */
import { Graphviz } from "@hpcc-js/wasm-graphviz";
import { JSDOM } from "jsdom";
import { beforeAll, describe, expect, it } from "vitest";
import { clusterGraph } from "../src/graph/graph.js";
import { MERMAID_MAX_EDGES, MERMAID_MAX_TEXT, mermaid as toMermaid } from "../src/graph/mermaid.js";
import type { Applied } from "../src/validate/model.js";
import type { Walked } from "../src/validate/discover.js";
import { readTenancy } from "../src/validate/tenancy.js";
import { bootstrapStandIn, fleet, initRepo, read, write } from "./helpers.js";

/** A name no Kubernetes API server would take, but a repository can hold: every character a diagram or a table reads. */
const ODD = 'odd"name]<b>#35;|`x`&amp;';

/**
 * Two tenants on prod-eu, bootstrapped, plus a Kustomization with an odd name and a dependsOn on
 * nothing; staging-eu not bootstrapped yet.
 */
async function repoWithOddName(): Promise<string> {
  const repo = await initRepo();
  expect((await fleet(["new-cluster", "prod-eu", "--env", "prod", "--yes"], { cwd: repo })).code).toBe(0);
  expect((await fleet(["new-cluster", "staging-eu", "--env", "staging", "--yes"], { cwd: repo })).code).toBe(0);
  bootstrapStandIn(repo, "prod-eu");
  write(
    repo,
    "clusters/prod-eu/odd.yaml",
    `apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: '${ODD}'\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./infrastructure/prod\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n  dependsOn:\n    - name: not-there\n`,
  );
  write(repo, "clusters/prod-eu/kustomization.yaml", `${read(repo, "clusters/prod-eu/kustomization.yaml")}  - odd.yaml\n`);
  return repo;
}

const KUSTOMIZATIONS = [
  "flux-system/flux-system",
  "flux-system/infrastructure",
  "flux-system/tenants",
  "flux-system/tenant-team-payments",
  "team-payments/team-payments",
  "flux-system/tenant-team-search",
  "team-search/team-search",
  `flux-system/${ODD}`,
];

// DOMPurify takes the window it finds when it loads; the worker's globals stay Node's for fleet's own code.
const { window } = new JSDOM("");
const mermaid = await (async () => {
  (globalThis as { window?: unknown }).window = window;
  try {
    return (await import("mermaid")).default;
  } finally {
    delete (globalThis as { window?: unknown }).window;
  }
})();

/** Text with its HTML entities decoded, as a browser (or Graphviz, in any label) shows it. */
function decoded(html: string): string {
  const el = window.document.createElement("textarea");
  el.innerHTML = html;
  return el.value;
}

/** A Mermaid label as a browser shows it: Mermaid's entity placeholders back to entities, then decoded. */
const shown = (text: string) => decoded(text.replace(/ﬂ°°(\d+)¶ß/g, "&#$1;").replace(/ﬂ°(\w+)¶ß/g, "&$1;"));

interface Parsed {
  labels: string[];
  subgraphs: string[];
  edges: Array<{ start: string; end: string; text: string }>;
  ids: Map<string, string>;
}

/** Parse with Mermaid itself (it throws on a syntax error or past its edge limit) and read back the flowchart. */
async function parseMermaid(text: string): Promise<Parsed> {
  expect(await mermaid.parse(text)).toMatchObject({ diagramType: "flowchart-v2" });
  const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
  const db = diagram.db as unknown as {
    getVertices(): Map<string, { id: string; text: string }>;
    getSubGraphs(): Array<{ id: string; title: string; nodes: string[] }>;
    getEdges(): Array<{ start: string; end: string; text: string }>;
  };
  const vertices = [...db.getVertices().values()];
  return {
    labels: vertices.map((v) => shown(v.text)),
    subgraphs: db.getSubGraphs().map((s) => shown(s.title)),
    edges: db.getEdges(),
    ids: new Map(vertices.map((v) => [v.id, shown(v.text)])),
  };
}

let repo: string;
beforeAll(async () => {
  repo = await repoWithOddName();
});

describe("fleet graph", () => {
  it("prints a Mermaid flowchart that Mermaid parses, naming every Kustomization of the cluster, its dependsOn edges and each tenant's source and identity", async () => {
    const r = await fleet(["graph", "--cluster", "prod-eu"], { cwd: repo });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const g = await parseMermaid(r.stdout);
    const lines = g.labels.flatMap((l) => l.split("<br>"));
    for (const k of KUSTOMIZATIONS) expect(lines).toContain(`Kustomization ${k}`);
    // Each tenant's unit carries the tenant's identity and source.
    const payments = g.labels.find((l) => l.includes("team-payments/team-payments"))!;
    expect(payments).toContain("as team-payments:reconciler");
    expect(payments).toContain("from https://github.com/acme/team-payments-config @ branch main");
    // Units are grouped, and their shared dependsOn drawn once from the group.
    expect(g.subgraphs).toEqual(["2 tenant units applied by Kustomization flux-system/tenants"]);
    const id = (k: string) => [...g.ids].find(([, label]) => label.split("<br>")[0] === `Kustomization ${k}`)![0];
    expect(g.edges).toContainEqual(expect.objectContaining({ start: id("flux-system/tenants"), end: id("flux-system/infrastructure"), text: "dependsOn" }));
    expect(g.edges).toContainEqual(expect.objectContaining({ start: "g0", end: id("flux-system/infrastructure"), text: "dependsOn" }));
    // A dependsOn on nothing is drawn, and said.
    const missing = g.labels.find((l) => l.startsWith("Kustomization flux-system/not-there"))!;
    expect(missing).toContain("not found");
    expect(g.edges).toContainEqual(expect.objectContaining({ start: id(`flux-system/${ODD}`), end: [...g.ids].find(([, l]) => l === missing)![0] }));
  });

  it("prints DOT that Graphviz lays out, with the same Kustomizations; without --cluster, one digraph per cluster", async () => {
    const r = await fleet(["graph", "--format", "dot"], { cwd: repo });
    expect(r.code).toBe(0);
    const digraphs = r.stdout.split(/\n(?=digraph )/);
    expect(digraphs.map((d) => d.split("\n")[0])).toEqual(['digraph "cluster prod-eu" {', 'digraph "cluster staging-eu" {']);
    const graphviz = await Graphviz.load();
    // layout throws on a syntax error, as dot does.
    const [prod, staging] = digraphs.map((d) => JSON.parse(graphviz.layout(d, "json")) as { objects: Array<{ name: string; label?: string }> });
    expect(staging!.objects.find((o) => o.name === "n0")!.label).toBe("cluster staging-eu\\npath clusters/staging-eu");
    const laid = prod!;
    // A label as Graphviz draws it: \n breaks the line, \\ is a backslash, entities are decoded.
    const lines = laid.objects.flatMap((o) => decoded((o.label ?? "").replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c))).split("\n"));
    for (const k of KUSTOMIZATIONS) expect(lines).toContain(`Kustomization ${k}`);
    expect(laid.objects.map((o) => o.name)).toContain("cluster_g0");
  });

  it("without --cluster, prints each cluster under a Markdown heading in a mermaid block, as GitHub renders them", async () => {
    const r = await fleet(["graph"], { cwd: repo });
    expect(r.code).toBe(0);
    const blocks = [...r.stdout.matchAll(/^### cluster (\S+)\n\n```mermaid\n([\s\S]*?)\n```$/gm)];
    expect(blocks.map((b) => b[1])).toEqual(["prod-eu", "staging-eu"]);
    for (const b of blocks) await parseMermaid(b[2]!);
  });

  it("refuses an unknown format and an unknown cluster (exit 2, naming them)", async () => {
    const bad = await fleet(["graph", "--format", "svg"], { cwd: repo });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--format: 'svg' is not a graph format[\s\S]*mermaid, dot/);
    const none = await fleet(["graph", "--cluster", "nope"], { cwd: repo });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no cluster 'nope'.*prod-eu/);
  });
});

describe("a tenant whose unit applies Kustomizations that depend on each other (d1-fleet's infra tenant)", () => {
  it("draws no dependsOn from the unit, or from its group, to itself; another unit's dependsOn on it stays", () => {
    const ks = (ns: string, name: string, spec: Record<string, unknown>, appliedBy: string): Applied => ({
      obj: { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", metadata: { name, namespace: ns }, spec: { prune: true, ...spec } },
      file: "x.yaml",
      appliedBy,
    });
    const platform = { serviceAccountName: "kustomize-controller", sourceRef: { kind: "GitRepository", name: "flux-system" } };
    const infra = { serviceAccountName: "flux-infra", sourceRef: { kind: "GitRepository", name: "infra" } };
    const objects: Applied[] = [
      ks("flux-system", "infra-tenant", { ...platform, path: "./tenants/infra" }, ""),
      ks("flux-system", "apps-tenant", { ...platform, path: "./tenants/apps", dependsOn: [{ name: "infra-tenant" }] }, ""),
      ks("flux-system", "controllers", { ...infra, path: "./controllers" }, "Kustomization/flux-system/infra-tenant"),
      ks("flux-system", "configs", { ...infra, path: "./configs", dependsOn: [{ name: "controllers" }] }, "Kustomization/flux-system/infra-tenant"),
      {
        obj: { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: { name: "infra", namespace: "flux-system" }, spec: { url: "https://github.com/acme/infra" } },
        file: "x.yaml",
        appliedBy: "Kustomization/flux-system/infra-tenant",
      },
    ];
    const fromRepo = new Set(["Kustomization/flux-system/infra-tenant", "Kustomization/flux-system/apps-tenant"]);
    const walked = { objects, fromRepo } as Walked;
    const tenancy = readTenancy(objects, { from: "test", namespace: "flux-system", flags: {} }, [], fromRepo);
    const graph = clusterGraph({ cluster: { name: "c", path: "clusters/c", syncFile: "", components: [], via: "bootstrap" }, walked, tenancy });
    const nodeOf = (name: string) => graph.nodes.find((n) => n.lines.includes(`Kustomization flux-system/${name}`))!;
    const unit = nodeOf("infra-tenant");
    const dependsOn = graph.edges.filter((e) => e.kind === "dependsOn");
    expect(dependsOn.filter((e) => e.to === unit.id).map((e) => e.from)).toEqual([nodeOf("apps-tenant").id]);
    expect(dependsOn.filter((e) => e.from === unit.id || e.from === unit.group)).toEqual([]);
  });
});

describe("a 1,000-tenant cluster", () => {
  it("still renders: every unit in one group, within Mermaid's edge and size limits", async () => {
    const ks = (ns: string, name: string, spec: Record<string, unknown>, appliedBy: string, labels?: Record<string, string>): Applied => ({
      obj: { apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", metadata: { name, namespace: ns, ...(labels ? { labels } : {}) }, spec: { prune: true, ...spec } },
      file: "x.yaml",
      appliedBy,
    });
    const platform = { serviceAccountName: "kustomize-controller", sourceRef: { kind: "GitRepository", name: "flux-system" } };
    const objects: Applied[] = [
      ks("flux-system", "infrastructure", { ...platform, path: "./infrastructure/prod" }, ""),
      ks("flux-system", "tenants", { ...platform, path: "./tenants/prod", dependsOn: [{ name: "infrastructure" }] }, ""),
    ];
    const fromRepo = new Set(["Kustomization/flux-system/infrastructure", "Kustomization/flux-system/tenants"]);
    for (let i = 0; i < 1000; i++) {
      const t = `team-${String(i).padStart(4, "0")}`;
      objects.push(ks("flux-system", `tenant-${t}`, { ...platform, path: `./tenants/prod/${t}`, dependsOn: [{ name: "infrastructure" }] }, "Kustomization/flux-system/tenants", { "toolkit.fluxcd.io/tenant": t }));
      fromRepo.add(`Kustomization/flux-system/tenant-${t}`);
      objects.push({
        obj: { apiVersion: "source.toolkit.fluxcd.io/v1", kind: "GitRepository", metadata: { name: t, namespace: t }, spec: { url: `https://github.com/acme/${t}`, ref: { branch: "main" } } },
        file: "x.yaml",
        appliedBy: `Kustomization/flux-system/tenant-${t}`,
      });
      objects.push(ks(t, t, { serviceAccountName: "reconciler", targetNamespace: t, path: "./deploy", sourceRef: { kind: "GitRepository", name: t } }, `Kustomization/flux-system/tenant-${t}`));
    }
    const walked = { objects, fromRepo } as Walked;
    const tenancy = readTenancy(objects, { from: "test", namespace: "flux-system", flags: {} }, [], fromRepo);
    const graph = clusterGraph({ cluster: { name: "big", path: "clusters/big", syncFile: "", components: [], via: "bootstrap" }, walked, tenancy });
    expect(graph.groups.map((g) => g.members.length)).toEqual([1000]);
    const text = toMermaid(graph);
    expect(text.length).toBeLessThanOrEqual(MERMAID_MAX_TEXT);
    const parsed = await parseMermaid(text);
    expect(parsed.edges.length).toBeLessThanOrEqual(MERMAID_MAX_EDGES);
    expect(parsed.labels).toContain("tenant-team-0999");
    // Laid out as 20 columns of 50 side by side, not one row 200,000 pixels wide.
    expect(parsed.subgraphs).toHaveLength(21);
    expect(parsed.subgraphs).toContain("1000 tenant units applied by Kustomization flux-system/tenants<br>sources and identities: fleet graph --format dot");
  });
});

describe("fleet validate --format markdown", () => {
  it("writes the result, the findings by severity in a table whose cells hold the repo's text escaped, the isolation table and what was not checked", async () => {
    const r = await fleet(["validate", "--format", "markdown", "--cluster", "prod-eu"], { cwd: repo });
    expect(r.code).toBe(1);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe("## fleet validate: failed");
    expect(lines).toContain("#### Errors (2)");
    // Every row of a table has as many cells as its header: no name from the repo adds a border.
    const cellsOf = (l: string) => l.replace(/\\\|/g, "").split("|").length;
    const rows = lines.filter((l) => l.startsWith("| "));
    const header = rows.find((l) => l.startsWith("| check |"))!;
    for (const row of rows.filter((l) => l.includes("`platform-service-account`") || l.includes("`depends-on-missing`"))) expect(cellsOf(row)).toBe(cellsOf(header));
    const odd = rows.find((l) => l.includes("`platform-service-account`"))!;
    expect(odd).toContain("Kustomization/flux-system/odd\\\"name\\]\\<b\\>\\#35;\\|\\`x\\`\\&amp;".replace(/\\"/g, '"'));
    expect(r.stdout).toContain("| system:serviceaccount:team-payments:reconciler | no | none |");
    expect(r.stdout).toMatch(/<details><summary>Not checked \(\d+\)<\/summary>/);
    // --json is as it was, and cannot be mixed with a format.
    expect((await fleet(["validate", "--json", "--format", "markdown"], { cwd: repo })).code).toBe(2);
  });
});
