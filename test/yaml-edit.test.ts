/** Editing lists in YAML people wrote: only the items change, every other byte stays. */
import { describe, expect, it } from "vitest";
import { ParseError } from "../src/core/errors.js";
import { editLists } from "../src/core/yaml-edit.js";

const add = (text: string, ...values: string[]) => editLists("k.yaml", text, [{ key: "resources", add: values }]);
const remove = (text: string, ...values: string[]) =>
  editLists("k.yaml", text, [{ key: "resources", remove: (v) => values.includes(v as string) }]);

describe("editing a list in place", () => {
  it("adds to a sorted list in sorted place, indented like its neighbours", () => {
    expect(add("resources:\n    - a\n    - c\n", "b")).toBe("resources:\n    - a\n    - b\n    - c\n");
    expect(add("resources:\n- a\n- c\n", "d", "b")).toBe("resources:\n- a\n- b\n- c\n- d\n");
  });

  it("never adds an item twice", () => {
    const text = "resources:\n  - a # mine\n";
    expect(add(text, "a")).toBe(text);
    expect(add(text, "b", "b")).toBe("resources:\n  - a # mine\n  - b\n");
  });

  it("keeps comments on and between items where they are", () => {
    const text = "resources:\n  # platform\n  - a   # first\n  - c\n# end\n";
    expect(add(text, "b")).toBe("resources:\n  # platform\n  - a   # first\n  - b\n  - c\n# end\n");
    expect(remove(text, "a")).toBe("resources:\n  # platform\n  - c\n# end\n");
  });

  it("adds after the last item of a file with no final newline, which still has none", () => {
    expect(add("resources:\n  - a", "b")).toBe("resources:\n  - a\n  - b");
    expect(remove("resources:\n  - a\n  - b", "b")).toBe("resources:\n  - a");
    expect(remove("resources:\n  - a\n  - b\n# end", "b")).toBe("resources:\n  - a\n# end");
  });

  it("keeps a CRLF file CRLF: new lines take its line ending, no other byte changes", () => {
    expect(add("resources:\r\n  - a # x\r\n  - c\r\n", "b", "d")).toBe("resources:\r\n  - a # x\r\n  - b\r\n  - c\r\n  - d\r\n");
    expect(remove("kind: K\r\nresources:\r\n  - a\r\n  - b\r\n", "a")).toBe("kind: K\r\nresources:\r\n  - b\r\n");
    // The Document route (a list to create) writes CRLF too.
    expect(add("kind: K\r\n", "a")).toBe("kind: K\r\nresources:\r\n  - a\r\n");
  });

  it("matches list items that are maps by their key field", () => {
    const text = "patches:\n  - path: a.yaml\n  - target:\n      kind: Deployment\n    patch: |-\n      - op: add\n";
    const out = editLists("k.yaml", text, [{ key: "patches", add: [{ path: "b.yaml" }], matchKey: "path" }]);
    expect(out).toBe("patches:\n  - path: a.yaml\n  - target:\n      kind: Deployment\n    patch: |-\n      - op: add\n  - path: b.yaml\n");
    expect(editLists("k.yaml", out, [{ key: "patches", remove: (v) => v === "b.yaml", matchKey: "path" }])).toBe(text);
  });

  it("turns a missing or empty list into a block list, and keeps an emptied one as []", () => {
    expect(add("kind: Kustomization\n", "a")).toBe("kind: Kustomization\nresources:\n  - a\n");
    expect(add("resources: []\n", "a")).toBe("resources:\n  - a\n");
    expect(remove("kind: K # c\nresources:\n  - a\n", "a")).toBe("kind: K # c\nresources: []\n");
  });

  it("refuses YAML whose aliases cannot be resolved (an alias bomb, an unknown anchor), naming the file and line", () => {
    const bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\nresources: [y]\n";
    expect(() => add(bomb, "z")).toThrow(/^k\.yaml:2: does not parse as YAML: Excessive alias count/);
    expect(() => add("resources: [*nowhere]\n", "z")).toThrow(/^k\.yaml:1: does not parse as YAML: Unresolved alias/);
  });

  it("refuses YAML that does not parse, naming the file and line", () => {
    expect(() => add("a: b\nresources: [x\n", "y")).toThrow(ParseError);
    expect(() => add("a: b\n  c: d\n", "y")).toThrow(/^k\.yaml:\d+: does not parse as YAML/);
  });
});

describe("flow-style lists are edited inside their brackets", () => {
  it("adds in sorted place and at the end, in the list's own spacing, keeping the rest of the line", () => {
    expect(add("resources: [a, c] # mine\nkind: K\n", "b", "d")).toBe("resources: [a, b, c, d] # mine\nkind: K\n");
    expect(add("resources: [ a,c ]\n", "b")).toBe("resources: [ a,b,c ]\n");
    expect(add("resources: ['a', \"c\"]\n", "b")).toBe("resources: ['a', b, \"c\"]\n");
  });

  it("removes an item with its separator; emptied, it is []", () => {
    expect(remove("resources: [a, b, c]\n", "b")).toBe("resources: [a, c]\n");
    expect(remove("resources: [a, b, c]\n", "b", "c")).toBe("resources: [a]\n");
    expect(remove("resources: [a, b, c]\n", "a", "b", "c")).toBe("resources: []\n");
  });

  it("a list with one item per line takes and loses whole lines, comments staying with their items", () => {
    const trailing = "resources: [\n  a, # one\n  c, # three\n]\n";
    expect(add(trailing, "b", "d")).toBe("resources: [\n  a, # one\n  b,\n  c, # three\n  d,\n]\n");
    const bare = "resources: [\n  a, # one\n  c # three\n]\n";
    expect(add(bare, "d")).toBe("resources: [\n  a, # one\n  c, # three\n  d\n]\n");
    expect(remove(bare, "c")).toBe("resources: [\n  a, # one\n]\n");
  });

  it("items that are maps are written as their neighbours are", () => {
    const text = "patches: [{path: a.yaml}, {path: c.yaml}]\n";
    const edit = (e: Partial<Parameters<typeof editLists>[2][number]>) => editLists("k.yaml", text, [{ key: "patches", matchKey: "path", ...e }]);
    expect(edit({ add: [{ path: "b.yaml" }] })).toBe("patches: [{path: a.yaml}, {path: b.yaml}, {path: c.yaml}]\n");
    expect(edit({ remove: (v) => v === "a.yaml" })).toBe("patches: [{path: c.yaml}]\n");
  });
});

describe("the fast path and the parser agree", () => {
  // Each text is edited once as written (simple: the fast scanner) and once with a harmless
  // construct the scanner does not take (a quoted scalar elsewhere), forcing the parser.
  const cases: Array<[string, string, (t: string) => string]> = [
    ["sorted add", "resources:\n  - ../base/a\n  - ../base/c\npatches:\n  - path: a-patch.yaml\n", (t) => editLists("k", t, [
      { key: "resources", add: ["../base/b", "b-quota.yaml"] },
      { key: "patches", add: [{ path: "b-patch.yaml" }], matchKey: "path" },
    ])],
    ["remove with comments", "resources:\n# keep\n- a # one\n- b\n- c\n", (t) => editLists("k", t, [{ key: "resources", remove: (v) => v === "b" }])],
  ];
  it.each(cases)("%s", (_name, text, edit) => {
    const slow = `${text}note: "quoted"\n`;
    expect(edit(slow)).toBe(`${edit(text)}note: "quoted"\n`);
  });

  it("a file the scanner does not accept is still validated by the parser", () => {
    expect(() => add("resources:\n  - a\n\tbad: tab\n", "b")).toThrow(ParseError);
    expect(() => add("resources:\n  - a\nresources:\n  - b\n", "c")).toThrow(/k\.yaml:\d+/);
  });
});
