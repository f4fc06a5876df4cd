/**
 * Run a generator: settle its answers (flags first, then prompts or defaults), check them all,
 * and stage its actions through node-plop with fleet's action types. Nothing here writes to
 * disk: the caller previews or applies the change set.
 */
import nodePlop from "node-plop";
import { registerActionTypes } from "./actions.js";
import { ConflictError, FleetError, InputError, InputErrors } from "./errors.js";
import { flagOf, type Answers, type AnswerSpec, type AnswerValue, type Context, type FleetAction, type Generator } from "./generator.js";

/** Raw flag values as the CLI parsed them (strings, string lists, booleans). */
export type RawFlags = Record<string, string | string[] | boolean | undefined>;

/** An answer's broken rule as a sentence, given the answers so far, or undefined when it is fine. */
export type AnswerCheck = (spec: AnswerSpec, value: AnswerValue, answers: Answers) => string | undefined;

/** Asks the person at the terminal for the answers not given as flags, checking each as it is typed. */
export type Asker = (questions: AnswerSpec[], ctx: Context, given: Answers, check: AnswerCheck) => Promise<Answers>;

function normalise(spec: AnswerSpec, raw: string | string[] | boolean): AnswerValue {
  if (spec.type === "confirm") return raw === true || raw === "true" || raw === "yes";
  if (spec.multiple || spec.type === "checkbox") {
    const list = (Array.isArray(raw) ? raw : [String(raw)]).flatMap((s) => s.split(","));
    return list.map((s) => s.trim()).filter((s) => s !== "");
  }
  return Array.isArray(raw) ? (raw[raw.length - 1] ?? "") : String(raw);
}

/** The one validation shared by flags, prompts and defaults. */
export function checkAnswer(spec: AnswerSpec, value: AnswerValue, ctx: Context, answers: Answers): string | undefined {
  if (spec.choices && !spec.multiple && spec.type !== "checkbox" && typeof value === "string") {
    const choices = spec.choices(ctx);
    if (!choices.includes(value)) return `must be one of: ${choices.join(", ")}`;
  }
  if (spec.choices && Array.isArray(value)) {
    const choices = spec.choices(ctx);
    const bad = value.find((x) => !choices.includes(x));
    if (bad !== undefined) return `'${bad}' is not one of: ${choices.join(", ")}`;
  }
  return spec.validate?.(value, ctx, answers);
}

export const fieldName = (spec: AnswerSpec) => (spec.positional ? `<${spec.name}>` : `--${flagOf(spec)}`);

/**
 * An answer as it is typed at a prompt: its own rule, then the generator's rules across answers
 * and the repo (check, exists) that name its field, on the answers given so far. So an existing
 * tenant name or a refused role is re-asked on the spot, not refused after the last prompt.
 * A name that exists is refused here even where a second identical run would pass: a person
 * answering prompts is making something new, not repeating a run.
 */
export function checkTyped(gen: Generator, spec: AnswerSpec, value: AnswerValue, ctx: Context, answers: Answers): string | undefined {
  const own = checkAnswer(spec, value, ctx, answers);
  if (own) return own;
  const so = { ...answers, [spec.name]: value };
  const field = fieldName(spec);
  let found;
  try {
    found = [...(gen.check?.(so, ctx) ?? []), gen.exists?.(so, ctx)].find((f) => f?.field === field);
  } catch {
    // A rule that cannot judge without answers not given yet (a team generator's check may
    // read them) is judged after the last prompt, where resolveAnswers runs it on all of them.
    return undefined;
  }
  return found && `${found.rule}${found.fix ? `; ${found.fix}` : ""}`;
}

export async function resolveAnswers(
  gen: Generator,
  ctx: Context,
  flags: RawFlags,
  ask: Asker | undefined,
): Promise<Answers> {
  const answers: Answers = {};
  const errors: InputError[] = [];
  // All flags first, then each checked against all of them: a rule may depend on a switch
  // given later on the line (--semver and --allow-major).
  for (const spec of gen.answers) {
    const raw = flags[spec.name];
    if (raw !== undefined) answers[spec.name] = normalise(spec, raw);
  }
  for (const spec of gen.answers) {
    if (answers[spec.name] === undefined) continue;
    const broken = checkAnswer(spec, answers[spec.name]!, ctx, answers);
    if (broken) {
      errors.push(new InputError(fieldName(spec), broken));
      delete answers[spec.name];
    }
  }
  if (errors.length > 0) throw errors.length === 1 ? errors[0]! : new InputErrors(errors, "invalid input:");

  if (ask) {
    const open = gen.answers.filter((s) => answers[s.name] === undefined);
    Object.assign(answers, await ask(open, ctx, answers, (spec, value, so) => checkTyped(gen, spec, value, ctx, so)));
  }

  const missing: InputError[] = [];
  // An answer whose default is derived from another missing answer is not asked for separately.
  const derived: InputError[] = [];
  for (const spec of gen.answers) {
    if (answers[spec.name] !== undefined) continue;
    if (spec.when && !spec.when(answers, ctx)) continue;
    const d = spec.default?.(ctx, answers);
    if (d === undefined && spec.optional) continue;
    if (d !== undefined) {
      const broken = checkAnswer(spec, d, ctx, answers);
      if (broken) missing.push(new InputError(fieldName(spec), `default ${JSON.stringify(d)} ${broken}`));
      else answers[spec.name] = d;
    } else
      (spec.default ? derived : missing).push(
        new InputError(fieldName(spec), `is required: ${spec.message}${spec.hint ? ` (${spec.hint})` : ""}`),
      );
  }
  if (missing.length === 0) missing.push(...derived);
  if (missing.length > 0)
    throw new InputErrors(
      missing,
      `missing answers for ${gen.name} (no terminal to ask, or --yes given); pass them as flags:`,
    );

  const broken = gen.check?.(answers, ctx) ?? [];
  if (broken.length > 0) {
    const errs = broken.map((b) => new InputError(b.field, b.rule, b.fix));
    throw errs.length === 1 ? errs[0]! : new InputErrors(errs, "invalid input:");
  }
  return answers;
}

/**
 * Merge every kustomization edit of one file into the first, so a file is read and edited once
 * however many tenants a run touches (new-env adds every tenant to one overlay).
 */
export function coalesce(actions: FleetAction[]): FleetAction[] {
  const out: FleetAction[] = [];
  const byPath = new Map<string, Extract<FleetAction, { type: "fleet:kustomization" }>>();
  for (const a of actions) {
    if (a.type !== "fleet:kustomization") {
      out.push(a);
      continue;
    }
    const first = byPath.get(a.path);
    if (!first) {
      const copy = { ...a };
      byPath.set(a.path, copy);
      out.push(copy);
      continue;
    }
    for (const k of ["addResources", "removeResources", "addPatches", "removePatches", "removeStrategicMerge"] as const)
      if (a[k]) first[k] = [...(first[k] ?? []), ...a[k]!];
  }
  return out;
}

/** Stage the generator's actions into ctx.cs through node-plop. */
export async function stageGenerator(gen: Generator, ctx: Context, answers: Answers): Promise<void> {
  const plop = await nodePlop("", { destBasePath: ctx.cs.root, force: false });
  let original: unknown;
  registerActionTypes(plop, ctx.cs, (e) => (original ??= e));
  plop.setGenerator(gen.name, {
    description: gen.description,
    prompts: [],
    actions: (data) => coalesce(gen.actions((data ?? {}) as Answers, ctx)) as never,
  });
  const existing = gen.exists?.(answers, ctx);
  const refuse = () => new InputError(existing!.field, existing!.rule, existing!.fix);
  const { failures } = await plop.getGenerator(gen.name).runActions({ ...answers });
  if (failures.length > 0) {
    if (existing && original instanceof ConflictError) throw refuse();
    if (original instanceof Error) throw original;
    const first = failures[0] as { type?: string; path?: string; error?: string };
    throw new FleetError(`${gen.name}: action ${first.type ?? ""} ${first.path ?? ""} failed: ${first.error ?? "unknown error"}`);
  }
  if (existing && ctx.cs.hasChanges()) throw refuse();
}
