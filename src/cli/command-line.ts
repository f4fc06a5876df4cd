/**
 * The command a person could have typed instead of answering prompts, printed at the end of an
 * interactive run for runbooks: every answer that differs from its default as a flag, and
 * --yes, quoted for a POSIX shell. Run on the same repo it does what the prompts did.
 */
import { flagOf, type Answers, type AnswerValue, type Context, type Generator } from "../core/generator.js";
import type { RawFlags } from "../core/run-generator.js";

/** The common options that change what a run does, passed on as they were given. */
const PASSED_ON = ["repo", "dry-run", "force", "no-verify", "timeout"] as const;

/** One word for a POSIX shell: bare when the shell reads nothing in it specially, else single-quoted. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

const same = (a: AnswerValue | undefined, b: AnswerValue | undefined) => JSON.stringify(a) === JSON.stringify(b);

export function equivalentCommand(gen: Generator, answers: Answers, values: RawFlags, ctx: Context): string {
  const words = ["fleet", gen.name];
  const positional = gen.answers.find((a) => a.positional);
  if (positional && answers[positional.name] !== undefined) words.push(shellWord(String(answers[positional.name])));
  for (const spec of gen.answers) {
    const value = answers[spec.name];
    // A default is derived again from the same answers and repo by the run without prompts.
    if (spec.positional || value === undefined || same(value, spec.default?.(ctx, answers))) continue;
    const flag = flagOf(spec);
    if (typeof value === "boolean") words.push(value ? `--${flag}` : `--no-${flag}`);
    else words.push(`--${flag}`, shellWord(Array.isArray(value) ? value.join(",") : value));
  }
  for (const name of PASSED_ON) {
    const v = values[name];
    if (v === true) words.push(`--${name}`);
    else if (typeof v === "string") words.push(`--${name}`, shellWord(v));
  }
  return [...words, "--yes"].join(" ");
}
