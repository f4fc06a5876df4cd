/**
 * Before a command reads or writes the repo, a change an earlier run left half applied (killed,
 * power lost) is finished or undone, under the lock, so no command ever sees half a change.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FleetError } from "../core/errors.js";
import { printable } from "../core/text.js";
import { acquireLock } from "./lock.js";
import { RepoPaths } from "../core/inside-repo.js";
import { contentAt, hasJournal, JOURNAL_FILE, readJournal, removeJournal, settle, tempName, writeJournal, type Journal } from "./journal.js";

/** `.<journal>.fleet-`: the start of the journal's own temp names. */
const JOURNAL_TEMP = tempName(JOURNAL_FILE, "").replace(/\.tmp$/, "");

/** The run that left the journal; its words come from a file in the repo, so they are escaped. */
function describe(j: Journal): string {
  return printable(`fleet ${j.command} from ${j.started} (pid ${j.pid}${j.host === os.hostname() ? "" : ` on ${j.host}`})`);
}

/**
 * Finish or undo the change the journal records; the caller holds the lock. A change of which
 * any file landed is finished (its new content is in the journal), one of which none did is
 * undone, and one an error had decided to undo is undone. Returns what to tell the user, or
 * undefined when there was nothing to do.
 */
export function recover(root: string): string | undefined {
  // A journal being written when the run was killed never took effect; only its temp is left.
  for (const name of fs.readdirSync(root)) if (name.startsWith(JOURNAL_TEMP) && name.endsWith(".tmp")) fs.rmSync(path.join(root, name), { force: true });
  const j = readJournal(root);
  if (!j) return undefined;
  const paths = new RepoPaths(root);
  const state = j.files.map((e) => {
    const now = contentAt(paths.resolve(e.path));
    return now === e.after ? "after" : now === e.before ? "before" : "other";
  });
  const changed = j.files.filter((_, i) => state[i] === "other").map((e) => e.path);
  if (changed.length > 0)
    throw new FleetError(
      `an interrupted ${describe(j)} left ${path.join(root, JOURNAL_FILE)}, and ${changed.length} of its files changed since, so fleet will not finish or undo it: ${changed.slice(0, 5).map(printable).join(", ")}${changed.length > 5 ? ", ..." : ""}\n  fix: put those files back (git checkout) and run again, or delete ${JOURNAL_FILE} to keep the tree as it is`,
    );
  let side = j.phase === "apply" && state.includes("after") ? ("after" as const) : ("before" as const);
  let errors = settle(root, j, side);
  if (errors.length > 0 && side === "after") {
    // Finishing failed (say, a directory now stands where a file goes): undo it instead, and
    // say so in the journal first, so that a kill now still ends on one side.
    writeJournal(root, { ...j, phase: "undo" });
    side = "before";
    errors = settle(root, j, side);
  }
  if (errors.length > 0)
    throw new FleetError(
      `an interrupted ${describe(j)} is half applied and fleet could not finish or undo it:\n  ${errors.join("\n  ")}\n  fix: correct the cause and run fleet again (it retries from ${JOURNAL_FILE}), or put the tree right with git and delete ${JOURNAL_FILE}`,
    );
  removeJournal(root);
  return side === "after"
    ? `fleet: finished an interrupted ${describe(j)} before running: all ${j.files.length} files of that change are now written (a tool it runs after writing, such as flux bootstrap, did not run: run the command again for that)`
    : `fleet: undid an interrupted ${describe(j)} before running: none of that change is in the tree`;
}

/**
 * For a command that writes nothing (validate, --dry-run): a journal stops it instead of being
 * acted on. Those commands must never write, and validate runs in CI on repos nobody here wrote,
 * where a committed journal could otherwise rewrite the very files it is about to check.
 */
export function refuseHalfApplied(root: string, command: string): void {
  if (!hasJournal(root)) return;
  throw new FleetError(
    `${path.join(root, JOURNAL_FILE)} records a change an interrupted fleet run did not finish (or one committed to the repository), and fleet ${command} writes nothing, so it will not finish or undo it\n` +
      `  fix: here, run fleet list (or any fleet command that writes) to finish or undo it; if the file came with the repository, remove it (git rm --cached ${JOURNAL_FILE}): fleet never commits it`,
  );
}

/**
 * For list, which does not otherwise take the lock: take it only when a journal is there,
 * recover, and let go.
 */
export async function recoverFirst(root: string, command: string): Promise<string | undefined> {
  if (!hasJournal(root)) return undefined;
  const lock = await acquireLock(root, command);
  try {
    return recover(root);
  } finally {
    lock.release();
  }
}
