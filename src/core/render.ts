/**
 * Rendering. Not plop's renderString: it HTML-escapes (`&` -> `&amp;`) and forgives missing
 * variables. fleet's own handlebars instance renders with `noEscape` and `strict`, and YAML
 * output is parsed back and checked before anything is staged.
 *
 * A fleet repo may override any template: `<repo>/.fleet/templates/<name>.hbs` replaces fleet's
 * built-in `templates/<name>.hbs` (and team generators may render templates that only exist
 * there). Overrides go through the same instance and the same checks; their errors name the
 * override file and, where handlebars or the YAML parser knows it, the line.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Handlebars from "handlebars";
import { parseAllDocuments } from "yaml";
import { FleetError } from "./errors.js";
import { TEMPLATES_DIR } from "./paths.js";

/** Where a fleet repo keeps its own templates, relative to the repo root. */
export const OVERRIDES_DIR = ".fleet/templates";

const hb = Handlebars.create();

interface Template {
  /** How errors name it: `tenant/namespace.yaml.hbs` or `.fleet/templates/tenant/namespace.yaml.hbs`. */
  label: string;
  override: boolean;
  /** Whether fleet ships a template of that name (an override replaces it). */
  builtin: boolean;
  fn: Handlebars.TemplateDelegate;
}

/** Built-in templates by name. */
const builtins = new Map<string, Template>();
/** Compiled overrides by name and text: an override edited between runs is compiled afresh. */
const overrides = new Map<string, Template>();

/** Template names are relative paths below the templates directory, nothing else. */
function checkName(name: string): void {
  const ok =
    /^[A-Za-z0-9_][A-Za-z0-9._-]*(\/[A-Za-z0-9_][A-Za-z0-9._-]*)*$/.test(name) && !name.split("/").some((s) => s === "..");
  if (!ok)
    throw new FleetError(
      `template '${name}': a template name is a path below the templates directory, without the .hbs suffix (e.g. tenant/namespace.yaml)`,
    );
}

function compile(text: string): Handlebars.TemplateDelegate {
  return hb.compile(text, { noEscape: true, strict: true });
}

function builtinTemplate(name: string): Template | undefined {
  let t = builtins.get(name);
  if (!t) {
    const file = path.join(TEMPLATES_DIR, `${name}.hbs`);
    if (!fs.existsSync(file)) return undefined;
    t = { label: `${name}.hbs`, override: false, builtin: true, fn: compile(fs.readFileSync(file, "utf8")) };
    builtins.set(name, t);
  }
  return t;
}

/** The repository a render is for: its overrides are read through it (and only inside it). */
export interface TemplateSource {
  root: string;
  read(rel: string): string | undefined;
}

function overrideTemplate(repo: TemplateSource, name: string): Template | undefined {
  const text = repo.read(`${OVERRIDES_DIR}/${name}.hbs`);
  if (text === undefined) return undefined;
  const key = `${name}\0${text}`;
  let t = overrides.get(key);
  if (!t) {
    const builtin = fs.existsSync(path.join(TEMPLATES_DIR, `${name}.hbs`));
    t = { label: `${OVERRIDES_DIR}/${name}.hbs`, override: true, builtin, fn: compile(text) };
    overrides.set(key, t);
  }
  return t;
}

/** The template a render for `repo` uses: the repo's override, else fleet's own. */
function template(name: string, repo: TemplateSource | undefined): Template {
  checkName(name);
  const t = (repo !== undefined ? overrideTemplate(repo, name) : undefined) ?? builtinTemplate(name);
  if (!t)
    throw new FleetError(
      `template ${name}.hbs does not exist${repo !== undefined ? ` in ${OVERRIDES_DIR}/ of the repo or` : ""} among fleet's templates\n` +
        `  fix: add ${OVERRIDES_DIR}/${name}.hbs to the repo, or name an existing template`,
    );
  return t;
}

/** What to do about a template that failed, by where it came from. */
function fixFor(t: Template): string {
  if (!t.override) return "this is a bug in fleet's own template; please report it";
  return t.builtin
    ? `correct ${t.label}, or delete it to render with fleet's built-in template again`
    : `correct ${t.label}`;
}

/** One handlebars failure as `<file>:<line>:<column>: <what>`, without handlebars' noise. */
function describeHandlebarsError(t: Template, e: unknown, data: object): string {
  const err = e as { message?: string; lineNumber?: number; column?: number };
  let message = String(err.message ?? e);
  let where = "";
  if (typeof err.lineNumber === "number") {
    where = `:${err.lineNumber}${typeof err.column === "number" ? `:${err.column}` : ""}`;
    message = message.replace(/ - \d+:\d+$/, "");
  } else {
    const m = /^Parse error on line (\d+):\n([\s\S]*)$/.exec(message);
    if (m) {
      where = `:${m[1]}`;
      message = `handlebars syntax error:\n    ${m[2]!.split("\n").join("\n    ")}`;
    }
  }
  message = message.replace(/ in \[object Object\]/, "");
  const known = /not defined/.test(message) ? `\n  variables it is given: ${Object.keys(data).sort().join(", ") || "none"}` : "";
  return `template ${t.override ? "override " : ""}${t.label}${where}: ${message}${known}\n  fix: ${fixFor(t)}`;
}

function render(t: Template, data: object): string {
  try {
    return t.fn(data);
  } catch (e) {
    throw new FleetError(describeHandlebarsError(t, e, data));
  }
}

/**
 * Render a text template. `repo` is the fleet repo the render is for: its
 * `.fleet/templates/<name>.hbs`, when there is one, is used instead of fleet's own.
 */
export function renderText(name: string, data: object, repo?: TemplateSource): string {
  return render(template(name, repo), data);
}

/**
 * Render a YAML template and prove the result is what was meant: it parses, and every
 * Kubernetes object in it has apiVersion, kind and metadata.name.
 */
export function renderYaml(name: string, data: object, repo?: TemplateSource): string {
  const t = template(name, repo);
  const text = render(t, data);
  try {
    checkYaml(`template ${t.override ? "override " : ""}${t.label}`, text);
  } catch (e) {
    if (e instanceof FleetError && t.override) throw new FleetError(`${e.message}\n  fix: ${fixFor(t)}`);
    throw e;
  }
  return text;
}

export function checkYaml(what: string, text: string): void {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new FleetError(`${what}: rendered to nothing`);
  for (const doc of docs) {
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) {
      const pos = problem.linePos?.[0];
      const first = (problem.message.split("\n")[0] ?? "").replace(/ at line \d+, column \d+:?$/, "");
      throw new FleetError(
        `${what}: rendered YAML does not parse${pos ? ` (line ${pos.line}, column ${pos.col} of the rendered output)` : ""}: ${first}`,
      );
    }
    const obj = doc.toJS() as Record<string, unknown> | null;
    // kustomize's own kustomization.yaml has no metadata; every other object must.
    const kustomizeFile = String(obj?.apiVersion ?? "").startsWith("kustomize.config.k8s.io/");
    if (obj && typeof obj === "object" && "kind" in obj && !kustomizeFile) {
      const meta = obj.metadata as Record<string, unknown> | undefined;
      if (typeof obj.apiVersion !== "string" || typeof meta?.name !== "string")
        throw new FleetError(`${what}: rendered ${String(obj.kind)} lacks apiVersion or metadata.name`);
    }
  }
}
