/**
 * The documents of a YAML stream as plain data, read exactly as the `yaml` library reads them
 * (YAML 1.2, core schema, `toJS()`), but fast: kustomize's output of a thousand tenants is tens
 * of megabytes, and `yaml`'s parseAllDocuments, which builds a Document (nodes, ranges, comments)
 * before the data, took ten times as long as js-yaml on it. js-yaml reads here with the core
 * schema's scalar types redefined as `yaml` resolves them (no YAML 1.1 underscores, binary or
 * sexagesimal numbers), and the `yaml` library reads whatever js-yaml would read differently or
 * refuses: a stream with directives, tags, anchors or aliases (whose expansion `yaml` bounds), or
 * one js-yaml fails on (duplicate keys, which `yaml` reads with an error). Documents without
 * content read as null.
 */
import jsYaml from "js-yaml";
import { parseAllDocuments } from "yaml";

/**
 * `yaml`'s core schema (yaml/dist/schema/core): the same tests, in the same order, resolved the
 * same way. js-yaml keeps one implicit type per tag, so each tag's forms are tried in one type.
 */
const INT: Array<[RegExp, (s: string) => number]> = [
  [/^0o[0-7]+$/, (s) => parseInt(s.substring(2), 8)],
  [/^[-+]?[0-9]+$/, (s) => parseInt(s, 10)],
  [/^0x[0-9a-fA-F]+$/, (s) => parseInt(s.substring(2), 16)],
];
const FLOAT: Array<[RegExp, (s: string) => number]> = [
  [/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/, (s) => (s.slice(-3).toLowerCase() === "nan" ? NaN : s[0] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY)],
  [/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/, (s) => parseFloat(s)],
  [/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/, (s) => parseFloat(s)],
];
const forms = (tag: string, list: Array<[RegExp, (s: string) => unknown]>) =>
  new jsYaml.Type(`tag:yaml.org,2002:${tag}`, {
    kind: "scalar",
    resolve: (s: string | null) => list.some(([test]) => test.test(s ?? "")),
    construct: (s: string | null) => list.find(([test]) => test.test(s ?? ""))![1](s ?? ""),
  });
const CORE = jsYaml.FAILSAFE_SCHEMA.extend({
  implicit: [
    forms("null", [[/^(?:~|[Nn]ull|NULL)?$/, () => null]]),
    forms("bool", [[/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (s) => s[0] === "t" || s[0] === "T"]]),
    forms("int", INT),
    forms("float", FLOAT),
  ],
});

/** A directive, tag, anchor or alias may start here: js-yaml and `yaml` could differ, so `yaml` reads it. */
const SPECIAL = /^%|(?:^|[\s[{,:])[!&*]/m;

export function parseManifests(text: string): unknown[] {
  // What js-yaml refuses, `yaml` reads (or reports) as it always has.
  return readFast(text) ?? parseAllDocuments(text).map((d) => (d as { toJS(): unknown }).toJS());
}

/**
 * The documents as `yaml` would give them, when js-yaml alone can say so for sure; undefined for
 * anything the caller must hand to `yaml` (or its own stricter reader): directives, tags, anchors,
 * aliases, or what js-yaml refuses.
 */
export function readFast(text: string): unknown[] | undefined {
  return SPECIAL.test(text) ? undefined : parseSimple(text);
}

/** Documents of YAML without directives, tags, anchors or aliases, by js-yaml alone; undefined where it refuses them (duplicate keys, bad indentation). */
export function parseSimple(text: string): unknown[] | undefined {
  try {
    return jsYaml.loadAll(text, undefined, { schema: CORE }).map((d) => (d === undefined ? null : d));
  } catch {
    return undefined;
  }
}
