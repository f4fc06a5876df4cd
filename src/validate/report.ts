/**
 * The report: readable text grouped by cluster with counts, or JSON for CI. Every string that
 * came from the repository or a build is printed through printable(): a name or a message
 * cannot drive the terminal or hide what a line says.
 */
import { printable as p } from "../core/text.js";
import type { ValidatedCluster as Result } from "./index.js";
import type { ClusterResult } from "./model.js";

/** What `kubectl auth can-i` would answer for each tenant reconciler: the two isolation questions. */
export function isolation(r: Result) {
  const namespaces = r.tenantNamespaces;
  return r.tenants.map(({ id, at, controller }) =>
    id
      ? {
          identity: `system:serviceaccount:${id.namespace}:${id.name}`,
          createClusterRoleBindings: r.rbac.canI(id, "create", "rbac.authorization.k8s.io", "clusterrolebindings").length > 0,
          readSecretsOf: [...r.rbac.canIIn(id, "get", "", "secrets", namespaces, id.namespace).keys()],
        }
      : // No account at all: it acts as the controller, which can do anything anywhere.
        {
          identity: `${controller} (for ${at.obj.kind}/${at.obj.metadata?.namespace ?? "default"}/${at.obj.metadata?.name})`,
          createClusterRoleBindings: true,
          readSecretsOf: namespaces.filter((ns) => ns !== (at.obj.metadata?.namespace ?? "default")),
        },
  );
}

const count = (r: ClusterResult, s: string) => r.findings.filter((f) => f.severity === s).length;
const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? "" : "s"}`;

export function textReport(results: Result[]): string {
  const out: string[] = [];
  for (const r of results) {
    const title = r.target ? `cluster ${p(r.name)} -> remote cluster ${p(r.target)} (its kubeConfig)` : `cluster ${p(r.name)} (Flux ${p(r.pin)})`;
    out.push(`${title}: ${plural(r.objects.length, "object")}, ${plural(count(r, "error"), "error")}, ${plural(count(r, "warning"), "warning")}`);
    for (const f of r.findings) {
      out.push(`  ${f.severity.padEnd(7)} ${f.id}  ${p(f.object)}  (${p(f.file)})`);
      out.push(`          ${p(f.message)}`);
      out.push(`          fix: ${f.fix}`);
    }
    // One line when isolation holds for every tenant; a line per reconciler that breaks it.
    const iso = isolation(r);
    const broken = iso.filter((i) => i.createClusterRoleBindings || i.readSecretsOf.length > 0);
    if (iso.length && !broken.length)
      out.push(`  isolation: ${plural(iso.length, "tenant reconciler")}; none can create clusterrolebindings or get another tenant's secrets`);
    for (const i of broken)
      out.push(
        `  isolation BROKEN for ${p(i.identity)}: create clusterrolebindings: ${i.createClusterRoleBindings ? "yes" : "no"}; get secrets in: ${p(i.readSecretsOf.join(", ")) || "no other tenant"}`,
      );
    const shown = r.notChecked.slice(0, 5);
    for (const n of shown) out.push(`  not checked: ${p(n)}`);
    if (r.notChecked.length > shown.length) out.push(`  not checked: ${r.notChecked.length - shown.length} more (see --json)`);
    if (r.notChecked.some((n) => n.includes(" (source of ")))
      out.push("  (a source outside this repository is checked once it is mapped to a directory: --source <namespace>/<name>=<dir>)");
  }
  out.push(summary(results));
  return out.join("\n");
}

/**
 * One line for the whole run. "clean" only when nothing was found and nothing was left
 * unchecked: a run that could not look somewhere says how much it did not see.
 */
export function summary(results: Result[]): string {
  const errors = results.reduce((n, r) => n + count(r, "error"), 0);
  const warnings = results.reduce((n, r) => n + count(r, "warning"), 0);
  const unchecked = results.reduce((n, r) => n + r.notChecked.length, 0);
  const clusters = new Set(results.map((r) => r.name)).size;
  const head = `${plural(clusters, "cluster")}: ${plural(errors, "error")}, ${plural(warnings, "warning")}`;
  if (errors || warnings) return `${head}${unchecked ? `; ${unchecked} not checked` : ""}`;
  return unchecked ? `${head}; no findings in what was checked; ${unchecked} not checked` : `${head}, clean`;
}

export function jsonReport(results: Result[]): string {
  return JSON.stringify(
    {
      clusters: results.map((r) => ({
        name: r.name,
        ...(r.target ? { target: r.target } : {}),
        flux: r.pin,
        objects: r.objects.length,
        errors: count(r, "error"),
        warnings: count(r, "warning"),
        findings: r.findings,
        isolation: isolation(r),
        notChecked: r.notChecked,
      })),
      errors: results.reduce((n, r) => n + count(r, "error"), 0),
      warnings: results.reduce((n, r) => n + count(r, "warning"), 0),
      notChecked: results.reduce((n, r) => n + r.notChecked.length, 0),
      summary: summary(results),
    },
    null,
    2,
  );
}

/**
 * Text from the repository as one Markdown table cell or list item: every character that could
 * start markup (a link, an image, HTML, emphasis, a cell border) is escaped, so a name in a pull
 * request cannot draw anything in the job summary but itself.
 */
const md = (s: string) => p(s).replace(/[\\`*_[\]<>|~&!#]/g, "\\$&");
const cells = (row: string[]) => `| ${row.join(" | ")} |`;
const table = (header: string[], rows: string[][]) => [cells(header), cells(header.map(() => "---")), ...rows.map(cells)];

/**
 * The run as Markdown, for a CI job summary: a heading with the result, then per cluster the
 * findings by severity, the isolation table and what was not checked. `failed` is the exit
 * status's verdict (--strict makes warnings fail), so the heading never disagrees with the job.
 */
export function markdownReport(results: Result[], failed: boolean): string {
  const out = [`## fleet validate: ${failed ? "failed" : "passed"}`, "", md(summary(results))];
  for (const r of results) {
    const title = r.target ? `cluster ${md(r.name)} → remote cluster ${md(r.target)} (its kubeConfig)` : `cluster ${md(r.name)} (Flux ${md(r.pin)})`;
    out.push("", `### ${title}`, "", `${plural(r.objects.length, "object")}, ${plural(count(r, "error"), "error")}, ${plural(count(r, "warning"), "warning")}`);
    for (const severity of ["error", "warning"] as const) {
      const found = r.findings.filter((f) => f.severity === severity);
      if (!found.length) continue;
      out.push("", `#### ${severity === "error" ? "Errors" : "Warnings"} (${found.length})`, "");
      out.push(...table(["check", "object", "file", "finding", "fix"], found.map((f) => [`\`${f.id}\``, md(f.object), md(f.file), md(f.message), md(f.fix)])));
    }
    const iso = isolation(r);
    if (iso.length) {
      out.push("", "#### Isolation", "", "What `kubectl auth can-i` would answer for each tenant reconciler.", "");
      out.push(
        ...table(
          ["tenant reconciler", "create clusterrolebindings", "get secrets of other tenants"],
          iso.map((i) => [md(i.identity), i.createClusterRoleBindings ? "**yes**" : "no", i.readSecretsOf.length ? `**${md(i.readSecretsOf.join(", "))}**` : "none"]),
        ),
      );
    }
    if (r.notChecked.length) {
      out.push("", `<details><summary>Not checked (${r.notChecked.length})</summary>`, "");
      out.push(...r.notChecked.map((n) => `- ${md(n)}`));
      out.push("", "</details>");
    }
  }
  return out.join("\n");
}

/** `--explain-access ns/sa`: what the identity can do, and which binding grants it. */
/** What one identity can do on each cluster, and through which bindings: --explain-access's data. */
export function accessOf(results: Result[], ns: string, sa: string) {
  const id = { namespace: ns, name: sa };
  const grant = (g: ReturnType<Result["rbac"]["canI"]>) => (g.length ? { allowed: true, role: g[0]!.role, via: `${g[0]!.binding.obj.kind} ${g[0]!.binding.obj.metadata?.name}` } : { allowed: false });
  return {
    identity: `system:serviceaccount:${ns}:${sa}`,
    clusters: results.map((r) => ({
      name: r.name,
      bindings: r.rbac.bindingsFor(id).map((m) => ({
        kind: m.binding.obj.kind,
        name: m.binding.obj.metadata?.name,
        file: m.binding.file,
        role: m.role,
        scope: m.scope,
        rules: m.rules.map((rule) => ({ verbs: rule.verbs ?? [], resources: rule.resources ?? [], apiGroups: rule.apiGroups ?? [] })),
      })),
      createClusterRoleBindings: grant(r.rbac.canI(id, "create", "rbac.authorization.k8s.io", "clusterrolebindings")),
      getSecretsInOwnNamespace: grant(r.rbac.canI(id, "get", "", "secrets", ns)),
    })),
  };
}

export function explainAccess(results: Result[], ns: string, sa: string): string {
  const access = accessOf(results, ns, sa);
  const out: string[] = [];
  const answer = (g: { allowed: boolean; role?: string; via?: string }, full: boolean) => (g.allowed ? p(full ? `yes (${g.role} via ${g.via})` : `yes (${g.role})`) : "no");
  for (const c of access.clusters) {
    out.push(`cluster ${p(c.name)}: ${p(access.identity)}`);
    if (c.bindings.length === 0) out.push("  no binding applies: it can do nothing beyond what every authenticated user can");
    for (const b of c.bindings) {
      out.push(`  ${p(`${b.kind} ${b.name} (${b.file}) -> ${b.role}, ${b.scope}`)}`);
      for (const rule of b.rules) out.push(`    ${p(`${rule.verbs.join(",")} on ${rule.resources.join(",")} in groups ${rule.apiGroups.map((g) => g || "core").join(",")}`)}`);
    }
    out.push(`  can-i create clusterrolebindings: ${answer(c.createClusterRoleBindings, true)}`);
    out.push(`  can-i get secrets -n ${p(ns)}: ${answer(c.getSecretsInOwnNamespace, false)}`);
  }
  return out.join("\n");
}
