/** The fast manifest reader the repo model uses on a thousand unit files: the yaml library's answer, or none. */
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { renderYaml } from "../src/core/render.js";
import { scanBlock } from "../src/core/yaml-block.js";

const api = { Kustomization: "kustomize.toolkit.fluxcd.io/v1" };

describe("the fast manifest reader", () => {
  it("reads a unit file fleet writes exactly as the yaml library does", () => {
    const text = renderYaml("tenant/unit.yaml", { name: "team-x", env: "prod", api });
    const fast = scanBlock(text);
    expect(fast).toBeDefined();
    expect(fast).toEqual(parseAllDocuments(text)[0]!.toJS());
  });

  // Each either reads as the library reads it or is left to the library.
  const texts = [
    "a: 1\nb: true\nc: ~\nd: 012\ne: 10m\nf: 1_000\ng: 1:2\nh: http://x/y",
    "a: 1e3", "a: 0x1F", "a: .inf", "a: -1", "a: 12345678901234567890", "a: 'q'", "a: [x]", "a: &x y", "a: |\n  x",
    "resources:\n- a\nkind: K", "a:\n  b:\n    - c: d\n      e: f\n    - g\n  h: i", "a:\nb: c",
    "a:\n  -   b: 1\n      c: 2", "a: b\na: c", "true: 1", "__proto__: 1", "a:\n   b: 1\n  c: 2", "a:\n  b: 1\n c: 2",
    "# c\na: x # c\n  # c\nb: y\n", "---\na: 1", "a: 1\n---\nb: 2", "- a", "key:value", "a:\tb", "a: b:", "",
  ];
  it.each(texts)("%j", (text) => {
    const fast = scanBlock(text);
    if (fast === undefined) return;
    const docs = parseAllDocuments(text);
    expect(docs).toHaveLength(1);
    expect(docs[0]!.errors).toEqual([]);
    expect(fast).toEqual(docs[0]!.toJS());
  });
});
