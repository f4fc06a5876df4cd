/**
 * Rendering. Not plop's renderString: it HTML-escapes (`&` -> `&amp;`) and forgives missing
 * variables. fleet's own handlebars instance renders with `noEscape` and `strict`, and YAML
 * output is parsed back and checked before anything is staged.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import Handlebars from "handlebars";
import { parseAllDocuments } from "yaml";
import { FleetError } from "./errors.js";
import { TEMPLATES_DIR } from "./paths.js";

const hb = Handlebars.create();
const compiled = new Map<string, Handlebars.TemplateDelegate>();

function template(name: string): Handlebars.TemplateDelegate {
  let fn = compiled.get(name);
  if (!fn) {
    const file = path.join(TEMPLATES_DIR, `${name}.hbs`);
    fn = hb.compile(fs.readFileSync(file, "utf8"), { noEscape: true, strict: true });
    compiled.set(name, fn);
  }
  return fn;
}

export function renderText(name: string, data: object): string {
  try {
    return template(name)(data);
  } catch (e) {
    throw new FleetError(`template ${name}.hbs: ${(e as Error).message}`);
  }
}

/**
 * Render a YAML template and prove the result is what was meant: it parses, and every
 * Kubernetes object in it has apiVersion, kind and metadata.name.
 */
export function renderYaml(name: string, data: object): string {
  const text = renderText(name, data);
  checkYaml(`template ${name}.hbs`, text);
  return text;
}

export function checkYaml(what: string, text: string): void {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) throw new FleetError(`${what}: rendered to nothing`);
  for (const doc of docs) {
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) throw new FleetError(`${what}: rendered YAML does not parse: ${problem.message}`);
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
