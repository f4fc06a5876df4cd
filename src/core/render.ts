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
import { isScalar, parseAllDocuments, parseDocument, Scalar, stringify } from "yaml";
import { FleetError } from "./errors.js";
import { TEMPLATES_DIR } from "./paths.js";
import { INVISIBLE, printable } from "./text.js";

/** Where a fleet repo keeps its own templates, relative to the repo root. */
export const OVERRIDES_DIR = ".fleet/templates";

const hb = Handlebars.create();

/**
 * What go-yaml v3 (kustomize's reader, hence Flux's) makes of a plain scalar that the `yaml`
 * library's YAML 1.1 and 1.2 schemas both leave a string: it strips every '_' and tries Go's
 * ParseInt with base 0 (0x, 0o, 0b and a bare leading 0, in either case, signed), then a decimal
 * float; a plain value starting with four digits and '-' may be a timestamp; `<<` is a merge.
 */
const GO_YAML_NUMBER = /^[-+]?(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?|\.[0-9]+([eE][-+]?[0-9]+)?)$/;
const goYamlRetypes = (s: string) => GO_YAML_NUMBER.test(s.replace(/_/g, "")) || /^[0-9]{4}-/.test(s) || s === "<<";

const YAML_VERSIONS = ["1.1", "1.2"] as const;

/** Whether `s`, written plain, reads back as exactly `s` under YAML 1.1, YAML 1.2 and go-yaml v3. */
function plainIsString(s: string): boolean {
  if (s === "" || INVISIBLE.test(s) || goYamlRetypes(s)) return false;
  return YAML_VERSIONS.every((version) => {
    if (stringify(s, { version, lineWidth: 0 }) !== `${s}\n`) return false;
    const doc = parseDocument(s, { version });
    return doc.errors.length === 0 && doc.warnings.length === 0 && isScalar(doc.contents) && doc.contents.value === s;
  });
}

/**
 * A value as one YAML string scalar that reads back as exactly that string: plain where YAML 1.1
 * (kubectl, go-yaml), YAML 1.2 (the `yaml` library) and go-yaml v3 (kustomize) all read it as
 * that string, double-quoted otherwise (`0o17`, `1e3`, `true`, `yes`, `on`, `null`, `~`, `017`,
 * `12:30`, `1_000`, a leading '@', a ': ' ...).
 */
export function yamlString(value: string): string {
  if (plainIsString(value)) return value;
  const node = new Scalar(value);
  node.type = Scalar.QUOTE_DOUBLE;
  // Invisible and line-separator characters become escapes (\u2028, \x85): YAML 1.1 readers
  // take U+0085 and U+2028 for line breaks even inside quotes. printable's escapes are YAML's.
  return printable(stringify(node, { lineWidth: 0 }).replace(/\n$/, ""));
}

/**
 * `{{str name}}`: the value as a YAML string scalar (see yamlString). Several arguments are
 * joined first, so a value built from parts is one scalar: `{{str "./" kustomization "/" env}}`.
 * Every string a YAML template writes goes through it.
 */
hb.registerHelper("str", function (this: unknown, ...args: unknown[]) {
  const options = args.pop() as Handlebars.HelperOptions & { loc?: { start: { line: number; column: number } } };
  const fail = (why: string): never => {
    const e = new Error(why) as Error & { lineNumber?: number; column?: number };
    if (options.loc) {
      e.lineNumber = options.loc.start.line;
      e.column = options.loc.start.column;
    }
    throw e;
  };
  if (args.length === 0) fail("{{str}} needs a value, e.g. {{str name}}");
  const parts = args.map((a) => {
    if (a === undefined || a === null) return fail(`a value given to {{str}} is ${String(a)}`);
    if (typeof a === "object") return fail("{{str}} takes text, not a list or a mapping");
    return String(a);
  });
  return yamlString(parts.join(""));
});

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

/**
 * Strict mode does not reach helper arguments (`{{#if x}}` must work when x is missing), so a
 * missing `{{str name}}` would render as nothing. Marking str's arguments strict makes it fail as
 * `{{name}}` does: `"name" not defined`, with its line and column.
 */
class StrictStrArguments extends Handlebars.Visitor {
  override MustacheStatement(m: hbs.AST.MustacheStatement): void {
    if (m.path.type === "PathExpression" && (m.path as hbs.AST.PathExpression).original === "str")
      for (const p of m.params) if (p.type === "PathExpression") (p as hbs.AST.PathExpression & { strict?: boolean }).strict = true;
    super.MustacheStatement(m);
  }
}

/** Compiled on first use, like handlebars' own compile, so syntax errors surface in render(). */
function compile(text: string): Handlebars.TemplateDelegate {
  let fn: Handlebars.TemplateDelegate | undefined;
  return (data, options) => {
    if (!fn) {
      const ast = hb.parse(text);
      new StrictStrArguments().accept(ast);
      fn = hb.compile(ast, { noEscape: true, strict: true });
    }
    return fn(data, options);
  };
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
