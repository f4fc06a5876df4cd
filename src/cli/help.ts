/**
 * `fleet <command> --help` for a generator: every answer as a flag, with its default and the
 * values it takes, read from the generator's own answers table (one definition: the table that
 * checks a value also documents it). Help has no repo to read, so what needs one is described.
 */
import { defaultConfig } from "../core/config.js";
import type { AnswerSpec, AnswerValue, Context, Generator } from "../core/generator.js";
import { flagOf } from "../core/generator.js";
import { COMMON_FLAGS, type GeneratorCommand } from "./commands.js";

/** A default, choice or rule that depends on the repository or on another answer. */
class Depends extends Error {
  constructor(readonly on: string) {
    super(on);
  }
}

/**
 * The repo as help sees it: fleet.yaml's settings as a new repo has them, each read recorded by
 * its key path (so a default can say which setting it is); any other read throws Depends.
 */
function helpContext(): { ctx: Context; read: { path?: string } } {
  const read: { path?: string } = {};
  const recording = (obj: object, at: string[]): object =>
    new Proxy(obj, {
      get(target, key) {
        const value: unknown = Reflect.get(target, key);
        if (typeof key !== "string") return value;
        read.path = [...at, key].join(".");
        return value !== null && typeof value === "object" && !Array.isArray(value) ? recording(value, [...at, key]) : value;
      },
    });
  const config = recording(defaultConfig(), []);
  const ctx = new Proxy({} as Context, {
    get: (_, key) => {
      if (key === "config") return config;
      throw new Depends(`repo.${String(key)}`);
    },
  });
  return { ctx, read };
}

const otherAnswers = new Proxy(
  {},
  {
    get: (_, key) => {
      throw new Depends(`answer.${String(key)}`);
    },
  },
);

type Probe<T> = { value: T; setting?: string } | { depends: string };

/** Run one of an answer's functions as help can: on fleet.yaml's defaults, with no repo and no other answers. */
function probe<T>(fn: (ctx: Context, answers: never) => T): Probe<T> {
  const { ctx, read } = helpContext();
  try {
    const value = fn(ctx, otherAnswers as never);
    return { value, ...(read.path ? { setting: read.path } : {}) };
  } catch (e) {
    if (e instanceof Depends) return { depends: e.on };
    throw e;
  }
}

/** An empty list is no default: the answer is optional, and its message says what empty means. */
const shown = (v: AnswerValue | undefined): string | undefined =>
  v === undefined || v === "" || (Array.isArray(v) && v.length === 0) ? undefined : Array.isArray(v) ? v.join(",") : String(v);

/** What a default that help cannot compute is made of. */
function dependsOn(on: string, answers: AnswerSpec[]): string {
  const [kind, name] = on.split(".") as [string, string];
  if (kind === "answer") {
    const other = answers.find((a) => a.name === name);
    return `derived from ${other ? (other.positional ? `<${other.name}>` : `--${flagOf(other)}`) : name}`;
  }
  return "read from the repository";
}

function defaultText(spec: AnswerSpec, gen: Generator): string | undefined {
  if (spec.defaultHelp) return spec.defaultHelp;
  if (!spec.default) return undefined;
  const d = probe((ctx, answers) => spec.default!(ctx, answers));
  if ("depends" in d) return dependsOn(d.depends, gen.answers);
  const value = shown(d.value);
  // A repo's fleet.yaml may change what a new one has; init writes the new one.
  if (d.setting && gen.needsRepo) return `fleet.yaml ${d.setting}${value ? ` (${value} unless set)` : ""}`;
  return value;
}

/** A value every rule refuses: what it answers is the rule, as the rule itself says it. */
const REFUSED = "Not-Valid!";

/**
 * The rule as a sentence about any value: a rule that quotes the value it refuses is cut where
 * it does ("must be a host name such as github.acme.io: 'Not-Valid!' is not ...").
 */
function ruleSentence(refusal: string): string {
  const at = refusal.indexOf(`'${REFUSED}'`);
  if (at === 0) return refusal.slice(REFUSED.length + 3).replace(/^is not /, "must be ");
  return at < 0 ? refusal : refusal.slice(0, at).replace(/[\s:;,(]*(not)?\s*$/, "");
}

/** The values an answer takes: its choices, or the rule a wrong value breaks. */
function allowedText(spec: AnswerSpec): string | undefined {
  if (spec.type === "confirm") return undefined;
  const many = spec.multiple || spec.type === "checkbox";
  if (spec.choices) {
    const c = probe((ctx) => spec.choices!(ctx));
    return `${many ? "any of" : "one of"}${"depends" in c ? " those in the repository (fleet list shows them)" : `: ${c.value.join(", ")}`}`;
  }
  if (!spec.validate) return undefined;
  const r = probe((ctx, answers) => spec.validate!(many ? [REFUSED] : REFUSED, ctx, answers));
  return "depends" in r || r.value === undefined ? undefined : ruleSentence(r.value);
}

/** An answer's choices when they are fixed (bootstrap methods); undefined when they are the repo's or there are none. */
export function fixedValues(spec: AnswerSpec): string[] | undefined {
  if (!spec.choices) return undefined;
  const c = probe((ctx) => spec.choices!(ctx));
  return "depends" in c ? undefined : c.value;
}

const FLAG_WIDTH = 28;
const indent = " ".repeat(FLAG_WIDTH + 4);

export function commandHelp(cmd: GeneratorCommand, gen: Generator): string {
  const rows = gen.answers
    .filter((a) => !a.positional)
    .flatMap((a) => {
      const flag = a.type === "confirm" ? `--[no-]${flagOf(a)}` : `--${flagOf(a)} ${a.multiple ? "LIST" : "VALUE"}`;
      const dflt = defaultText(a, gen);
      const allowed = allowedText(a);
      const details = [...(allowed ? [allowed] : []), ...(dflt ? [`default: ${dflt}`] : [])];
      // A flag longer than the column still gets a space before its text.
      return [`  ${flag.padEnd(FLAG_WIDTH - 1)} ${a.message}${a.hint ? ` (${a.hint})` : ""}`, ...(details.length ? [`${indent}${details.join("; ")}`] : [])];
    });
  const positional = gen.answers.find((a) => a.positional);
  const arg = positional && [allowedText(positional), defaultText(positional, gen) && `default: ${defaultText(positional, gen)}`].filter(Boolean);
  return [
    `${cmd.usage}`,
    "",
    gen.description,
    ...(positional ? ["", `  <${positional.name}>`.padEnd(FLAG_WIDTH + 2) + positional.message, ...(arg?.length ? [`${indent}${arg.join("; ")}`] : [])] : []),
    "",
    "Answers (each a flag; prompted on a terminal when not given):",
    ...rows,
    "",
    "Common options:",
    ...COMMON_FLAGS.map(([f, d]) => `  ${f.padEnd(FLAG_WIDTH)}${d}`),
  ].join("\n");
}
