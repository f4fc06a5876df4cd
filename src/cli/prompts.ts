/**
 * Prompts for the answers not given as flags, through node-plop's inquirer. The same answers
 * table and validation serve flags and prompts; only the asking lives here. Each answer is
 * checked as it is typed (the check resolveAnswers hands over), so a refused one is asked again
 * on the spot with the rule it broke.
 */
import nodePlop from "node-plop";
import { onInterrupt } from "../changeset/signals.js";
import type { Answers, AnswerSpec, AnswerValue, Context } from "../core/generator.js";
import { InputError } from "../core/errors.js";
import { fieldName, type AnswerCheck, type Asker } from "../core/run-generator.js";
import type { Io } from "./output.js";

const CURSOR_SHOW = "\x1b[?25h";

function toValue(spec: AnswerSpec, input: unknown): AnswerValue {
  if (spec.type === "confirm") return input === true;
  if (spec.multiple || spec.type === "checkbox") {
    const list = Array.isArray(input) ? input.map(String) : String(input ?? "").split(",");
    return list.map((s) => s.trim()).filter((s) => s !== "");
  }
  return String(input ?? "").trim();
}

/**
 * Ctrl-C at a prompt: inquirer closes its readline and sends the process SIGINT. With nothing
 * else keeping node's event loop alive, node would end (exit 13, an unsettled await) before the
 * signal reached its handler, so a timer holds it open while asking. The handler (signals.ts)
 * releases the lock and exits 130; here it says so in one line and shows the cursor again,
 * which list and checkbox prompts hide.
 */
async function whileAsking<T>(p: Io, ask: () => Promise<T>): Promise<T> {
  const alive = setInterval(() => {}, 1 << 30);
  const unregister = onInterrupt(() => {
    process.stdout.write(CURSOR_SHOW);
    p.err("fleet: interrupted at a prompt; nothing was written");
  });
  try {
    return await ask();
  } finally {
    clearInterval(alive);
    unregister();
  }
}

/** The inquirer question for one answer; `merged` is the answers so far, flags included. */
function question(spec: AnswerSpec, ctx: Context, check: AnswerCheck, merged: (so: Record<string, unknown>) => Answers) {
  const choices = spec.choices?.(ctx);
  const offered = spec.offer?.(ctx) ?? [];
  const defaults = (so: Record<string, unknown>) => spec.default?.(ctx, merged(so));
  // A list offers what the repo has; one that offers nothing is asked as text.
  const type = spec.type === undefined && offered.length > 0 ? "list" : (spec.type ?? "input");
  const listed = choices ?? offered;
  return {
    type,
    name: spec.name,
    message: spec.message + (spec.hint && type !== "checkbox" ? ` (${spec.hint})` : ""),
    when: (so: Record<string, unknown>) => (spec.when ? spec.when(merged(so), ctx) : true),
    ...(type === "checkbox"
      ? {
          choices: (so: Record<string, unknown>) => {
            const on = defaults(so);
            return listed.map((c) => ({ name: c, value: c, checked: Array.isArray(on) && on.includes(c) }));
          },
        }
      : type === "list"
        ? {
            // A list prompt takes no validation: a choice the rules refuse is shown, not chosen, with why.
            choices: (so: Record<string, unknown>) => {
              const rows = listed.map((c) => ({ name: c, value: c, disabled: check(spec, c, merged(so)) ?? false }));
              // inquirer's list fails with a TypeError when nothing can be chosen.
              if (rows.length === 0) throw new InputError(fieldName(spec), `${spec.message}: this repository has none to choose from`);
              if (rows.every((r) => r.disabled))
                throw new InputError(fieldName(spec), `every choice is refused: ${rows.map((r) => `${r.name}: ${r.disabled}`).join("; ")}`);
              return rows;
            },
          }
        : {}),
    ...(type === "checkbox"
      ? {}
      : {
          default: (so: Record<string, unknown>) => {
            const d = defaults(so);
            const shown = Array.isArray(d) ? d.join(",") : d;
            return shown === "" ? undefined : shown;
          },
        }),
    filter: (input: unknown) => toValue(spec, input),
    validate: (input: unknown, so: Record<string, unknown> = {}) => check(spec, toValue(spec, input), merged(so)) ?? true,
  };
}

async function runPrompts(p: Io, ctx: Context, prompts: unknown[]): Promise<Record<string, unknown>> {
  const plop = await nodePlop("", { force: false, destBasePath: ctx.cs.root });
  plop.setGenerator("ask", { description: "", prompts: prompts as never, actions: [] });
  return whileAsking(p, async () => (await plop.getGenerator("ask").runPrompts()) as Record<string, unknown>);
}

/** Asks on `p`'s terminal; `asked` is called once for each answer a person gave at a prompt. */
export function asker(p: Io, asked?: (name: string) => void): Asker {
  return async (questions, ctx, given, check) => {
    const open = questions.filter((q) => q.ask !== false);
    if (open.length === 0) return {};
    const merged = (so: Record<string, unknown>): Answers => ({ ...given, ...(so as Answers) });
    const result = await runPrompts(
      p,
      ctx,
      open.map((spec) => question(spec, ctx, check, merged)),
    );
    const out: Answers = {};
    for (const spec of open)
      if (result[spec.name] !== undefined) {
        out[spec.name] = toValue(spec, result[spec.name]);
        asked?.(spec.name);
      }
    return out;
  };
}

/** A yes/no question before a change that is hard to take back; no is the default. */
export async function confirm(p: Io, ctx: Context, message: string): Promise<boolean> {
  const spec: AnswerSpec = { name: "confirmed", message, type: "confirm", default: () => false };
  const answers = await asker(p)([spec], ctx, {}, () => undefined);
  return answers.confirmed === true;
}
