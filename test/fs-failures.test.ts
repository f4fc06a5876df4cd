/**
 * When the file system refuses (a read-only file or directory, a full disk) or the repo holds the
 * wrong kind of thing (a directory where a file goes, a YAML alias bomb), fleet names the path
 * and the fix and exits 3 (the system refused) or 2 (the repo's content): never "internal error"
 * with a stack trace, and the repo is left as it was.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { ChangeSet, realFs, type ApplyFs } from "../src/changeset/changeset.js";
import { fromSystemError, ParseError, RepoContentError, SystemError } from "../src/core/errors.js";
import { parseConfig } from "../src/core/config.js";
import { BIN, fleet, initRepo, run, snapshot, tmpDir, write, type Run, INIT_ARGS } from "./helpers.js";

const newTenant = (name: string) => ["new-tenant", name, "--url", `https://github.com/acme/${name}-config`, "--yes"];

/** Exits with `code`, says what and how to fix it, and shows no stack. */
function expectReported(r: Run, code: number, what: RegExp): void {
  const shown = `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
  expect(r.code, shown).toBe(code);
  expect(r.stderr, shown).toMatch(what);
  expect(r.stderr, shown).toMatch(/\n {2}fix: /);
  expect(r.stderr, shown).not.toMatch(/internal error|\n\s+at /);
}

const isRoot = process.getuid?.() === 0;

/**
 * Make `target` refuse writes for real. chmod does that for a user; root writes through any
 * mode, so as root the file or directory is made immutable (chattr +i), which stops root too.
 * Returns the undo. Each way is checked to refuse a write before a test relies on it.
 */
async function makeReadOnly(target: string): Promise<() => Promise<void>> {
  const isDir = fs.statSync(target).isDirectory();
  const mode = fs.statSync(target).mode & 0o777;
  let undo: () => Promise<void>;
  if (isRoot) {
    const r = await run("chattr", ["+i", target]);
    if (r.code !== 0) throw new Error(`as root, this test makes ${target} immutable with chattr +i, which failed: ${r.stderr}`);
    undo = async () => void (await run("chattr", ["-i", target]));
  } else {
    fs.chmodSync(target, isDir ? 0o555 : 0o444);
    undo = async () => fs.chmodSync(target, mode);
  }
  const probe = isDir ? path.join(target, ".probe") : target;
  let refused = false;
  try {
    fs.appendFileSync(probe, "");
  } catch {
    refused = true;
  }
  if (!refused) {
    await undo();
    throw new Error(`${target} still takes writes after being made read-only`);
  }
  return undo;
}

describe("the system refuses: exit 3, the path and the fix", () => {
  it("a directory new-tenant must write into is read-only", async () => {
    const repo = await initRepo();
    const undo = await makeReadOnly(path.join(repo, "tenants/staging"));
    try {
      const before = snapshot(repo);
      const r = await fleet(newTenant("team-ro"), { cwd: repo });
      // chmod: permission denied (EACCES); chattr +i: operation not permitted (EPERM).
      expectReported(r, 3, /cannot create a file in tenants\/staging\/: (permission denied \(EACCES\)|operation not permitted \(EPERM\))/);
      expect(snapshot(repo)).toEqual(before);
    } finally {
      await undo();
    }
  });

  it("a file new-tenant must edit is read-only", async () => {
    const repo = await initRepo();
    const file = path.join(repo, "tenants/prod/kustomization.yaml");
    // A user cannot replace a 0444 file in a 0555 directory; root cannot replace an immutable file.
    const undo = isRoot ? await makeReadOnly(file) : await makeReadOnly(path.dirname(file));
    try {
      const before = snapshot(repo);
      const r = await fleet(newTenant("team-ro"), { cwd: repo });
      expectReported(r, 3, /tenants\/prod\/(kustomization\.yaml)?: (permission denied|operation not permitted)/);
      expect(snapshot(repo)).toEqual(before);
    } finally {
      await undo();
    }
  });

  it("the disk fills during the apply: the mapping names the repo, and the rollback leaves it as it was", async () => {
    const repo = await initRepo();
    const cs = new ChangeSet(repo);
    cs.write("tenants/base/team-full/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-full\n");
    cs.write("tenants/base/team-full/kustomization.yaml", "resources:\n  - namespace.yaml\n");
    const before = snapshot(repo);
    let writes = 0;
    // What node's fs.promises.writeFile throws on a full disk: ENOSPC from write(2), no path.
    const full: ApplyFs = {
      ...realFs,
      writeFile: async (file, data, mode) => {
        if (++writes === 2) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { errno: -28, code: "ENOSPC", syscall: "write" });
        await realFs.writeFile(file, data, mode);
      },
    };
    const err = (await cs.apply({ fs: full }).then(() => undefined, (e: unknown) => e)) as SystemError;
    expect(err).toBeInstanceOf(SystemError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toBe(
      `cannot write in ${repo}: no space left on the device (ENOSPC)\n  every file is as it was\n  fix: free space on the device holding ${repo} (df -h ${repo}), then run again`,
    );
    expect(snapshot(repo)).toEqual(before);
  });

  it("the disk fills during a real run (a full tmpfs in a user namespace)", async (ctx) => {
    const probe = await run("unshare", ["--user", "--map-root-user", "--mount", "true"]).catch((e: Error) => ({ code: -1, stderr: e.message, stdout: "" }));
    // Needs unprivileged user namespaces (off in some containers); the mapping itself is proven above.
    if (probe.code !== 0) ctx.skip(`no user namespace to mount a small tmpfs in: ${probe.stderr.trim()}`);
    const repo = await initRepo();
    const mnt = path.join(tmpDir(), "full");
    fs.mkdirSync(mnt);
    // Fill the tmpfs but two pages: the lock file takes one, the first file staged the other,
    // and the second file staged finds the disk full.
    const script = [
      "set -e",
      `mount -t tmpfs -o size=2m tmpfs "$M"`,
      `cp -a "$REPO" "$M/repo"`,
      `dd if=/dev/zero of="$M/reserve" bs=4k count=2 2>/dev/null`,
      `dd if=/dev/zero of="$M/fill" bs=4k 2>/dev/null || true`,
      `rm "$M/reserve"`,
      `sums() { cd "$M/repo" && find . -type f -print0 | sort -z | xargs -0 sha256sum; }`,
      `sums > "$M/../before"`,
      `set +e`,
      `"$NODE" "$BIN" new-tenant team-full --url https://github.com/acme/team-full-config --yes --repo "$M/repo" 2> "$M/../stderr"`,
      `echo "exit=$?"`,
      `sums > "$M/../after"`,
      `cmp -s "$M/../before" "$M/../after" && echo unchanged`,
    ].join("\n");
    const r = await run("unshare", ["--user", "--map-root-user", "--mount", "sh", "-c", script], {
      env: { M: mnt, REPO: repo, NODE: process.execPath, BIN },
    });
    const stderr = fs.readFileSync(path.join(mnt, "..", "stderr"), "utf8");
    expect(r.stdout, `${r.stderr}\n${stderr}`).toMatch(/exit=3\nunchanged/);
    expect(stderr).toMatch(/cannot write in .*\/full\/repo: no space left on the device \(ENOSPC\)\n {2}nothing was written\n {2}fix: free space/);
    expect(stderr).not.toMatch(/internal error/);
  });
});

describe("the repo holds the wrong kind of thing: exit 2, the path and the fix", () => {
  it("a directory where new-tenant must write a file (the tenant's patch in an overlay)", async () => {
    const repo = await initRepo();
    write(repo, "tenants/staging/team-dir/patch.yaml/README", "not what fleet expects\n");
    const before = snapshot(repo);
    const r = await fleet(newTenant("team-dir"), { cwd: repo });
    expectReported(r, 2, /tenants\/staging\/team-dir\/patch\.yaml\/ is a directory; fleet expects a file there \(EISDIR\)\n {2}fix: move the directory tenants\/staging\/team-dir\/patch\.yaml\/ aside/);
    expect(snapshot(repo)).toEqual(before);
  });

  it("init onto a path that is a file, or below one, writes nothing", async () => {
    const dir = tmpDir();
    const file = path.join(dir, "fleet-infra");
    fs.writeFileSync(file, "a file\n");
    for (const target of [file, path.join(file, "sub")]) {
      for (const dry of [[], ["--dry-run"]]) {
        const r = await fleet(["init", target, "--yes", ...INIT_ARGS, ...dry], { cwd: dir });
        expectReported(r, 2, new RegExp(`<dir>: ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}.* is a file, not a directory`));
      }
    }
    expect(fs.readdirSync(dir)).toEqual(["fleet-infra"]);
    expect(fs.readFileSync(file, "utf8")).toBe("a file\n");
  });

  it("errors node gives for the wrong kind of thing name the path as the repo has it", () => {
    const repo = tmpDir();
    fs.writeFileSync(path.join(repo, "fleet.yaml"), "");
    fs.mkdirSync(path.join(repo, "dir"));
    fs.writeFileSync(path.join(repo, "file"), "");
    fs.symlinkSync("loop-b", path.join(repo, "loop-a"));
    fs.symlinkSync("loop-a", path.join(repo, "loop-b"));
    const real = (op: () => unknown): unknown => {
      try {
        op();
      } catch (e) {
        return e;
      }
      throw new Error("expected the operation to fail");
    };
    const cases: Array<[string, unknown, RegExp]> = [
      ["EISDIR", real(() => fs.writeFileSync(path.join(repo, "dir"), "x")), /^dir\/ is a directory; fleet expects a file there/],
      ["ENOTDIR", real(() => fs.writeFileSync(path.join(repo, "file", "x.yaml"), "x")), /^file is a file; fleet expects a directory there/],
      ["EEXIST", real(() => fs.mkdirSync(path.join(repo, "file"))), /^file already exists and is not what fleet expects/],
      ["ELOOP", real(() => fs.readFileSync(path.join(repo, "loop-a"))), /^loop-a is a loop of symbolic links/],
    ];
    for (const [code, err, message] of cases) {
      expect((err as NodeJS.ErrnoException).code).toBe(code);
      const mapped = fromSystemError(err);
      expect(mapped, code).toBeInstanceOf(RepoContentError);
      expect(mapped!.exitCode).toBe(2);
      expect(mapped!.message).toMatch(message);
    }
    // A bug stays a bug.
    expect(fromSystemError(new TypeError("x is undefined"))).toBeUndefined();
  });
});

/** A billion laughs: nine aliases of nine aliases of ... expand to 9^5 nodes. */
const ALIAS_BOMB = [
  'lol0: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]',
  ...["b", "c", "d", "e"].map((x, i) => {
    const prev = "abcd"[i]!;
    return `lol${i + 1}: &${x} [${Array(9).fill(`*${prev}`).join(", ")}]`;
  }),
  "",
].join("\n");

describe("a YAML alias bomb in a repo file: exit 2, a parse error naming the file", () => {
  it("in fleet.yaml: every command that reads it refuses, writing nothing", async () => {
    const repo = await initRepo();
    fs.appendFileSync(path.join(repo, "fleet.yaml"), ALIAS_BOMB);
    const line = fs.readFileSync(path.join(repo, "fleet.yaml"), "utf8").split("\n").findIndex((l) => l.includes("*a")) + 1;
    const before = snapshot(repo);
    for (const args of [newTenant("team-bomb"), ["new-env", "qa", "--yes"], ["list"]]) {
      const r = await fleet(args, { cwd: repo });
      expectReported(r, 2, new RegExp(`fleet\\.yaml:${line}: does not parse as YAML: Excessive alias count`));
    }
    expect(snapshot(repo)).toEqual(before);
    // The same parse refuses an alias of an anchor that is not there.
    expect(() => parseConfig("environments: *nowhere\n")).toThrow(ParseError);
  });

  it("in an overlay: new-tenant, remove-tenant and list refuse; validate reports it as a failed check", async () => {
    const repo = await initRepo();
    expect((await fleet(["new-cluster", "c1", "--env", "prod", "--bootstrap", "none", "--yes"], { cwd: repo })).code).toBe(0);
    fs.appendFileSync(path.join(repo, "tenants/prod/kustomization.yaml"), ALIAS_BOMB);
    const before = snapshot(repo);
    for (const args of [newTenant("team-bomb"), ["remove-tenant", "team-search", "--yes"], ["list"]]) {
      const r = await fleet(args, { cwd: repo });
      expectReported(r, 2, /tenants\/prod\/kustomization\.yaml:\d+: does not parse as YAML: Excessive alias count/);
    }
    expect(snapshot(repo)).toEqual(before);
    const v = await fleet(["validate"], { cwd: repo });
    expect(v.code, v.stderr).toBe(1);
    // validate reads the overlay itself before kubectl does (to keep reads inside the repo).
    expect(v.stdout + v.stderr).toMatch(/tenants\/prod\/kustomization\.yaml: Excessive alias count/);
    expect(v.stderr).not.toMatch(/internal error/);
  });
});
