/** "Did you mean": the command or flag closest to what was typed, for the error that refuses it. */
import { InputError } from "../core/errors.js";
import { printable } from "../core/text.js";

/** Levenshtein distance: the fewest one-character insertions, deletions and substitutions. */
export function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}

/**
 * The name a typo most likely meant: the nearest within a third of its length (one edit for
 * short names), or the one it begins when it begins only one. Undefined when nothing is close:
 * a wrong guess is worse than none.
 */
export function closest(typed: string, names: Iterable<string>): string | undefined {
  const all = [...new Set(names)];
  const scored = all.map((name) => ({ name, d: editDistance(typed, name) })).filter(({ name, d }) => d <= Math.max(1, Math.floor(name.length / 3)));
  scored.sort((x, y) => x.d - y.d || x.name.localeCompare(y.name));
  if (scored[0]) return scored[0].name;
  const begun = typed.length >= 2 ? all.filter((n) => n.startsWith(typed)) : [];
  return begun.length === 1 ? begun[0] : undefined;
}

/**
 * node's parseArgs refusal as fleet's: the command as the field, node's sentence as the rule,
 * and for an unknown flag the nearest one the command takes. `flags`: its long flags, no dashes.
 */
export function badArguments(e: unknown, command: string, flags: Iterable<string>): InputError {
  const rule = (e as Error).message.replace(/\. To specify.*$/s, "");
  const unknown = /^Unknown option '--([^'=]+)'/.exec(rule)?.[1];
  const near = unknown === undefined ? undefined : closest(unknown, flags);
  const help = `see fleet ${command} --help`;
  return new InputError(`fleet ${command}`, printable(rule), near ? `did you mean --${near}? (${help})` : help);
}
