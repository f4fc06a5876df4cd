/**
 * `fleet --version` and `fleet --help` are what people (and scripts) run most; they must not
 * pay for generators, templates, prompts or YAML. A module-resolution hook records every module
 * the process loads.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, run, tmpDir } from "./helpers.js";

async function loadedModules(args: string[]): Promise<string[]> {
  const dir = tmpDir();
  const log = path.join(dir, "loaded.txt");
  const hooks = path.join(dir, "hooks.mjs");
  fs.writeFileSync(
    hooks,
    `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + "\\n");
  return r;
}\n`,
  );
  const register = path.join(dir, "register.mjs");
  fs.writeFileSync(register, `import { register } from "node:module";\nregister(${JSON.stringify(`file://${hooks}`)});\n`);
  const r = await run(process.execPath, ["--import", register, BIN, ...args]);
  expect(r.code, r.stderr).toBe(0);
  return fs.readFileSync(log, "utf8").trim().split("\n");
}

describe("start-up", () => {
  it.each([["--version"], ["--help"]])("fleet %s loads no generator, template, prompt or YAML code", async (flag) => {
    const loaded = await loadedModules([flag]);
    expect(loaded.some((u) => u.includes("/dist/src/cli/main.js"))).toBe(true);
    const heavy = loaded.filter((u) => /\/generators\/|node-plop|inquirer|handlebars|\/yaml\/|\/diff\/|execa/.test(u));
    expect(heavy).toEqual([]);
  });
});
