/**
 * The custom plop action types. Each stages its change into the change set instead of writing
 * to disk, which is what makes dry-run, idempotency and the atomic apply one mechanism.
 */
import type { NodePlopAPI } from "node-plop";
import type { ChangeSet } from "../changeset/changeset.js";
import type { FleetAction } from "./generator.js";
import { renderText, renderYaml } from "./render.js";
import { markSetters } from "./image-setters.js";
import { isolateOverlay, mergeIsolated } from "./isolate-overlay.js";
import { editLists, lineEnding, parseAllYaml, putInObject, putValue, rewriteApiVersions, setScalar } from "./yaml-edit.js";

const KUSTOMIZATION_HEADER = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n";

type Handler<T extends FleetAction["type"]> = (cs: ChangeSet, action: Extract<FleetAction, { type: T }>) => void;

/**
 * A patch list this edit emptied goes: new-tenant may have created it in an overlay that had
 * none, and remove-tenant then gives the overlay back as it was. (An empty `resources: []` stays:
 * kustomize refuses a kustomization with nothing in it.) One the file already had empty stays.
 */
function dropEmptiedPatches(before: string, after: string): string {
  let out = after;
  for (const key of ["patches", "patchesStrategicMerge"]) {
    const empty = new RegExp(`^${key}: \\[\\][ \\t]*(\\r?\\n|$)`, "m");
    if (empty.test(out) && !empty.test(before)) out = out.replace(empty, "");
  }
  return out;
}

const handlers: { [T in FleetAction["type"]]: Handler<T> } = {
  "fleet:render": (cs, a) => {
    if (a.ifMissing && cs.exists(a.path)) return;
    const yaml = /\.ya?ml$/.test(a.path);
    const text = yaml ? renderYaml(a.template, a.data, cs) : renderText(a.template, a.data, cs);
    cs.write(a.path, text);
  },

  /** Create the kustomization if missing, else edit its lists in place keeping everything else. */
  "fleet:kustomization": (cs, a) => {
    const current = cs.read(a.path);
    const text = editLists(a.path, current ?? KUSTOMIZATION_HEADER, [
      { key: "resources", add: a.addResources ?? [], remove: (v) => (a.removeResources ?? []).includes(v as string) },
      { key: "patches", add: (a.addPatches ?? []).map((p) => ({ path: p })), remove: (v) => (a.removePatches ?? []).includes(v as string), matchKey: "path" },
      ...(a.removeStrategicMerge?.length ? [{ key: "patchesStrategicMerge", remove: (v: unknown) => a.removeStrategicMerge!.includes(v as string) }] : []),
    ]);
    if (current === undefined) cs.write(a.path, /\nresources:/.test(text) ? text : `${text}resources: []\n`);
    else if (text !== current) cs.write(a.path, dropEmptiedPatches(current, text), { overwrite: true });
  },

  /**
   * Keep one line per key in a line-oriented file (CODEOWNERS): replace the line whose first
   * field is `key`, add it in sorted place among keyed lines, or remove it when `line` is absent.
   * Every other line keeps its bytes: its line ending (a new line takes the file's), and a last
   * line without a line break stays without one.
   */
  "fleet:line": (cs, a) => {
    const text = cs.read(a.path) ?? "";
    const eol = lineEnding(text);
    const lines = (text.match(/[^\n]*\n|[^\n]+$/g) ?? []).map((chunk) => {
      const body = chunk.replace(/\r?\n$/, "");
      return { body, end: chunk.slice(body.length) };
    });
    const keyOf = (l: string) => (l.trim().startsWith("#") ? undefined : l.trim().split(/\s+/)[0]);
    const at = lines.findIndex((l) => keyOf(l.body) === a.key);
    if (a.line === undefined) {
      if (at === -1) return;
      const [gone] = lines.splice(at, 1);
      // The last line went: the one before it is last now, and ends as the file's last did.
      if (at === lines.length && at > 0) lines[at - 1]!.end = gone!.end;
    } else if (at !== -1) lines[at]!.body = a.line;
    else {
      const after = lines.findIndex((l) => {
        const k = keyOf(l.body);
        return k !== undefined && k !== "*" && k > a.key;
      });
      const last = lines[lines.length - 1];
      if (after !== -1) lines.splice(after, 0, { body: a.line, end: eol });
      else if (last && last.end === "") {
        last.end = eol;
        lines.push({ body: a.line, end: "" });
      } else lines.push({ body: a.line, end: eol });
    }
    const out = lines.map((l) => l.body + l.end).join("");
    if (out !== text) cs.write(a.path, out, { overwrite: true });
  },

  "fleet:isolate-overlay": (cs, a) => isolateOverlay(cs, a.path, a.into),

  "fleet:merge-isolated": (cs, a) => mergeIsolated(cs, a.path, a.into),

  "fleet:delete": (cs, a) => {
    if (cs.exists(a.path)) cs.delete(a.path);
    else cs.deleteTree(a.path);
  },

  "fleet:remove-documents": (cs, a) => {
    const original = cs.read(a.path);
    if (original === undefined) return;
    // Documents as the file spells them (separators, comments), so the ones kept keep their bytes.
    const chunks = original.split(/^(?=---[ \t]*(?:#.*)?\r?$)/m);
    const kept = chunks.filter((chunk) => {
      const body = chunk.replace(/^---[^\n]*\n?/, "");
      const [doc] = parseAllYaml(a.path, body);
      const api = doc?.get("apiVersion");
      return !(typeof api === "string" && api.includes("/") && api.split("/")[0]!.endsWith(a.groupSuffix));
    });
    if (kept.length === chunks.length) return;
    const objects = kept.filter((c) => parseAllYaml(a.path, c.replace(/^---[^\n]*\n?/, "")).some((d) => d.contents !== null));
    if (objects.length === 0) cs.delete(a.path);
    else cs.write(a.path, kept.join("").replace(/^---[^\n]*\r?\n/, (m) => (chunks[0]!.startsWith("---") ? m : "")), { overwrite: true });
  },

  "fleet:yaml-list-add": (cs, a) => {
    const original = cs.read(a.path);
    if (original === undefined) throw new Error(`${a.path} is missing`);
    const text = editLists(a.path, original, [{ key: a.key, add: [a.value], ...(a.matchKey ? { matchKey: a.matchKey } : {}), append: true }]);
    if (text !== original) cs.write(a.path, text, { overwrite: true });
  },

  "fleet:image-setters": (cs, a) => {
    for (const file of cs.walk(a.dir).filter((f) => /\.ya?ml$/.test(f))) {
      const original = cs.read(file)!;
      if (!original.includes(a.image)) continue;
      const { text } = markSetters(original, a.image, a.policy);
      if (text !== original) cs.write(file, text, { overwrite: true });
    }
  },

  "fleet:move": (cs, a) => {
    const text = cs.read(a.path);
    if (text === undefined) return;
    cs.write(a.to, text);
    cs.delete(a.path);
  },

  "fleet:yaml-put": (cs, a) => {
    const original = cs.read(a.path);
    if (original === undefined) throw new Error(`${a.path} is missing`);
    const text = putValue(a.path, original, a.keyPath, a.value);
    if (text !== original) cs.write(a.path, text, { overwrite: true });
  },

  "fleet:object-put": (cs, a) => {
    const original = cs.read(a.path);
    if (original === undefined) throw new Error(`${a.path} is missing`);
    const text = putInObject(a.path, original, a.match, a.keyPath, a.value, { replace: a.replace === true });
    if (text !== original) cs.write(a.path, text, { overwrite: true });
  },

  "fleet:yaml-set": (cs, a) => {
    const original = cs.read(a.path);
    if (original === undefined) throw new Error(`${a.path} is missing`);
    const text = setScalar(a.path, original, a.keyPath, a.value);
    if (text !== original) cs.write(a.path, text, { overwrite: true });
  },

  "fleet:replace": (cs, a) => {
    const original = cs.read(a.path);
    if (original === undefined) return;
    const text = original.replace(new RegExp(a.pattern, "g"), a.replacement);
    if (text !== original) cs.write(a.path, text, { overwrite: true });
  },

  "fleet:api-versions": (cs, a) => {
    const original = cs.read(a.path);
    if (original === undefined) return;
    const text = rewriteApiVersions(a.path, original, a.versions);
    if (text !== original) cs.write(a.path, text, { overwrite: true });
  },
};

/** Every fleet action type (team generators may use these and no others). */
export const ACTION_TYPES = Object.keys(handlers) as Array<FleetAction["type"]>;

export function stageAction(cs: ChangeSet, action: FleetAction): void {
  (handlers[action.type] as Handler<typeof action.type>)(cs, action);
}

/**
 * Register every action type on a plop instance. node-plop reduces a thrown error to its
 * message; `onError` keeps the original so typed errors keep their exit codes.
 */
export function registerActionTypes(plop: NodePlopAPI, cs: ChangeSet, onError: (e: unknown) => void): void {
  for (const type of Object.keys(handlers) as Array<FleetAction["type"]>) {
    plop.setActionType(type, (_answers, config) => {
      try {
        stageAction(cs, config as unknown as FleetAction);
        return (config as unknown as { path: string }).path;
      } catch (e) {
        onError(e);
        throw e;
      }
    });
  }
}
