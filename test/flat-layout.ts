/**
 * A repo in the seed's flat layout, for tests of commands that must keep working on it and of
 * behaviour written against it: a fresh demo repo turned flat by the benchmark's own toFlat (each
 * overlay lists `../base/<t>`, `<t>-quota.yaml` and the patch `<t>-patch.yaml`, sorted).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { toFlat } from "../bench/fleet-builder.js";
import { initRepo } from "./helpers.js";

export async function flatRepo(extra: string[] = []): Promise<string> {
  const repo = await initRepo(extra);
  await toFlat(repo, fs.readdirSync(path.join(repo, "tenants")).filter((d) => d !== "base"));
  return repo;
}
