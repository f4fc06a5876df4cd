/**
 * Prompts for the answers not given as flags, through node-plop's inquirer. The same answers
 * table and validation serve flags and prompts; only the asking lives here.
 */
import nodePlop from "node-plop";
import type { Answers, AnswerSpec, AnswerValue, Context } from "../core/generator.js";
import { checkAnswer } from "../core/run-generator.js";

function toValue(spec: AnswerSpec, input: unknown): AnswerValue {
  if (spec.type === "confirm") return input === true;
  if (spec.multiple || spec.type === "checkbox") {
    const list = Array.isArray(input) ? input.map(String) : String(input ?? "").split(",");
    return list.map((s) => s.trim()).filter((s) => s !== "");
  }
  return String(input ?? "").trim();
}

export async function askAnswers(questions: AnswerSpec[], ctx: Context, given: Answers): Promise<Answers> {
  const asked = questions.filter((q) => q.ask !== false);
  if (asked.length === 0) return {};
  const merged = (so: Record<string, unknown>): Answers => ({ ...given, ...(so as Answers) });
  const prompts = asked.map((spec) => {
    const choices = spec.choices?.(ctx);
    const defaults = (so: Record<string, unknown>) => spec.default?.(ctx, merged(so));
    return {
      type: spec.type ?? "input",
      name: spec.name,
      message: spec.message + (spec.hint && spec.type !== "checkbox" ? ` (${spec.hint})` : ""),
      when: (so: Record<string, unknown>) => (spec.when ? spec.when(merged(so), ctx) : true),
      ...(spec.type === "checkbox"
        ? {
            choices: (so: Record<string, unknown>) => {
              const on = defaults(so);
              return (choices ?? []).map((c) => ({ name: c, value: c, checked: Array.isArray(on) && on.includes(c) }));
            },
          }
        : choices
          ? { choices }
          : {}),
      ...(spec.type === "checkbox"
        ? {}
        : {
            default: (so: Record<string, unknown>) => {
              const d = defaults(so);
              const shown = Array.isArray(d) ? d.join(",") : d;
              return shown === "" ? undefined : shown;
            },
          }),
      filter: (input: unknown) => toValue(spec, input),
      validate: (input: unknown, so: Record<string, unknown> = {}) =>
        checkAnswer(spec, toValue(spec, input), ctx, merged(so)) ?? true,
    };
  });
  const plop = await nodePlop("", { force: false, destBasePath: ctx.cs.root });
  plop.setGenerator("ask", { description: "", prompts: prompts as never, actions: [] });
  const result = (await plop.getGenerator("ask").runPrompts()) as Record<string, unknown>;
  const out: Answers = {};
  for (const spec of asked) if (result[spec.name] !== undefined) out[spec.name] = toValue(spec, result[spec.name]);
  return out;
}
