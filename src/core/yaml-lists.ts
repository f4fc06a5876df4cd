/**
 * A fast, strict reader for the shape nearly every kustomization.yaml has: top-level keys whose
 * values are plain scalars or block lists of plain scalars or one-key maps (`- path: x.yaml`),
 * with comments and blank lines anywhere. It finds list items and their byte offsets without
 * building a YAML document, which keeps edits cheap on overlays that list thousands of tenants.
 *
 * It only says yes to text it can prove is that shape. Anything else (nested maps, quotes, flow
 * collections, block scalars, anchors, tabs, duplicate keys) returns undefined, and the caller
 * takes the full YAML parser, which validates everything and reports errors with their line.
 */
export interface ScannedItem {
  /** The scalar, or for a one-key map item the value under that key. */
  value: string;
  /** The key of a one-key map item (`path`), or undefined for a scalar item. */
  mapKey?: string;
  /** Offset of the start of the item's line, and just past its newline. */
  start: number;
  end: number;
}

export interface ScannedList {
  indent: string;
  items: ScannedItem[];
}

// A plain scalar that cannot be mistaken for anything else: no indicator first, no ': ' or ' #'.
const PLAIN = String.raw`[A-Za-z0-9_.\/~][^\s#'"\`,\[\]{}]*?`;
const COMMENT = String.raw`(?:[ ]+#.*)?`;
const KEY = String.raw`[A-Za-z_][A-Za-z0-9_.\/-]*`;
const TOP_KEY = new RegExp(String.raw`^(${KEY}):(?:[ ]+(${PLAIN}))?${COMMENT}[ ]*$`);
const SEQ_ITEM = new RegExp(String.raw`^([ ]*)-[ ]+(?:(${KEY}):[ ]+)?(${PLAIN})${COMMENT}[ ]*$`);
const BLANK_OR_COMMENT = /^[ ]*(?:#.*)?$/;

export function scanLists(text: string): Map<string, ScannedList> | undefined {
  return scanTopLevel(text)?.lists;
}

/** The same reading, with the top-level keys whose value is one plain scalar (`namespace: apps`). */
export function scanTopLevel(text: string): { lists: Map<string, ScannedList>; scalars: Map<string, string> } | undefined {
  if (text.includes("\t") || text.includes("\r") || /^(---|\.\.\.|%)/m.test(text)) return undefined;
  const lists = new Map<string, ScannedList>();
  const scalars = new Map<string, string>();
  const keys = new Set<string>();
  let open: { key: string; list: ScannedList } | undefined;
  let offset = 0;
  for (const line of text.split("\n")) {
    const start = offset;
    offset += line.length + 1;
    const end = Math.min(offset, text.length);
    if (BLANK_OR_COMMENT.test(line)) continue;
    const top = TOP_KEY.exec(line);
    if (top) {
      const key = top[1]!;
      if (keys.has(key)) return undefined;
      keys.add(key);
      open = undefined;
      if (top[2] === undefined) {
        open = { key, list: { indent: "", items: [] } };
        lists.set(key, open.list);
      } else if (/:$/.test(top[2])) return undefined;
      else scalars.set(key, top[2]);
      continue;
    }
    const item = SEQ_ITEM.exec(line);
    if (!item || !open) return undefined;
    const [, indent, mapKey, value] = item;
    if (/:$/.test(value!)) return undefined;
    if (open.list.items.length === 0) open.list.indent = indent!;
    else if (indent !== open.list.indent) return undefined;
    open.list.items.push({ value: value!, ...(mapKey ? { mapKey } : {}), start, end });
  }
  // A key with nothing under it is null, not a list.
  for (const [key, list] of lists) if (list.items.length === 0) lists.delete(key);
  return { lists, scalars };
}
