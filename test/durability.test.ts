/**
 * All or nothing against kills and signals, and one holder of the repo lock: a run killed at any
 * point of its apply leaves a tree the next run (any command) brings to all of the change or none
 * of it; Ctrl-C and SIGTERM before the apply write nothing; a stale lock (dead holder, empty,
 * unreadable, another host's) is taken over, by one process only.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ChangeSet, realFs, type ApplyFs } from "../src/changeset/changeset.js";
import { pathToFileURL } from "node:url";
import { BIN, ROOT, fleet, initRepo, read, run, snapshot, tmpDir, write } from "./helpers.js";

const LOCK = ".fleet.lock";
const JOURNAL = ".fleet.journal";
/**
 * The kills land in the apply; the proof before it (a kill there writes nothing: test/proof.test.ts)
 * would only stretch every run by the overlay's build.
 */
const NEW_ENV = ["new-env", "qa", "--yes", "--no-verify"];
/** new-env then writes two files per tenant and a few more. */
const TENANTS = 40;
/** Six spread over the window cut it at temp writes and at renames alike (the loop goes on until both have come out); more only lengthen the suite. */
const KILLS = 3;

function copyRepo(src: string): string {
  const dir = path.join(tmpDir(), "fleet-infra");
  fs.cpSync(src, dir, { recursive: true });
  return dir;
}

let big: Promise<string> | undefined;

/**
 * A repo with many tenants, made quickly: one real new-tenant, then its files and its lines in
 * the overlays and CODEOWNERS copied under other names (they sort next to it, as fleet keeps them).
 */
function bigRepo(): Promise<string> {
  big ??= (async () => {
    const repo = await initRepo();
    const r = await fleet(["new-tenant", "team-000", "--url", "https://github.com/acme/team-000", "--yes"], { cwd: repo });
    if (r.code !== 0) throw new Error(r.stderr);
    const names = Array.from({ length: TENANTS - 1 }, (_, i) => `team-${String(i + 1).padStart(3, "0")}`);
    for (const [file, text] of Object.entries(snapshot(repo))) {
      if (file.includes("team-000")) for (const n of names) write(repo, file.replaceAll("team-000", n), text.replaceAll("team-000", n));
      else if (text.includes("team-000"))
        write(repo, file, text.split("\n").flatMap((l) => (l.includes("team-000") ? [l, ...names.map((n) => l.replaceAll("team-000", n))] : [l])).join("\n"));
    }
    return repo;
  })();
  return big;
}

interface Timeline {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Milliseconds after the spawn at which the lock, then the journal, appeared and the journal went. */
  lockAt?: number;
  journalAt?: number;
  journalGoneAt?: number;
  /** Whether a journal was left when the process ended. */
  journalLeft: boolean;
}

/**
 * Run the built fleet in `repo` and watch the tree (every millisecond) for the lock and the
 * journal; `send` signals the process `delay` ms after one of them appears.
 */
function watch(repo: string, args: string[], send?: { after: "lock" | "journal"; delay: number; signal: NodeJS.Signals }): Promise<Timeline> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { cwd: repo, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const t: Partial<Timeline> = {};
    let exited = false;
    let sent = false;
    const poll = () => {
      if (exited) return;
      const now = performance.now() - t0;
      const journal = fs.existsSync(path.join(repo, JOURNAL));
      if (t.lockAt === undefined && fs.existsSync(path.join(repo, LOCK))) t.lockAt = now;
      if (t.journalAt === undefined && journal) t.journalAt = now;
      if (t.journalAt !== undefined && t.journalGoneAt === undefined && !journal) t.journalGoneAt = now;
      const mark = send && (send.after === "lock" ? t.lockAt : t.journalAt);
      if (send && !sent && mark !== undefined) {
        sent = true;
        // At once when asked: a timer can fire late on a busy machine, after the moment is past.
        if (send.delay === 0) child.kill(send.signal);
        else setTimeout(() => child.kill(send.signal), send.delay);
      }
      setTimeout(poll, 1);
    };
    poll();
    child.on("error", reject);
    child.on("close", (code, signal) => {
      exited = true;
      resolve({ ...t, code, signal, stderr, journalLeft: fs.existsSync(path.join(repo, JOURNAL)) });
    });
  });
}

let reference: Promise<{ timeline: Timeline; after: Record<string, string> }> | undefined;

/** A plain new-env on a copy of the big repo: when its lock and journal appear, and the tree it leaves. */
function plainRun(): Promise<{ timeline: Timeline; after: Record<string, string> }> {
  reference ??= (async () => {
    const repo = copyRepo(await bigRepo());
    const timeline = await watch(repo, NEW_ENV);
    if (timeline.code !== 0) throw new Error(timeline.stderr);
    return { timeline, after: snapshot(repo) };
  })();
  return reference;
}

/** "none" or "all" when the tree is one side of the change, else the paths that are neither. */
function sideOf(now: Record<string, string>, before: Record<string, string>, after: Record<string, string>): string {
  const same = (a: Record<string, string>, b: Record<string, string>) =>
    Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v);
  if (same(now, before)) return "none";
  if (same(now, after)) return "all";
  const paths = new Set([...Object.keys(now), ...Object.keys(after)]);
  return [...paths].filter((p) => now[p] !== before[p] && now[p] !== after[p]).slice(0, 5).join(", ");
}

describe("a kill during the apply", () => {
  it(`leaves all of the change or none once the next run has recovered, and no temp files (${KILLS} kills)`, async () => {
    const base = await bigRepo();
    const before = snapshot(base);
    // The whole change, and how long its apply takes here: from the journal appearing to its going.
    const { timeline: ref, after } = await plainRun();
    expect(Object.keys(after).length - Object.keys(before).length).toBeGreaterThan(2 * TENANTS);
    const window = ref.journalGoneAt! - ref.journalAt!;

    const outcomes: string[] = [];
    const repos: Record<string, string> = {};
    // Kills go on until KILLS of them have cut an apply short. The window measured once is only
    // an estimate (a busy machine stretches or shrinks it): a kill that comes after the apply
    // ended narrows the estimate, so the next ones land inside it.
    let estimate = window;
    let cut = 0;
    // On a busy machine the renames (the end of the window) are short next to the temp writes:
    // once KILLS have landed without one after a rename, the next ones aim at the window's end.
    const both = () => outcomes.includes("all") && outcomes.includes("none");
    for (let i = 0; cut < KILLS || !both(); i++) {
      expect(i, `only ${cut} of ${i} kills landed inside the apply (${outcomes.join(" ")})`).toBeLessThan(3 * KILLS);
      const repo = copyRepo(base);
      // Spread over the window: temp files being written, then renamed into place.
      const at = cut < KILLS ? ((cut % KILLS) + Math.random()) / KILLS : outcomes.includes("all") ? Math.random() / 4 : 0.75 + Math.random() / 4;
      const killed = await watch(repo, NEW_ENV, { after: "journal", delay: estimate * at, signal: "SIGKILL" });
      if (killed.journalLeft) cut++;
      else estimate *= 0.7;
      // Every third time the recovery is killed too, somewhere in its own run.
      if (killed.journalLeft && cut % 3 === 0) await watch(repo, ["list"], { after: "lock", delay: Math.random() * window, signal: "SIGKILL" });
      const r = await fleet(["list"], { cwd: repo });
      expect(r.code, r.stderr).toBe(0);
      if (killed.journalLeft) expect(r.stderr).toMatch(/^fleet: (finished|undid) an interrupted fleet new-env from \S+ \(pid \d+\) before running/m);
      // A run killed after its apply but before letting go of the lock leaves the lock (the
      // next command that locks takes it over at once); it is not part of the change.
      const { [LOCK]: _lock, ...tree } = snapshot(repo);
      outcomes.push(sideOf(tree, before, after));
      repos[outcomes.at(-1)!] = repo;
    }
    expect(outcomes.filter((o) => o !== "none" && o !== "all")).toEqual([]);
    // The tree came out on both sides: killed while temp files were written (none), and after
    // the first of them was renamed into place (all).
    expect(new Set(outcomes).size, outcomes.join(" ")).toBe(2);
    // Running the command again then does the rest, or says there is nothing left to do.
    expect((await fleet(NEW_ENV, { cwd: repos.all! })).stdout).toMatch(/nothing to do/);
    expect((await fleet(NEW_ENV, { cwd: repos.none! })).code).toBe(0);
    expect(snapshot(repos.none!)).toEqual(after);
  }, 300_000);
});

describe("Ctrl-C and SIGTERM", () => {
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)
    it(`${signal} after the lock is taken but before the apply writes nothing and exits ${code}`, async () => {
      const base = await bigRepo();
      const before = snapshot(base);
      // The moment the lock appears; staging the change follows, synchronous work of some 100 ms.
      const repo = copyRepo(base);
      const r = await watch(repo, NEW_ENV, { after: "lock", delay: 0, signal });
      expect(r.code).toBe(code);
      expect(r.journalAt).toBeUndefined();
      expect(snapshot(repo)).toEqual(before);
    });

  it("SIGINT during the apply waits for it: the whole change is written, then fleet exits 130", async () => {
    const repo = copyRepo(await bigRepo());
    const r = await watch(repo, NEW_ENV, { after: "journal", delay: 0, signal: "SIGINT" });
    expect(r.code).toBe(130);
    expect(snapshot(repo)).toEqual((await plainRun()).after);
  });
});

describe("a change a crashed run left half applied", () => {
  const stage = (cs: ChangeSet) => {
    cs.write("tenants/base/team-x/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-x\n");
    cs.write("tenants/prod/kustomization.yaml", `${cs.read("tenants/prod/kustomization.yaml")}# edited\n`, { overwrite: true });
    cs.delete("renovate.json");
  };

  /**
   * Apply a change to `repo` through a file system whose `n`th `op` never returns, which leaves
   * the tree exactly as a process killed at that moment does. Returns the tree the whole change
   * gives (applied to a copy).
   */
  async function crashAt(repo: string, op: "writeFile" | "rename", n: number): Promise<Record<string, string>> {
    const copy = copyRepo(repo);
    const whole = new ChangeSet(copy);
    stage(whole);
    await whole.apply();
    const cs = new ChangeSet(repo);
    stage(cs);
    let count = 0;
    const hang = () => new Promise<void>(() => {});
    const frozen: ApplyFs = {
      ...realFs,
      writeFile: (f, d, m) => (op === "writeFile" && ++count === n ? hang() : realFs.writeFile(f, d, m)),
      rename: (a, b) => (op === "rename" && ++count === n ? hang() : realFs.rename(a, b)),
    };
    void cs.apply({ fs: frozen });
    while (count < n) await new Promise((r) => setTimeout(r, 5));
    return snapshot(copy);
  }

  it("is finished before list reads the tree when part of it had landed, and undone when none had", async () => {
    for (const [op, n, done] of [
      ["rename", 2, "finished"],
      ["writeFile", 2, "undid"],
    ] as const) {
      const repo = await initRepo();
      const before = snapshot(repo);
      const after = await crashAt(repo, op, n);
      expect(fs.existsSync(path.join(repo, JOURNAL))).toBe(true);
      const r = await fleet(["list"], { cwd: repo });
      expect(r.stderr).toMatch(new RegExp(`^fleet: ${done} an interrupted fleet apply from \\S+ \\(pid ${process.pid}\\) before running`, "m"));
      expect(snapshot(repo)).toEqual(done === "finished" ? after : before);
    }
  });

  it("stops validate and --dry-run, which write nothing, naming the journal and the fix", async () => {
    const repo = await initRepo();
    await crashAt(repo, "rename", 2);
    const left = snapshot(repo);
    for (const args of [["validate"], [...newTenant("team-y"), "--dry-run"]]) {
      const r = await fleet(args, { cwd: repo });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(/\.fleet\.journal records a change an interrupted fleet run did not finish.*\n {2}fix: here, run fleet list/s);
      expect(snapshot(repo)).toEqual(left);
    }
  });

  it("is left alone, and every command stops naming the files and the fix, when a file of it changed since", async () => {
    const repo = await initRepo();
    await crashAt(repo, "rename", 2);
    write(repo, "tenants/base/team-x/namespace.yaml", "# edited by hand after the crash\n");
    const left = snapshot(repo);
    const r = await fleet(newTenant("team-y"), { cwd: repo });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/interrupted fleet apply .* changed since.*tenants\/base\/team-x\/namespace\.yaml\n {2}fix: .*delete \.fleet\.journal/s);
    expect(snapshot(repo)).toEqual(left);
  });

  it("a journal fleet cannot read, or one naming a file outside the repo, stops every command with the fix", async () => {
    const outside = `../outside-${process.pid}.txt`;
    const journal = { fleetJournal: 1, phase: "apply", command: "x", pid: 1, host: os.hostname(), started: "", dirs: [], files: [{ path: outside, before: null, after: "x" }] };
    for (const text of ['{"fleetJournal":1,"files":[', JSON.stringify(journal)]) {
      const repo = await initRepo();
      write(repo, JOURNAL, text);
      const r = await fleet(["list"], { cwd: repo });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/\.fleet\.journal is not a journal fleet can read.*\n {2}fix: .*delete \.fleet\.journal/s);
      expect(fs.existsSync(path.join(repo, outside))).toBe(false);
    }
  });
});

const newTenant = (name: string) => ["new-tenant", name, "--url", `https://github.com/acme/${name}`, "--yes"];

/** Back-date a file's mtime past the lock's bound (a minute), as a lock nobody refreshes gets. */
function age(file: string): void {
  const then = new Date(Date.now() - 2 * 60_000);
  fs.utimesSync(file, then, then);
}

describe("the repo lock", () => {
  it("an empty or unreadable lock blocks until nobody has refreshed it for a minute, then is taken over", async () => {
    for (const content of ["", "\u0000not a lock{"]) {
      const repo = await initRepo();
      const lock = path.join(repo, LOCK);
      fs.writeFileSync(lock, content);
      const blocked = await fleet(newTenant("team-a"), { cwd: repo, env: { FLEET_LOCK_WAIT_MS: "300" } });
      expect(blocked.code).toBe(2);
      expect(blocked.stderr).toMatch(/a lock fleet cannot read \((empty|not a fleet lock record).*taken over once nobody has refreshed it for 60 s/s);
      age(lock);
      const r = await fleet(newTenant("team-a"), { cwd: repo });
      expect(r.code, r.stderr).toBe(0);
      expect(fs.existsSync(lock)).toBe(false);
    }
  });

  it("a lock from another host holds while it is fresh and is taken over once nobody refreshed it for a minute", async () => {
    const repo = await initRepo();
    const lock = path.join(repo, LOCK);
    fs.writeFileSync(lock, JSON.stringify({ pid: 1, host: "build-agent-7", command: "new-tenant" }));
    const blocked = await fleet(newTenant("team-b"), { cwd: repo, env: { FLEET_LOCK_WAIT_MS: "300" } });
    expect(blocked.code).toBe(2);
    expect(blocked.stderr).toMatch(/fleet new-tenant \(pid 1 on build-agent-7\) is changing this repository/);
    age(lock);
    expect((await fleet(newTenant("team-b"), { cwd: repo })).code).toBe(0);
    expect(fs.existsSync(lock)).toBe(false);
  });

  it("six processes finding the same stale lock hold it one at a time, whatever made it stale", async () => {
    // Each process takes the lock with fleet's own acquireLock and logs entering and leaving.
    const script = path.join(tmpDir(), "hold.mjs");
    fs.writeFileSync(
      script,
      [
        `import * as fs from "node:fs";`,
        `import { acquireLock } from ${JSON.stringify(pathToFileURL(path.join(ROOT, "dist/src/changeset/lock.js")).href)};`,
        `const [root, start] = process.argv.slice(2);`,
        `while (Date.now() < Number(start));`,
        `const lock = await acquireLock(root, "probe", 30000);`,
        `fs.appendFileSync(root + "/holders.log", "enter " + process.pid + "\\n");`,
        `await new Promise((r) => setTimeout(r, 20));`,
        `fs.appendFileSync(root + "/holders.log", "leave " + process.pid + "\\n");`,
        `lock.release();`,
      ].join("\n"),
    );
    const stale: Array<[string, string, boolean]> = [
      ["its holder is gone", JSON.stringify({ pid: 2 ** 22 + 12345, host: os.hostname(), command: "x" }), false],
      ["it is empty", "", true],
      ["another host's, not refreshed", JSON.stringify({ pid: 1, host: "build-agent-7", command: "x" }), true],
    ];
    for (const [why, content, old] of stale) {
      const root = tmpDir();
      fs.writeFileSync(path.join(root, LOCK), content);
      if (old) age(path.join(root, LOCK));
      // All six start trying at the same moment.
      const start = String(Date.now() + 1500);
      const runs = await Promise.all(Array.from({ length: 6 }, () => run(process.execPath, [script, root, start])));
      expect(runs.map((r) => r.code), runs.map((r) => r.stderr).join("")).toEqual([0, 0, 0, 0, 0, 0]);
      const log = read(root, "holders.log").trim().split("\n");
      expect(log, why).toHaveLength(12);
      for (let i = 0; i < 12; i += 2) expect([log[i], log[i + 1]], `${why}: two holders at once\n${log.join("\n")}`).toEqual([log[i], log[i]!.replace("enter", "leave")]);
      expect(log.filter((l) => l.startsWith("enter"))).toHaveLength(6);
      // No lock, takeover claim or temp file is left.
      expect(fs.readdirSync(root)).toEqual(["holders.log"]);
    }
  });
});

describe("the generated .gitignore", () => {
  it("ignores fleet's lock, journal and temp files, and not the team files in .fleet/", async () => {
    const repo = await initRepo();
    expect((await run("git", ["init", "-q"], { cwd: repo })).code).toBe(0);
    const fleetOwn = [LOCK, `${LOCK}.takeover-0123456789abcdef-0`, `..fleet.lock.fleet-123-0a1b.tmp`, JOURNAL, "..fleet.journal.fleet-123.tmp", "tenants/prod/.kustomization.yaml.fleet-4567.tmp"];
    for (const f of fleetOwn) write(repo, f, "x");
    write(repo, ".fleet/generators/team-thing.js", "export default {};\n");
    const r = await run("git", ["status", "--porcelain", "--untracked-files=all"], { cwd: repo });
    const listed = r.stdout.split("\n").map((l) => l.slice(3));
    for (const f of fleetOwn) expect(listed).not.toContain(f);
    expect(listed).toContain(".fleet/generators/team-thing.js");
  });
});
