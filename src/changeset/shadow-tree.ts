/**
 * The whole repo as the change set would leave it, in a temp directory (.git and node_modules
 * left out), for proofs that walk what a cluster applies rather than a few overlays (a layout
 * move, the lockdown): removed when the proof ends, on an interrupt and at exit.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ChangeSet } from "./changeset.js";
import { onInterrupt } from "./signals.js";

function copy(cs: ChangeSet, dir: string): void {
  const walk = (rel: string) => {
    const { files, dirs } = cs.list(rel, { skipLinksOut: true });
    for (const f of files) {
      const p = rel ? `${rel}/${f}` : f;
      const text = cs.read(p);
      if (text === undefined) continue;
      fs.mkdirSync(path.join(dir, rel), { recursive: true });
      fs.writeFileSync(path.join(dir, p), text);
    }
    for (const d of dirs) if (!(rel === "" && (d === ".git" || d === "node_modules"))) walk(rel ? `${rel}/${d}` : d);
  };
  walk("");
}

/** Run `use` on the root of a shadow tree of the staged repo. */
export async function withShadowTree<T>(cs: ChangeSet, name: string, use: (root: string) => Promise<T>): Promise<T> {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `fleet-${name}-${process.pid}-`)));
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  const forget = onInterrupt(remove);
  process.on("exit", remove);
  try {
    copy(cs, dir);
    return await use(dir);
  } finally {
    forget();
    process.off("exit", remove);
    remove();
  }
}
