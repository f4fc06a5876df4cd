/**
 * A fast, strict reader for the shape of every manifest fleet writes: one document of block
 * mappings and block sequences whose leaves are plain scalars, with comments and blank lines
 * anywhere. The repo model reads a thousand unit files a run; the full YAML parser costs a
 * millisecond or more each, this a few microseconds.
 *
 * Like yaml-lists.ts it only says yes to text it can prove is that shape, and then gives what
 * the yaml library's toJS() gives under the core schema; anything else (quotes, flow
 * collections, block scalars, anchors, tags, tabs, several documents, duplicate keys, numbers
 * other than plain decimals) returns undefined, and the caller takes the full parser.
 */

type Value = string | number | boolean | null | Value[] | { [k: string]: Value };

// The same plain scalars and keys as yaml-lists.ts: nothing that could be read as anything else.
const PLAIN = String.raw`[A-Za-z0-9_.\/~][^\s#'"\`,\[\]{}]*?`;
const KEY = String.raw`[A-Za-z_][A-Za-z0-9_.\/-]*`;
const COMMENT = String.raw`(?:[ ]+#.*)?`;
/** `key:`, `key: value`, `- value`, `- key:` and `- key: value`, each with its indentation. */
const LINE = new RegExp(String.raw`^([ ]*)(-[ ]+)?(?:(${KEY}):(?:[ ]+(${PLAIN}))?|(${PLAIN}))${COMMENT}[ ]*$`);
const BLANK_OR_COMMENT = /^[ ]*(?:#.*)?$/;

/** A plain scalar under the core schema; undefined for the forms this reader leaves to the parser. */
function scalar(s: string): Value | undefined {
  if (/^(?:null|Null|NULL|~)$/.test(s)) return null;
  if (/^(?:true|True|TRUE)$/.test(s)) return true;
  if (/^(?:false|False|FALSE)$/.test(s)) return false;
  if (/^[0-9]+$/.test(s)) return s.length > 15 ? undefined : Number(s);
  // Signed, octal, hex, float, infinity, NaN: the parser's.
  if (/^[-+.0-9]/.test(s) && /^[-+]?(?:0o[0-7]+|0x[0-9a-fA-F]+|\.(?:inf|Inf|INF|nan|NaN|NAN)|(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)$/.test(s)) return undefined;
  if (s.endsWith(":")) return undefined;
  return s;
}

interface Frame {
  indent: number;
  value: Value[] | { [k: string]: Value };
  /** In a mapping, the key waiting for a nested value (`key:` with nothing after it). */
  open?: string;
}

export function scanBlock(text: string): { [k: string]: Value } | undefined {
  if (text.includes("\t") || text.includes("\r") || /^(?:---|\.\.\.|%)/m.test(text)) return undefined;
  const root: { [k: string]: Value } = {};
  const stack: Frame[] = [];
  const set = (f: Frame, key: string, v: Value): boolean => {
    const m = f.value as { [k: string]: Value };
    if (Object.prototype.hasOwnProperty.call(m, key) || scalar(key) !== key || key === "__proto__") return false;
    m[key] = v;
    return true;
  };
  for (const line of text.split("\n")) {
    if (BLANK_OR_COMMENT.test(line)) continue;
    const m = LINE.exec(line);
    if (!m) return undefined;
    const [, spaces, dash, key, value, item] = m;
    const indent = spaces!.length;
    // The line's own column: an item's content starts after its dash.
    const inner = dash ? indent + dash.length : indent;
    if (stack.length === 0) {
      if (indent !== 0 || dash) return undefined;
      stack.push({ indent: 0, value: root });
    }
    // Close what this line is left of; a key left open then holds null.
    while (stack.length > 1 && stack[stack.length - 1]!.indent > indent) {
      const f = stack.pop()!;
      if (f.open !== undefined) (f.value as { [k: string]: Value })[f.open] = null;
    }
    let top = stack[stack.length - 1]!;
    if (top.open !== undefined) {
      // The open key's value: a sequence may start at its key's column, a mapping only to the right.
      if (dash ? indent < top.indent : indent <= top.indent) {
        (top.value as { [k: string]: Value })[top.open] = null;
        top.open = undefined;
      } else {
        const key = top.open;
        top.open = undefined;
        const child: Frame = { indent, value: dash ? [] : {} };
        (top.value as { [k: string]: Value })[key] = child.value;
        stack.push(child);
        top = child;
      }
    }
    if (top.indent !== indent || Array.isArray(top.value) !== Boolean(dash)) return undefined;
    if (dash) {
      const seq = top.value as Value[];
      if (item !== undefined) {
        const v = scalar(item);
        if (v === undefined) return undefined;
        seq.push(v);
        continue;
      }
      // `- key: ...`: a mapping whose keys sit at the column after the dash.
      const map: { [k: string]: Value } = {};
      seq.push(map);
      const f: Frame = { indent: inner, value: map };
      stack.push(f);
      if (value === undefined) f.open = key!;
      else {
        const v = scalar(value);
        if (v === undefined || !set(f, key!, v)) return undefined;
      }
      continue;
    }
    if (key === undefined) return undefined;
    if (value === undefined) {
      if (!set(top, key, null)) return undefined;
      top.open = key;
    } else {
      const v = scalar(value);
      if (v === undefined || !set(top, key, v)) return undefined;
    }
  }
  for (const f of stack) if (f.open !== undefined) (f.value as { [k: string]: Value })[f.open] = null;
  return stack.length ? root : undefined;
}
