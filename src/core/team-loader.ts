/**
 * Load a team generator (`.fleet/generators/<name>.mjs`), check that it has fleet's generator
 * shape, and wrap it so that whatever it does wrong is reported by its name: a malformed
 * export, a hook that throws or returns the wrong thing, an action fleet does not know. Its
 * actions are staged into the change set like those of fleet's own generators, so a failure
 * anywhere leaves the repo as it was.
 */
import { pathToFileURL } from "node:url";
import * as path from "node:path";
import { ACTION_TYPES } from "./actions.js";
import { EXIT, FleetError } from "./errors.js";
import { flagOf, type AnswerSpec, type AnswerValue, type FleetAction, type Generator } from "./generator.js";
import type { TeamGeneratorFile } from "./team-generators.js";
import { printable } from "./text.js";

/** A team generator that cannot be loaded, is malformed, or failed while it ran. */
export class TeamGeneratorError extends FleetError {
  override readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.usage) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Flags every writing command has; an answer cannot take them. */
const RESERVED_FLAGS = ["repo", "dry-run", "yes", "y", "force", "json", "help", "h"];
const ANSWER_TYPES = ["input", "confirm", "list", "checkbox"];
const ANSWER_HOOKS = ["choices", "default", "when", "validate"] as const;
const GENERATOR_HOOKS = ["check", "exists", "notes", "nextSteps"] as const;
/** node-plop's own action types: they write to disk directly, past the change set. */
const PLOP_ACTIONS = ["add", "addMany", "modify", "append"];

const SHAPE_FIX =
  "export default { name, description, answers: [{ name, message, ... }], actions: (answers, ctx) => [{ type: \"fleet:render\", ... }] }, " +
  "the shape of fleet's own generators (fleet init writes an example: .fleet/generators/allow-ingress.mjs)";

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const isStringList = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === "string");
/** Anything the module said or returned is repo text: escaped before fleet prints it. */
const show = (e: unknown) => printable(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
const quote = (x: unknown) => printable(String(x));

/** Check the default export against fleet's Generator shape; every problem, not only the first. */
function shapeProblems(gen: unknown, expected: string): string[] {
  if (!isObject(gen)) return [`its default export must be a generator object, not ${gen === undefined ? "missing" : typeof gen}`];
  const out: string[] = [];
  if (typeof gen.name !== "string") out.push("name must be a string");
  else if (gen.name !== expected) out.push(`name '${quote(gen.name)}' must be its file name '${expected}' (fleet ${expected} runs it)`);
  if (gen.description !== undefined && typeof gen.description !== "string") out.push("description must be a string");
  if (gen.needsRepo !== undefined && gen.needsRepo !== true)
    out.push("needsRepo must be true or left out: a team generator runs in the fleet repo that holds it");
  if (gen.commands !== undefined) out.push("commands is for fleet's own generators (flux, terraform); a team generator only writes files");
  if (typeof gen.actions !== "function")
    out.push(
      Array.isArray(gen.actions)
        ? "actions must be a function (answers, ctx) => [...], not a list"
        : "actions must be a function (answers, ctx) => [...]",
    );
  for (const hook of GENERATOR_HOOKS)
    if (gen[hook] !== undefined && typeof gen[hook] !== "function") out.push(`${hook} must be a function`);
  if (!Array.isArray(gen.answers)) {
    out.push(
      gen.prompts !== undefined && gen.answers === undefined
        ? "answers must be a list; fleet generators declare answers (each a flag and a prompt), not plop's prompts"
        : "answers must be a list (empty when it asks nothing)",
    );
    return out;
  }
  const names = new Set<string>();
  const flags = new Set<string>();
  let positionals = 0;
  gen.answers.forEach((a: unknown, i: number) => {
    const at = `answers[${i}]`;
    if (!isObject(a)) {
      out.push(`${at} must be an object`);
      return;
    }
    const label = typeof a.name === "string" ? `${at} (${quote(a.name)})` : at;
    if (typeof a.name !== "string" || !/^[A-Za-z][A-Za-z0-9]*$/.test(a.name))
      out.push(`${at}.name must be a camelCase identifier (it becomes the flag: fooBar is --foo-bar)`);
    else if (names.has(a.name)) out.push(`${label}: the name is used twice`);
    else names.add(a.name);
    if (typeof a.message !== "string" || a.message === "") out.push(`${label}.message must be a non-empty string (the prompt and the flag's help)`);
    if (a.type !== undefined && !ANSWER_TYPES.includes(a.type as string)) out.push(`${label}.type must be one of ${ANSWER_TYPES.join(", ")}`);
    for (const k of ["positional", "multiple", "ask"]) if (a[k] !== undefined && typeof a[k] !== "boolean") out.push(`${label}.${k} must be true or false`);
    for (const k of ["flag", "hint"]) if (a[k] !== undefined && typeof a[k] !== "string") out.push(`${label}.${k} must be a string`);
    for (const hook of ANSWER_HOOKS)
      if (a[hook] !== undefined && typeof a[hook] !== "function") out.push(`${label}.${hook} must be a function`);
    if (a.positional === true) positionals++;
    else if (typeof a.name === "string" && (a.flag === undefined || typeof a.flag === "string")) {
      const flag = flagOf(a as unknown as AnswerSpec);
      if (!/^[a-z][a-z0-9-]*$/.test(flag)) out.push(`${label}: flag '${quote(flag)}' must be lower-case letters, digits and dashes`);
      else if (RESERVED_FLAGS.includes(flag)) out.push(`${label}: --${flag} is one of fleet's own flags`);
      else if (flags.has(flag)) out.push(`${label}: --${flag} is used twice`);
      flags.add(flag);
    }
  });
  if (positionals > 1) out.push("at most one answer can be positional");
  return out;
}

/** The fields each action type needs, for the types this check knows. */
function actionProblems(a: Record<string, unknown>): string[] {
  const out: string[] = [];
  const str = (k: string) => {
    if (typeof a[k] !== "string" || a[k] === "") out.push(`${k} must be a non-empty string`);
  };
  const optList = (k: string) => {
    if (a[k] !== undefined && !isStringList(a[k])) out.push(`${k} must be a list of strings`);
  };
  const obj = (k: string) => {
    if (!isObject(a[k])) out.push(`${k} must be an object`);
  };
  switch (a.type) {
    case "fleet:render":
      str("path");
      str("template");
      obj("data");
      if (a.ifMissing !== undefined && typeof a.ifMissing !== "boolean") out.push("ifMissing must be true or false");
      break;
    case "fleet:kustomization":
      str("path");
      for (const k of ["addResources", "removeResources", "addPatches", "removePatches"]) optList(k);
      break;
    case "fleet:line":
      str("path");
      str("key");
      if (a.line !== undefined && typeof a.line !== "string") out.push("line must be a string");
      break;
    case "fleet:delete":
      str("path");
      break;
    case "fleet:yaml-set":
      str("path");
      if (!isStringList(a.keyPath) || a.keyPath.length === 0) out.push("keyPath must be a non-empty list of strings");
      str("value");
      break;
    case "fleet:replace":
      str("path");
      str("pattern");
      if (typeof a.replacement !== "string") out.push("replacement must be a string");
      if (typeof a.pattern === "string")
        try {
          new RegExp(a.pattern, "g");
        } catch (e) {
          out.push(`pattern is not a regular expression: ${quote((e as Error).message)}`);
        }
      break;
    case "fleet:api-versions":
      str("path");
      obj("versions");
      break;
    default:
      // A type fleet has and this check does not know in detail: its handler checks it.
      if (a.path !== undefined && typeof a.path !== "string") out.push("path must be a string");
  }
  if (typeof a.path === "string") {
    const first = path.posix.normalize(a.path.replace(/\\/g, "/")).replace(/^\.\//, "").split("/")[0];
    if (first === ".git") out.push("path must not be inside .git/");
  }
  return out;
}

/**
 * Load `entry` and return it as a fleet Generator whose every hook reports failures by the
 * generator's name. Throws TeamGeneratorError (exit 2) when it does not load or is malformed.
 */
export async function loadTeamGenerator(entry: TeamGeneratorFile): Promise<Generator> {
  const who = `team generator '${entry.name}' (${entry.file})`;
  if (entry.refused) throw new TeamGeneratorError(`${who} cannot run: ${entry.refused}`);
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(entry.abs).href)) as { default?: unknown };
  } catch (e) {
    throw new TeamGeneratorError(
      `${who} failed to load: ${show(e)}\n  fix: correct the module; it must be a plain ES module (use .mjs, or .js under a package.json with "type": "module")`,
    );
  }
  const problems = shapeProblems(mod.default, entry.name);
  if (problems.length > 0)
    throw new TeamGeneratorError(`${who} is malformed:\n${problems.map((p) => `  - ${p}`).join("\n")}\n  fix: ${SHAPE_FIX}`);
  return wrap(mod.default as Record<string, unknown>, who);
}

/** What a result check says: the value to use, or what is wrong with the result. */
type Checked<R> = { ok: R } | { wrong: string };
const ok = <R>(value: R): Checked<R> => ({ ok: value });
const wrong = (why: string): { wrong: string } => ({ wrong: why });

/**
 * One of the generator's own functions, run so that a throw or a wrong result is reported by
 * the generator's name. These all run before anything is written.
 */
function guard<A extends unknown[], R>(who: string, where: string, fn: (...args: A) => unknown, check: (r: unknown) => Checked<R>) {
  return (...args: A): R => {
    let r: unknown;
    try {
      r = fn(...args);
    } catch (e) {
      throw new TeamGeneratorError(`${who}: ${where} threw ${show(e)}\n  fix: correct the generator; nothing was written`);
    }
    const checked = r instanceof Promise ? wrong("returned a Promise; generator functions are synchronous") : check(r);
    if ("wrong" in checked) throw new TeamGeneratorError(`${who}: ${where} ${checked.wrong}\n  fix: correct the generator; nothing was written`);
    return checked.ok;
  };
}

/**
 * notes() and nextSteps() run after the change set is applied: a failure there must not make a
 * finished run look failed, so it becomes a line of the output instead.
 */
function afterApply<A extends unknown[]>(who: string, where: string, fn: (...args: A) => unknown) {
  return (...args: A): string[] => {
    try {
      const r = fn(...args);
      if (r === undefined || r === null) return [];
      if (isStringList(r)) return r.map(printable);
      return [`(${who}: ${where} must return a list of strings)`];
    } catch (e) {
      return [`(${who}: ${where} threw ${show(e)})`];
    }
  };
}

function toAnswerValue(r: unknown): Checked<AnswerValue | undefined> {
  if (r === undefined || r === null) return ok(undefined);
  if (typeof r === "string" || typeof r === "boolean") return ok(r);
  if (typeof r === "number") return ok(String(r));
  if (isStringList(r)) return ok(r);
  return wrong("must return a string, a boolean, a list of strings or undefined");
}

/** Inquirer's habit is accepted too: true (or nothing) means valid, a string is the broken rule. */
function toRule(r: unknown): Checked<string | undefined> {
  if (r === undefined || r === null || r === true || r === "") return ok(undefined);
  if (typeof r === "string") return ok(printable(r));
  if (r === false) return ok("is not valid");
  return wrong("must return a string (the broken rule) or undefined");
}

type Finding = { field: string; rule: string; fix?: string };
const isFinding = (f: unknown): f is Finding => isObject(f) && typeof f.field === "string" && typeof f.rule === "string";
/** A finding is printed as an error: its text is the module's, escaped. */
const printableFinding = (f: Finding): Finding => ({
  field: printable(f.field),
  rule: printable(f.rule),
  ...(typeof f.fix === "string" ? { fix: printable(f.fix) } : {}),
});

function toFindings(r: unknown): Checked<Finding[]> {
  if (r === undefined || r === null) return ok([]);
  if (Array.isArray(r) && r.every(isFinding)) return ok(r.map(printableFinding));
  return wrong("must return a list of { field, rule, fix? }");
}

function toExisting(r: unknown): Checked<Finding | undefined> {
  if (r === undefined || r === null || r === false) return ok(undefined);
  if (isFinding(r)) return ok(printableFinding(r));
  return wrong("must return undefined or { field, rule, fix? }");
}

function toActions(r: unknown): Checked<FleetAction[]> {
  if (!Array.isArray(r)) return wrong("must return a list of fleet actions");
  const problems: string[] = [];
  r.forEach((a: unknown, i) => {
    const at = `actions()[${i}]`;
    if (typeof a === "function") return problems.push(`${at} is a function; fleet actions are objects like { type: "fleet:render", ... }`);
    if (!isObject(a) || typeof a.type !== "string") return problems.push(`${at} must be an object with a type`);
    const label = `${at} (${quote(a.type)}${typeof a.path === "string" ? ` ${quote(a.path)}` : ""})`;
    if (PLOP_ACTIONS.includes(a.type))
      return problems.push(`${label}: plop's own '${a.type}' writes past fleet's change set (no dry run, no rollback); use one of ${ACTION_TYPES.join(", ")}`);
    if (!(ACTION_TYPES as string[]).includes(a.type)) return problems.push(`${label}: type must be one of ${ACTION_TYPES.join(", ")}`);
    for (const p of actionProblems(a)) problems.push(`${label}: ${p}`);
    return undefined;
  });
  return problems.length > 0 ? wrong(`returned actions fleet cannot stage:\n${problems.map((p) => `  - ${p}`).join("\n")}`) : ok(r as FleetAction[]);
}

function wrap(g: Record<string, unknown>, who: string): Generator {
  // The module is untyped: its functions take whatever fleet passes them.
  type Fn = (...args: any[]) => unknown;
  const answers: AnswerSpec[] = (g.answers as Array<Record<string, unknown>>).map((a, i) => {
    const at = `answers[${i}] (${quote(a.name)})`;
    const spec = { ...(a as unknown as AnswerSpec) };
    if (typeof a.choices === "function")
      spec.choices = guard(who, `${at}.choices()`, a.choices as Fn, (r) => (isStringList(r) ? ok(r) : wrong("must return a list of strings")));
    if (typeof a.default === "function") spec.default = guard(who, `${at}.default()`, a.default as Fn, toAnswerValue);
    if (typeof a.when === "function") spec.when = guard(who, `${at}.when()`, a.when as Fn, (r) => ok(Boolean(r)));
    if (typeof a.validate === "function") spec.validate = guard(who, `${at}.validate()`, a.validate as Fn, toRule);
    return spec;
  });
  const name = String(g.name);
  const gen: Generator = {
    name,
    description: typeof g.description === "string" ? printable(g.description) : `team generator ${name}`,
    needsRepo: true,
    answers,
    actions: guard(who, "actions()", g.actions as Fn, toActions),
  };
  if (typeof g.check === "function") gen.check = guard(who, "check()", g.check as Fn, toFindings);
  if (typeof g.exists === "function") gen.exists = guard(who, "exists()", g.exists as Fn, toExisting);
  if (typeof g.notes === "function") gen.notes = afterApply(who, "notes()", g.notes as Fn);
  if (typeof g.nextSteps === "function") gen.nextSteps = afterApply(who, "nextSteps()", g.nextSteps as Fn);
  return gen;
}
