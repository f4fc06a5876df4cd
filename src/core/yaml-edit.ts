/**
 * Edits to YAML that already exists. Lists are edited as text at the places the `yaml` parser
 * locates, so every byte outside the added or removed items (comments, their spacing, key order,
 * quoting, list indentation and style, line endings, a missing final newline) stays as the user
 * wrote it. Where a list has no form to edit in place (missing, `[]`, or a block list emptied),
 * the Document API makes the change instead, which still keeps comments and order. Items are
 * matched by value, so a second run changes nothing.
 */
import { Document, isMap, isScalar, isSeq, parseAllDocuments, parseDocument, stringify, visit, YAMLMap, YAMLSeq, type Alias, type Node, type Scalar } from "yaml";
import { ParseError, RepoContentError } from "./errors.js";
import { scanLists, scanTopLevel, type ScannedList } from "./yaml-lists.js";

export type ListValue = string | Record<string, unknown>;

export interface ListEdit {
  /** A top-level key, or the path to a nested list (`["flux", "componentsExtra"]`). */
  key: string | string[];
  add?: ListValue[];
  remove?: (value: unknown) => boolean;
  /** For lists of maps: the field that identifies an item (`path` of a patch). */
  matchKey?: string;
  /** Always add at the end, even to a sorted list (an order that means something). */
  append?: boolean;
}

const lineAt = (text: string, offset: number) => text.slice(0, offset).split("\n").length;

/**
 * Refuse a document that does not parse, or whose aliases cannot be resolved: an unknown
 * anchor, or an alias bomb (aliases of aliases expanding to millions of nodes), which the yaml
 * library stops at its maxAliasCount. Every reader resolves aliases (fleet, kustomize, Flux),
 * so the file is refused at its parse, whichever reader comes first.
 */
function checkDocument(file: string, text: string, doc: Document): void {
  const err = doc.errors[0];
  if (err) throw new ParseError(file, err.linePos?.[0]?.line, err.message.split("\n")[0] ?? err.message);
  let alias: Alias | undefined;
  visit(doc, {
    Alias: (_, node) => {
      alias = node;
      return visit.BREAK;
    },
  });
  if (!alias) return;
  try {
    doc.toJS();
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    throw new ParseError(
      file,
      alias.range ? lineAt(text, alias.range[0]) : undefined,
      e.message,
      "write the aliased values out (or define each anchor &name once, before its aliases *name); fleet left the file unchanged",
    );
  }
}

/** Parse one YAML document of the repo; a file that does not parse is a ParseError naming it. */
export function parseYaml(file: string, text: string): Document {
  const doc = parseDocument(text);
  checkDocument(file, text, doc);
  return doc;
}

/** Parse every document of a multi-document YAML file of the repo, as parseYaml does one. */
export function parseAllYaml(file: string, text: string): Document[] {
  const docs = parseAllDocuments(text) as Document[];
  for (const doc of docs) checkDocument(file, text, doc);
  return docs;
}

function itemValue(item: unknown, matchKey?: string): unknown {
  if (matchKey && isMap(item)) {
    const v = item.get(matchKey, true);
    return isScalar(v) ? v.value : undefined;
  }
  return isScalar(item) ? item.value : undefined;
}

/** Sorted, and every item has a value to sort by (a patch without `path` has none). */
const isSorted = (values: unknown[]) =>
  values.every((v, i) => typeof v === "string" && (i === 0 || String(values[i - 1]) <= v));

const keyOf = (value: ListValue, matchKey?: string): unknown =>
  typeof value === "string" ? value : matchKey ? value[matchKey] : undefined;

/** Where a sorted list takes `wanted`; an unsorted one takes it at the end. */
function insertAt(values: unknown[], wanted: unknown): number {
  const strings = values.map(String);
  const sorted = isSorted(values);
  if (!sorted) return values.length;
  const idx = strings.findIndex((v) => v > String(wanted));
  return idx === -1 ? values.length : idx;
}

/** The file's line ending: what its first line ends with (CRLF files stay CRLF). */
export const lineEnding = (text: string) => (/^[^\n]*\r\n/.test(text) ? "\r\n" : "\n");

const lineStart = (text: string, at: number) => text.lastIndexOf("\n", at - 1) + 1;
function lineEnd(text: string, at: number): number {
  if (at > 0 && text[at - 1] === "\n") return at;
  const nl = text.indexOf("\n", at);
  return nl === -1 ? text.length : nl + 1;
}

/** A list item rendered as the lines a block list holds, indented like its neighbours. */
function itemLines(value: ListValue, indent: string, eol: string): string {
  const body = stringify([value], { lineWidth: 0 }).replace(/\n$/, "");
  return body
    .split("\n")
    .map((l) => indent + l + eol)
    .join("");
}

/** A list item as a flow list holds it (`../base/t`, `{path: t-patch.yaml}` or `{ path: ... }`). */
function flowItem(value: ListValue, padded: boolean): string {
  const doc = new Document([value]);
  (doc.contents as YAMLSeq).flow = true;
  return doc
    .toString({ lineWidth: 0, flowCollectionPadding: padded })
    .trim()
    .replace(/^\[\s*|\s*\]$/g, "");
}

interface TextEdit {
  at: number;
  remove: number;
  insert: string;
}

/** A list's items where the text has them: each item's own bytes, and its whole lines. */
interface Item {
  value: unknown;
  /** The item's own text (a flow item; for block items the same as its lines). */
  start: number;
  end: number;
  /** From the start of its first line to just past its last line's line break. */
  lineStart: number;
  lineEnd: number;
}

/** A list as the planner needs it, from the fast scanner or the full parser. */
interface Located {
  flow: boolean;
  /** What precedes an item on its line (a block item: up to its dash). */
  indent: string;
  items: Item[];
  /** A flow list's map items are written `{ a: b }` (else `{a: b}`). */
  padded?: boolean;
}

/** What an edit does to a list: which items go, and which new ones go before which kept item. */
interface Plan {
  removed: boolean[];
  kept: Item[];
  /** Kept item index (or -1: the end) -> the new items to put before it, in order. */
  inserts: Map<number, ListValue[]>;
}

/** Decide an edit on the items' values; undefined when nothing is kept but something is added. */
function plan(list: Located, edit: ListEdit): Plan | undefined {
  const removed = list.items.map((it) => edit.remove?.(it.value) === true);
  const kept = list.items.filter((_, i) => !removed[i]);
  const keptValues = kept.map((it) => it.value);
  const adds = (edit.add ?? []).filter(
    (v, i, all) =>
      !keptValues.includes(keyOf(v, edit.matchKey)) &&
      all.findIndex((w) => keyOf(w, edit.matchKey) === keyOf(v, edit.matchKey)) === i,
  );
  if (kept.length === 0 && adds.length > 0) return undefined;
  // Each new item goes before the first kept item it sorts before (sorted lists), else at the end.
  const strings = keptValues.map(String);
  const sorted = !edit.append && isSorted(keptValues);
  const inserts = new Map<number, ListValue[]>();
  for (const v of [...adds].sort((a, b) => (String(keyOf(a, edit.matchKey)) < String(keyOf(b, edit.matchKey)) ? -1 : 1))) {
    const anchor = sorted ? strings.findIndex((x) => x > String(keyOf(v, edit.matchKey))) : -1;
    inserts.set(anchor, [...(inserts.get(anchor) ?? []), v]);
  }
  return { removed, kept, inserts };
}

/** Whole lines out, whole lines in: a block list, or a flow list with one item per line. */
function planLines(text: string, list: Located, p: Plan, eol: string, out: TextEdit[]): void {
  list.items.forEach((it, i) => {
    if (p.removed[i]) out.push({ at: it.lineStart, remove: it.lineEnd - it.lineStart, insert: "" });
  });
  const line = (v: ListValue) => (list.flow ? `${list.indent}${flowItem(v, list.padded !== false)},${eol}` : itemLines(v, list.indent, eol));
  for (const [anchor, values] of p.inserts) {
    const lines = values.map(line).join("");
    if (anchor !== -1) {
      out.push({ at: p.kept[anchor]!.lineStart, remove: 0, insert: lines });
      continue;
    }
    const last = p.kept[p.kept.length - 1]!;
    // A flow list whose last item has no comma after it keeps that style: the comma goes on
    // the item that is no longer last, and the new last item has none.
    if (list.flow && !/^[ \t]*,/.test(text.slice(last.end, last.lineEnd))) {
      out.push({ at: last.end, remove: 0, insert: "," });
      out.push({ at: last.lineEnd, remove: 0, insert: lines.replace(new RegExp(`,${eol}$`), eol) });
    } else out.push({ at: last.lineEnd, remove: 0, insert: lines });
  }
}

/**
 * A flow list on one line (`resources: [a, b]`): items go with the separator that follows them
 * (the last one with the separator before it), and new items get the list's own separator.
 */
function planInline(text: string, list: Located, p: Plan, out: TextEdit[]): boolean {
  const items = list.items;
  const seps = items.slice(1).map((it, i) => text.slice(items[i]!.end, it.start));
  if (seps.some((sep) => sep.includes("#"))) return false;
  const sep = seps[0] ?? ", ";
  // The list as it will be: kept items with their own text, new ones rendered.
  const entries: Array<{ text: string; index?: number }> = [];
  const indexOf = new Map(items.map((it, i) => [it, i]));
  p.kept.forEach((it, k) => {
    for (const v of p.inserts.get(k) ?? []) entries.push({ text: flowItem(v, list.padded !== false) });
    entries.push({ text: text.slice(it.start, it.end), index: indexOf.get(it)! });
  });
  for (const v of p.inserts.get(-1) ?? []) entries.push({ text: flowItem(v, list.padded !== false) });
  // Between two entries: what followed the first in the file, else what preceded the second.
  const between = (a: { index?: number }, b: { index?: number }) =>
    (a.index !== undefined ? seps[a.index] : undefined) ?? (b.index !== undefined ? seps[b.index - 1] : undefined) ?? sep;
  const region = entries.map((e, i) => (i === 0 ? "" : between(entries[i - 1]!, e)) + e.text).join("");
  const first = items[0]!.start;
  const end = items[items.length - 1]!.end;
  if (region !== text.slice(first, end)) out.push({ at: first, remove: end - first, insert: region });
  return true;
}

/** Plan the edit of a located list as text edits; false when it needs the Document route. */
function planInPlace(text: string, list: Located, edit: ListEdit, eol: string, out: TextEdit[]): boolean {
  const p = plan(list, edit);
  if (!p) return false;
  if (list.flow) {
    const onePerLine = list.items.every(
      (it) => /^[ \t]*$/.test(text.slice(it.lineStart, it.start)) && /^[ \t]*,?[ \t]*(#.*)?\r?\n?$/.test(text.slice(it.end, it.lineEnd)),
    );
    if (!onePerLine) return planInline(text, list, p, out);
  } else if (p.kept.length === 0) return false; // an emptied block list: the Document route writes `[]`
  planLines(text, list, p, eol, out);
  return true;
}

/** Locate the non-empty list at `key` with the full parser; undefined when there is none. */
const keyPath = (key: string | string[]) => (Array.isArray(key) ? key : [key]);

function locateWithDocument(text: string, doc: Document, key: string | string[], matchKey?: string): Located | undefined {
  const seq = doc.getIn(keyPath(key), true);
  if (!isSeq(seq) || seq.items.length === 0) return undefined;
  const items = seq.items as Node[];
  if (items.some((it) => !it.range)) return undefined;
  const item = (it: Node): Item => ({
    value: itemValue(it, matchKey),
    start: it.range![0],
    end: it.range![1],
    lineStart: lineStart(text, it.range![0]),
    lineEnd: lineEnd(text, it.range![1]),
  });
  if (seq.flow) {
    const first = items[0]!.range![0];
    const map = items.find(isMap);
    const padded = map ? /^\{\s/.test(text.slice(map.range![0], map.range![1])) : true;
    return { flow: true, indent: text.slice(lineStart(text, first), first), items: items.map(item), padded };
  }
  const dash = text.lastIndexOf("-", items[0]!.range![0]);
  return {
    flow: false,
    indent: text.slice(lineStart(text, dash), dash),
    items: items.map((it) => {
      const located = item(it);
      return { ...located, start: located.lineStart, end: located.lineEnd };
    }),
  };
}

function locateScanned(lists: Map<string, ScannedList>, key: string | string[], matchKey?: string): Located | undefined {
  const path = keyPath(key);
  const list = path.length === 1 ? lists.get(path[0]!) : undefined;
  if (!list) return undefined;
  return {
    flow: false,
    indent: list.indent,
    items: list.items.map((it) => ({
      value: it.mapKey === matchKey ? it.value : undefined,
      start: it.start,
      end: it.end,
      lineStart: it.start,
      lineEnd: it.end,
    })),
  };
}

/** The Document API route, for lists that have no form to edit in place. */
function applyWithDocument(file: string, text: string, edits: ListEdit[], eol: string): string {
  const doc = parseYaml(file, text);
  let changed = false;
  for (const e of edits) {
    const path = keyPath(e.key);
    let seq = doc.getIn(path, true);
    if (!isSeq(seq)) {
      if (seq !== undefined && seq !== null && !(isScalar(seq) && seq.value === null))
        throw new ParseError(file, undefined, `'${path.join(".")}' is not a list`);
      if (!e.add?.length) continue;
      seq = new YAMLSeq();
      if (!isMap(doc.contents)) doc.contents = new YAMLMap() as never;
      doc.setIn(path, seq);
      changed = true;
    }
    const list = seq as YAMLSeq;
    const before = list.items.length;
    list.items = list.items.filter((it) => !e.remove?.(itemValue(it, e.matchKey)));
    changed ||= list.items.length !== before;
    for (const v of e.add ?? []) {
      const values = list.items.map((it) => itemValue(it, e.matchKey));
      if (values.includes(keyOf(v, e.matchKey))) continue;
      const at = e.append ? values.length : insertAt(values, keyOf(v, e.matchKey));
      list.items.splice(at, 0, doc.createNode(v));
      changed = true;
    }
    // kustomize refuses a kustomization with nothing but apiVersion and kind: keep `[]`.
    list.flow = list.items.length === 0;
  }
  if (!changed) return text;
  const indentSeq = !/^[^\s#-][^\n]*:[ \t]*\r?\n-[ \t]/m.test(text);
  return doc.toString({ lineWidth: 0, indentSeq }).replace(/\r?\n/g, eol);
}

/**
 * Apply list edits to a YAML file's text, keeping every other byte where it can: the file's
 * line endings, and a missing final newline stays missing.
 */
export function editLists(file: string, text: string, edits: ListEdit[]): string {
  const eol = lineEnding(text);
  const final = text === "" || text.endsWith("\n");
  // Edited as if it ended its last line, which is then taken back off.
  const work = final ? text : text + eol;
  const out = editWorking(file, work, edits, eol);
  return final || !out.endsWith(eol) ? out : out.slice(0, -eol.length);
}

function editWorking(file: string, text: string, edits: ListEdit[], eol: string): string {
  // The fast scanner proves simple files valid without a parse; anything else gets the parser.
  const top = scanTopLevel(text);
  const scanned = top?.lists;
  const doc = scanned ? undefined : parseYaml(file, text);
  const planned: TextEdit[] = [];
  // The scanner sees top-level lists only; a nested one needs the parser's positions.
  let parsed = doc;
  const rest = edits.filter((e) => {
    const nested = keyPath(e.key).length > 1;
    // Nothing to add to a list the file does not have (or leaves empty): nothing to parse for.
    if (top && !nested && !e.add?.length && !top.lists.has(keyPath(e.key)[0]!) && !top.scalars.has(keyPath(e.key)[0]!)) return false;
    if (nested) parsed ??= parseYaml(file, text);
    const list = scanned && !nested ? locateScanned(scanned, e.key, e.matchKey) : locateWithDocument(text, parsed!, e.key, e.matchKey);
    return !(list && planInPlace(text, list, e, eol, planned));
  });
  let out = text;
  // From the end backwards so offsets stay valid; at one offset, the removal before the insertion.
  for (const e of planned.sort((a, b) => b.at - a.at || b.remove - a.remove)) out = out.slice(0, e.at) + e.insert + out.slice(e.at + e.remove);
  return rest.length > 0 ? applyWithDocument(file, out, rest, eol) : out;
}

/** Plain values of the list at `key` (map items give their `matchKey`). */
export function listValues(file: string, text: string, key: string, matchKey?: string): unknown[] {
  const scanned = scanLists(text);
  if (scanned) return locateScanned(scanned, key, matchKey)?.items.map((it) => it.value) ?? [];
  const node = parseYaml(file, text).get(key, true);
  return isSeq(node) ? node.items.map((it) => itemValue(it, matchKey)) : [];
}

/** The new value in the old one's quoting: `"v1beta2"` becomes `"v1"`, a plain v1beta2 plain v1. */
function requote(source: string, oldValue: string, newValue: string): string {
  return source.includes(oldValue) ? source.replace(oldValue, newValue) : newValue;
}

/**
 * New values for scalars of a parsed text, each in its old quoting; every other byte of the text
 * is kept.
 */
export function replaceScalars(text: string, edits: Array<{ node: Scalar; value: string }>): string {
  let out = text;
  for (const { node, value } of [...edits].sort((a, b) => b.node.range![0] - a.node.range![0])) {
    const [start, end] = node.range!;
    out = out.slice(0, start) + requote(out.slice(start, end), String(node.value), value) + out.slice(end);
  }
  return out;
}

/** Set the scalar at `keyPath` in place: only its own bytes change. */
export function setScalar(file: string, text: string, keyPath: string[], value: string): string {
  const node = parseYaml(file, text).getIn(keyPath, true);
  if (!isScalar(node) || !node.range) throw new ParseError(file, undefined, `${keyPath.join(".")} is not a plain value`);
  if (node.value === value) return text;
  return text.slice(0, node.range[0]) + requote(text.slice(node.range[0], node.range[1]), String(node.value), value) + text.slice(node.range[1]);
}

/**
 * Rewrite `apiVersion` of every object whose kind has an entry in `versions` and whose group is
 * that entry's group, in place; any other byte of a multi-document file stays as it was.
 */
export function rewriteApiVersions(file: string, text: string, versions: Partial<Record<string, string>>): string {
  const edits: TextEdit[] = [];
  for (const doc of parseAllYaml(file, text)) {
    if (!isMap(doc.contents)) continue;
    const kind = doc.get("kind");
    const api = doc.get("apiVersion", true);
    if (typeof kind !== "string" || !isScalar(api) || typeof api.value !== "string" || !api.range) continue;
    const wanted = versions[kind];
    if (!wanted || api.value === wanted || api.value.split("/")[0] !== wanted.split("/")[0]) continue;
    const source = text.slice(api.range[0], api.range[1]);
    edits.push({ at: api.range[0], remove: source.length, insert: requote(source, api.value, wanted) });
  }
  let out = text;
  for (const e of edits.sort((a, b) => b.at - a.at)) out = out.slice(0, e.at) + e.insert + out.slice(e.at + e.remove);
  return out;
}

/**
 * Set a string at `keyPath` of a one-document file, creating the maps on the way, or with null
 * remove it and every map that removal leaves empty. Through the Document API: comments and the
 * rest of the file are kept.
 */
export function putValue(file: string, text: string, keyPath: string[], value: string | null): string {
  const doc = parseYaml(file, text);
  if (value !== null) {
    if (doc.getIn(keyPath) === value) return text;
    doc.setIn(keyPath, value);
  } else {
    if (!doc.hasIn(keyPath)) return text;
    doc.deleteIn(keyPath);
    for (let n = keyPath.length - 1; n > 0; n--) {
      const parent = doc.getIn(keyPath.slice(0, n), true);
      if (!isMap(parent) || parent.items.length > 0) break;
      doc.deleteIn(keyPath.slice(0, n));
    }
  }
  const out = doc.toString({ lineWidth: 0 });
  return lineEnding(text) === "\r\n" ? out.replace(/\r?\n/g, "\r\n") : out;
}

/** Which object of a multi-document file an edit is for: its kind and name, and its namespace when it is written. */
export interface ObjectMatch {
  kind: string;
  name: string;
  namespace?: string;
}

/** Deep equality of parsed YAML, map keys in any order (an added key goes first, not last). */
const sorted = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(sorted) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, x]) => [k, sorted(x)])) : v;
const sameJs = (a: unknown, b: unknown) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));

/**
 * Set a value at `keyPath` of one object of a multi-document file, as text: the new key goes in
 * as the first line of the deepest block map on the path that exists (with the maps still
 * missing written under it), so every other byte of the file, other objects and comments
 * included, stays as it was. The result is parsed again and must be the old file with exactly
 * that value added; an object in flow style, or a value already set to something else, is a
 * ParseError naming the object (fleet edits it only where it can prove the edit).
 */
export function putInObject(file: string, text: string, match: ObjectMatch, keyPath: string[], value: string | boolean, opts: { replace?: boolean } = {}): string {
  const docs = parseAllYaml(file, text);
  const show = `${match.kind} ${match.namespace ? `${match.namespace}/` : ""}${match.name}`;
  const meta = (d: Document) => d.toJS() as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
  // By kind and name; the namespace only tells two apart (an overlay's transformer may set it).
  let found = docs.filter((d) => meta(d)?.kind === match.kind && meta(d)?.metadata?.name === match.name);
  if (found.length > 1) found = found.filter((d) => meta(d)?.metadata?.namespace === match.namespace);
  if (found.length !== 1) throw new RepoContentError(`${file}: holds ${found.length === 0 ? "no" : `${found.length} documents for`} ${show}\n  fix: set the value by hand; fleet left the file unchanged`);
  const doc = found[0]!;
  const current = doc.getIn(keyPath);
  if (current === value) return text;
  if (current !== undefined) {
    // A plain value fleet is asked to replace (a FluxInstance's multitenant: false) changes in place, its own bytes only.
    const node = doc.getIn(keyPath, true);
    if (opts.replace && isScalar(node) && node.range && typeof current !== "object")
      return text.slice(0, node.range[0]) + stringify(value).trim() + text.slice(node.range[1]);
    throw new RepoContentError(`${file}: ${show} already sets ${keyPath.join(".")} to ${JSON.stringify(current)}; fleet changes only what is not set\n  fix: set it by hand`);
  }
  let depth = 0;
  while (depth < keyPath.length - 1 && isMap(doc.getIn(keyPath.slice(0, depth + 1), true))) depth++;
  const map = depth === 0 ? doc.contents : doc.getIn(keyPath.slice(0, depth), true);
  const first = isMap(map) ? (map.items[0]?.key as Node | undefined) : undefined;
  if (!isMap(map) || map.flow || !first?.range)
    throw new RepoContentError(`${file}: ${show}: ${keyPath.slice(0, depth).join(".") || "the object"} is not a block map fleet can add a line to (flow style)\n  fix: set the value by hand; fleet left the file unchanged`);
  const at = first.range[0];
  const col = at - lineStart(text, at);
  const eol = lineEnding(text);
  const pad = (n: number) => " ".repeat(col + 2 * n);
  const rest = keyPath.slice(depth);
  const lines = rest.map((k, i) => `${pad(i)}${stringify(k).trim()}:${i === rest.length - 1 ? ` ${stringify(value).trim()}` : ""}`);
  // Above the comment lines that belong to the first key, so they stay with it.
  let pos = lineStart(text, at);
  const ownLine = /^ *$/.test(text.slice(pos, at));
  while (ownLine && pos > 0) {
    const prev = lineStart(text, pos - 1);
    if (!/^\s*#/.test(text.slice(prev, pos))) break;
    pos = prev;
  }
  const out = ownLine ? `${text.slice(0, pos)}${lines.join(eol)}${eol}${text.slice(pos)}` : `${text.slice(0, at)}${lines.join(eol).trimStart()}${eol}${pad(0)}${text.slice(at)}`;
  // The proof of the edit: the file means what it meant, plus the value.
  const before = docs.map((d) => d.toJS());
  const after = parseAllYaml(file, out);
  const idx = docs.indexOf(doc);
  const want = structuredClone(before);
  let node = want[idx] as Record<string, unknown>;
  for (const k of keyPath.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
  node[keyPath.at(-1)!] = value;
  if (after.length !== docs.length || !after.every((d, i) => sameJs(d.toJS(), want[i])))
    throw new RepoContentError(`${file}: ${show}: adding ${keyPath.join(".")} as a line would change more than that value\n  fix: set the value by hand; fleet left the file unchanged`);
  return out;
}
