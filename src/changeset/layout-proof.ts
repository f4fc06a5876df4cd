/**
 * The proof of a layout move (fleet migrate-layout): what each environment's tenant overlay
 * applies, followed through the per-tenant units it lists, is built with the real
 * `kubectl kustomize` as the repo is on disk and as it would be, and must be the same objects,
 * byte for byte, except the unit Kustomizations the move adds.
 *
 * Why per environment is per cluster: a cluster applies `tenants/<env>` through one Flux
 * Kustomization, and each unit applies its directory with the same service account, source and
 * postBuild substitution (src/model/layout.ts refuses an overlay whose cluster Kustomization
 * sets anything else that changes objects), so equal builds give equal objects on every cluster.
 *
 * The per-overlay proof (proof.ts) does not fit a move: there, a changed tenant's objects must
 * stay in the overlay that had them; here they leave it for the units.
 */
import { stringify } from "yaml";
import { ProofError, ToolError } from "../core/errors.js";
import { fluxPath } from "../model/flux-path.js";
import { isFluxKustomization, ref, type K8sObject } from "../model/objects.js";
import type { Builder } from "../validate/build.js";
import type { ChangeSet } from "./changeset.js";
import type { ProofOptions } from "./proof.js";
import { withShadowTree } from "./shadow-tree.js";

/** What one environment applies: the objects, and the unit Kustomizations it went through. */
interface Applied {
  objects: Array<{ key: string; text: string; from: string }>;
  units: string[];
}

const SHOWN = 8;
const canonical = (o: K8sObject) => stringify(o, { sortMapEntries: true });
const isUnit = (o: K8sObject, env: string) =>
  isFluxKustomization(o) && o.metadata?.namespace === "flux-system" && (fluxPath(o.spec?.path).path ?? "").startsWith(`tenants/${env}/`);

/** Build the overlay and every unit it lists, as Flux would follow them. */
async function applied(builder: Builder, root: string, env: string): Promise<Applied> {
  const dir = `tenants/${env}`;
  const out: Applied = { objects: [], units: [] };
  const top = await builder.build({ root, path: dir });
  const units = top.filter((b) => isUnit(b.obj, env));
  for (const b of top) if (!isUnit(b.obj, env)) out.objects.push({ key: ref(b.obj), text: canonical(b.obj), from: b.file });
  // The units build side by side: the Builder keeps to one kubectl per core.
  const built = await Promise.all(units.map((u) => builder.build({ root, path: fluxPath(u.obj.spec?.path).path! })));
  for (const list of built) for (const b of list) out.objects.push({ key: ref(b.obj), text: canonical(b.obj), from: b.file });
  out.units = units.map((u) => ref(u.obj));
  return out;
}

/** What kustomize said went wrong, without its warnings. */
function kustomizeSaid(e: unknown): string {
  const text = (e instanceof Error ? e.message : String(e))
    .split("\n")
    .map((l) => l.replace(/^# Warning:.*?(Automatically\.|automatically\.)\s*/i, "").trim())
    .filter((l) => l !== "" && !l.startsWith("# Warning"))
    .join(" ");
  return text.length > 400 ? `${text.slice(0, 400)}...` : text;
}

/** Multiset difference of two builds, as sentences naming the objects. */
function compare(env: string, before: Applied, after: Applied): string[] {
  const left = new Map<string, number>();
  for (const o of before.objects) left.set(o.text, (left.get(o.text) ?? 0) + 1);
  const out: string[] = [];
  for (const o of after.objects) {
    const n = left.get(o.text) ?? 0;
    if (n > 0) left.set(o.text, n - 1);
    else out.push(`${o.key} (${o.from}) would ${before.objects.some((b) => b.key === o.key) ? "change" : "appear"}`);
  }
  for (const o of before.objects)
    if ((left.get(o.text) ?? 0) > 0) {
      left.set(o.text, left.get(o.text)! - 1);
      if (!after.objects.some((a) => a.key === o.key)) out.push(`${o.key} (${o.from}) would no longer be applied`);
    }
  return out.map((o) => `tenants/${env}: ${o}`);
}

/**
 * Prove that moving the tenants of these environments into units changes no object they apply.
 * `expected`: per environment, the unit Kustomizations (kind/namespace/name) the move adds.
 * Returns the number of objects compared per environment; throws ProofError (nothing is written)
 * naming each object that would differ, or ToolError when kubectl is missing or too slow.
 */
export async function proveLayoutMove(cs: ChangeSet, expected: Map<string, string[]>, opts: ProofOptions = {}): Promise<Map<string, number>> {
  const build = await import("../validate/build.js");
  opts.progress?.(`proving: building ${[...expected.keys()].map((e) => `tenants/${e}`).join(", ")} with their units, before and after the move (kubectl kustomize) ...`);
  const builder = new build.Builder(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs });
  return withShadowTree(cs, "layout-proof", async (dir) => {
    const problems: string[] = [];
    const counts = new Map<string, number>();
    for (const [env, units] of expected) {
      const outcome = (root: string) => applied(builder, root, env).catch((e: unknown) => {
        if (e instanceof build.KubectlMissing)
          throw new ToolError("kubectl is not installed or not on PATH; fleet proves the move by building every overlay and unit with kubectl kustomize, and wrote nothing\n  fix: install kubectl (it includes kustomize)");
        if (e instanceof build.BuildTimeout) throw new ToolError(`tenants/${env}: ${e.message}; nothing was written\n  fix: run again with a longer --timeout`);
        return kustomizeSaid(e);
      });
      const [before, after] = await Promise.all([outcome(cs.root), outcome(dir)]);
      if (typeof before === "string") {
        problems.push(`tenants/${env} does not build as it is on disk, so there is nothing to compare with: ${before}`);
        continue;
      }
      if (typeof after === "string") {
        problems.push(`tenants/${env} or one of its units would not build after the move (an entry the overlay keeps may need what moves out): ${after}`);
        continue;
      }
      problems.push(...compare(env, before, after));
      const added = after.units.filter((u) => !before.units.includes(u)).sort();
      const want = [...units].sort();
      if (JSON.stringify(added) !== JSON.stringify(want))
        problems.push(`tenants/${env}: the move would add the units ${added.join(", ") || "(none)"}, not ${want.join(", ")}`);
      counts.set(env, after.objects.length);
    }
    if (problems.length)
      throw new ProofError(
        `the move to per-tenant units fails its proof (each environment built with its units, before and after), so nothing was written:\n  - ${[
          ...problems.slice(0, SHOWN),
          ...(problems.length > SHOWN ? [`and ${problems.length - SHOWN} more`] : []),
        ].join("\n  - ")}\n  fix: give each tenant's objects only entries of its own (split a patch shared by tenants into their own patches), ` +
          "or leave that environment flat (--env names the others), then run again",
      );
    return counts;
  });
}
