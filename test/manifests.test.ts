/** The fast manifest reader (src/core/manifests.ts) that validate and the repo model share: the yaml library's answer, or none. */
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { renderYaml } from "../src/core/render.js";
import { parseManifests, readFast } from "../src/core/manifests.js";

const api = { Kustomization: "kustomize.toolkit.fluxcd.io/v1" };
const library = (text: string) => parseAllDocuments(text).map((d) => d.toJS());

describe("the fast manifest reader", () => {
  it("reads a unit file fleet writes by itself, exactly as the yaml library does", () => {
    const text = renderYaml("tenant/unit.yaml", { name: "team-x", env: "prod", api });
    expect(readFast(text)).toEqual(library(text));
  });

  // Each either reads as the library reads it or is left to the library.
  const texts = [
    "a: 1\nb: true\nc: ~\nd: 012\ne: 10m\nf: 1_000\ng: 1:2\nh: http://x/y",
    "a: 1e3", "a: 0x1F", "a: 0o17", "a: .inf", "a: -1", "a: 12345678901234567890", "a: 'q'", "a: [x]", "a: &x y\nb: *x", "a: !!str 1", "a: |\n  x",
    "resources:\n- a\nkind: K", "a:\n  b:\n    - c: d\n      e: f\n    - g\n  h: i", "a:\nb: c",
    "a:\n  -   b: 1\n      c: 2", "a: b\na: c", "true: 1", "__proto__: 1", "a:\n   b: 1\n  c: 2",
    "# c\na: x # c\n  # c\nb: y\n", "---\na: 1", "a: 1\n---\nb: 2", "- a", "key:value", "a: b:", "%YAML 1.2\n---\na: 1",
  ];
  it.each(texts)("%j", (text) => {
    const fast = readFast(text);
    if (fast !== undefined) expect(fast).toEqual(library(text));
    expect(parseManifests(text)).toEqual(library(text));
  });
});
