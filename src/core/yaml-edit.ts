/**
 * Edits to YAML that already exists go through the `yaml` Document API, so comments, key order,
 * quoting and unrelated entries stay as the user wrote them. List items are found by value,
 * so running the same edit twice changes nothing.
 */
import { Document, isMap, isScalar, isSeq, parseDocument, YAMLMap, YAMLSeq, type ToStringOptions } from "yaml";
import { ParseError } from "./errors.js";

export function parseYaml(file: string, text: string): Document {
  const doc = parseDocument(text, { keepSourceTokens: false });
  const err = doc.errors[0];
  if (err) throw new ParseError(file, err.linePos?.[0]?.line, err.message.split("\n")[0] ?? err.message);
  return doc;
}

/**
 * Serialise in the style the file already has: whether block sequences are indented under
 * their key (`key:\n  - a`) or not (`key:\n- a`, kubectl's and kustomize's own style).
 */
export function stringifyLike(doc: Document, original: string): string {
  const opts: ToStringOptions = { lineWidth: 0, indentSeq: !/^[^\s#-][^\n]*:[ \t]*\n-[ \t]/m.test(original) };
  return doc.toString(opts);
}

function itemValue(item: unknown, matchKey?: string): unknown {
  if (matchKey && isMap(item)) {
    const v = item.get(matchKey, true);
    return isScalar(v) ? v.value : undefined;
  }
  return isScalar(item) ? item.value : undefined;
}

function seqAt(doc: Document, key: string, create: boolean): YAMLSeq | undefined {
  const node = doc.get(key, true);
  if (isSeq(node)) return node;
  if (node !== undefined && node !== null && !(isScalar(node) && node.value === null))
    throw new Error(`'${key}' is not a list`);
  if (!create) return undefined;
  const seq = new YAMLSeq();
  if (!isMap(doc.contents)) doc.contents = new YAMLMap() as never;
  doc.set(key, seq);
  return seq;
}

/**
 * Add `value` to the list at `key` unless an item with the same value (or, for maps, the
 * same `matchKey`) is there. A sorted list stays sorted; an unsorted one gets it at the end.
 * Returns whether anything changed.
 */
export function seqAdd(doc: Document, key: string, value: string | Record<string, unknown>, matchKey?: string): boolean {
  const seq = seqAt(doc, key, true)!;
  const wanted = typeof value === "string" ? value : value[matchKey ?? ""];
  const values = seq.items.map((it) => itemValue(it, matchKey));
  if (values.includes(wanted)) return false;
  // An empty flow list (`resources: []`) would stay on one line; a block list reads better in diffs.
  if (seq.items.length === 0) seq.flow = false;
  const strings = values.map((v) => String(v));
  const sorted = strings.every((v, i) => i === 0 || strings[i - 1]! <= v);
  let at = seq.items.length;
  if (sorted) {
    const idx = strings.findIndex((v) => v > String(wanted));
    if (idx !== -1) at = idx;
  }
  seq.items.splice(at, 0, doc.createNode(value));
  return true;
}

/** Remove every item of the list at `key` matching `pred`; drop the key once empty. */
export function seqRemove(doc: Document, key: string, pred: (v: unknown) => boolean, matchKey?: string): boolean {
  const seq = seqAt(doc, key, false);
  if (!seq) return false;
  const before = seq.items.length;
  seq.items = seq.items.filter((it) => !pred(itemValue(it, matchKey)));
  if (seq.items.length === before) return false;
  if (seq.items.length === 0) doc.delete(key);
  return true;
}

/** Plain values of a list at `key` (map items give their `matchKey`). */
export function seqValues(doc: Document, key: string, matchKey?: string): unknown[] {
  const node = doc.get(key, true);
  return isSeq(node) ? node.items.map((it) => itemValue(it, matchKey)) : [];
}
