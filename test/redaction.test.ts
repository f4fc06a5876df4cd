/**
 * Secrets never reach fleet's output: whatever flux or terraform echoes (a token, an SSH key
 * over several lines, either of them base64-encoded, an Authorization header) is masked before
 * fleet prints it or builds an error from it, and the rest of the line is kept.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { redactor, type Redactor } from "../src/runners/exec.js";
import { fleet, initRepo, read, tmpDir, write } from "./helpers.js";
import { DEFAULT_FLUX_VERSION } from "../src/flux/index.js";

const TOKEN = "ghp_R3dact10nTestT0ken0123456789abcdef";
/** Shaped like an OpenSSH key, with a last base64 line too short to be masked on its own. */
const KEY = [
  "-----BEGIN OPENSSH PRIVATE KEY-----",
  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
  "QyNTUxOQAAACDmYWtla2V5Zm9ycmVkYWN0aW9udGVzdHNvbmx5bm90YXJlYWxrZXkAAAA",
  "cXQ=",
  "-----END OPENSSH PRIVATE KEY-----",
  "",
].join("\n");

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

/**
 * Pieces of `secret` visible in `out`: its raw text, any line of it, or any six characters of its
 * base64 encoding at any of the three byte alignments it can have inside encoded data (the edge
 * characters shared with neighbouring bytes aside).
 */
function leaks(out: string, secret: string): string[] {
  const found = [secret.trim(), ...secret.split("\n").filter((l) => l.trim() !== "")].filter((f) => out.includes(f));
  for (let a = 0; a < 3; a++) {
    const bytes = Buffer.byteLength(secret.trim());
    const enc = Buffer.concat([Buffer.alloc(a), Buffer.from(secret.trim())]).toString("base64");
    const core = enc.slice(Math.ceil((8 * a) / 6), Math.floor((8 * (a + bytes)) / 6));
    for (let i = 0; i + 6 <= core.length; i++) if (out.includes(core.slice(i, i + 6))) found.push(core.slice(i, i + 6));
  }
  return found;
}

function stream(r: Redactor, text: string, size: number): string[] {
  const out: string[] = [];
  const w = r.lines((l) => out.push(l));
  for (let i = 0; i < text.length; i += size) w.write(text.slice(i, i + size));
  w.end();
  return out;
}

describe("the redactor", () => {
  const r = redactor({ GITHUB_TOKEN: TOKEN, TF_VAR_git_private_key: KEY });

  it("masks a token anywhere in a line and keeps the rest of it", () => {
    expect(r.text(`push to https://x:${TOKEN}@github.com/acme/fleet failed`)).toBe("push to https://x:***@github.com/acme/fleet failed");
  });

  it("masks a secret that spans lines as a whole, however the output is cut into chunks", () => {
    const output = `before\nthe key is ${KEY}after\n`;
    for (const size of [1, 3, 7, 64, output.length]) {
      const lines = stream(r, output, size);
      expect(lines, `chunks of ${size}`).toEqual(["before", "the key is ***", "after"]);
    }
    expect(r.text(output)).toBe("before\nthe key is ***\nafter\n");
  });

  it("masks each line of a multi-line secret printed on its own, as a tool might quote a part of it", () => {
    const lines = stream(r, `line 2 of the key: ${KEY.split("\n")[2]}\n`, 5);
    expect(lines).toEqual(["line 2 of the key: ***"]);
  });

  it("passes each line on as soon as it is complete; only a line that may begin a multi-line secret waits", () => {
    const out: string[] = [];
    const w = r.lines((l) => out.push(l));
    w.write("one\ntw");
    expect(out).toEqual(["one"]);
    w.write("o\nthe key is -----BEGIN OPENSSH PRIVATE KEY-----\n");
    expect(out).toEqual(["one", "two"]);
    w.write("but it was only a heading\n");
    expect(out).toEqual(["one", "two", "the key is ***", "but it was only a heading"]);
    w.write("last, without a newline");
    w.end();
    expect(out.at(-1)).toBe("last, without a newline");
  });

  it("masks the base64 form of a secret at any offset inside encoded data, in both alphabets", () => {
    for (let k = 0; k < 6; k++) {
      const data = b64(`${"u".repeat(k)}:${TOKEN}?tail`);
      for (const enc of [data, data.replace(/\+/g, "-").replace(/\//g, "_")]) {
        const out = r.text(`data: ${enc} end`);
        expect(leaks(out, TOKEN), `offset ${k}`).toEqual([]);
        expect(out).toMatch(/^data: \S*\*\*\*\S* end$/);
      }
    }
    expect(leaks(r.text(`id_rsa: ${b64(KEY)}`), KEY)).toEqual([]);
  });

  it("masks the credentials of Authorization headers, known secrets or not", () => {
    expect(r.text(`> Authorization: Basic ${b64(`x-access-token:${TOKEN}`)}`)).toBe("> Authorization: Basic ***");
    expect(r.text("authorization: Bearer eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl\n")).toBe("authorization: Bearer ***\n");
    expect(r.text('{"Authorization":"Basic Zm9vOmJhcg==","ok":true}')).toBe('{"Authorization":"Basic ***","ok":true}');
  });

  it("takes its secrets from the variables fleet passes, and from a command's required ones", () => {
    const env = { GITLAB_TOKEN: "glpat-aaaaaaaaaaaa", GIT_PASSWORD: "hunter2hunter2", TF_VAR_git_token: "tf-token-1234", CUSTOM: "custom-secret", OTHER: "not-a-secret" };
    expect(redactor(env, ["CUSTOM"]).text(Object.values(env).join(" "))).toBe("*** *** *** *** not-a-secret");
  });
});

/**
 * flux and terraform stand-ins, first on PATH: each prints every secret it was given in the
 * forms a careless tool would (raw, base64, inside an Authorization header), in small pieces so
 * that a secret arrives split across chunks.
 */
function leakyTools(): string {
  const bin = tmpDir("fleet-bin-");
  const body = `#!/usr/bin/env node
const argv = process.argv.slice(2);
const out = process.env.STANDIN_STDERR ? process.stderr : process.stdout;
if (argv[0] === "version" && !process.env.STANDIN_LEAK_VERSION) { console.log("flux: ${DEFAULT_FLUX_VERSION}"); process.exit(0); }
const b64 = (s) => Buffer.from(s).toString("base64");
let text = "";
for (const k of ["GITHUB_TOKEN", "TF_VAR_git_token", "TF_VAR_git_private_key"]) {
  const s = process.env[k];
  if (!s) continue;
  text += "raw " + s + " done\\n" + "b64 " + b64(s) + " done\\n" + "> Authorization: Basic " + b64("git:" + s) + "\\n";
}
(async () => {
  for (let i = 0; i < text.length; i += 16) {
    out.write(text.slice(i, i + 16));
    await new Promise((r) => setTimeout(r, 1));
  }
  process.exit(Number(process.env.STANDIN_EXIT || 0));
})();
`;
  for (const tool of ["flux", "terraform"]) {
    fs.writeFileSync(path.join(bin, tool), body);
    fs.chmodSync(path.join(bin, tool), 0o755);
  }
  return bin;
}

const noLeak = (out: string) => {
  expect(leaks(out, TOKEN)).toEqual([]);
  expect(leaks(out, KEY)).toEqual([]);
};

describe("tool output fleet prints", () => {
  it("terraform's output is streamed with the SSH key and the token masked in every form, the rest of each line kept", async () => {
    const repo = await initRepo();
    write(repo, "fleet.yaml", read(repo, "fleet.yaml").replace(/git:\n(?: {2}.*\n)+/, "git:\n  provider: git\n  owner: acme\n  repository: fleet\n  branch: main\n  url: ssh://git@git.acme.io/platform/fleet.git\n"));
    const r = await fleet(["new-cluster", "c1", "--env", "prod", "--bootstrap", "terraform", "--yes"], {
      cwd: repo,
      env: { PATH: `${leakyTools()}:${process.env.PATH}`, TF_VAR_git_private_key: KEY, GITHUB_TOKEN: TOKEN },
    });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    noLeak(r.stdout);
    // terraform init and terraform apply each print both secrets.
    expect(r.stdout.match(/^ {2}terraform │ raw \*\*\*( done)?$/gm)?.length).toBe(4);
    expect(r.stdout.match(/^ {2}terraform │ b64 \S*\*\*\*\S* done$/gm)?.length).toBe(4);
    expect(r.stdout.match(/^ {2}terraform │ > Authorization: Basic \*\*\*$/gm)?.length).toBe(4);
  });

  it.each([
    ["prints no version", {}, /flux version --client printed no version: raw \*\*\* done/],
    ["fails", { STANDIN_STDERR: "1", STANDIN_EXIT: "1" }, /last lines of flux's output:\n {4}raw \*\*\* done/],
  ])("when flux version --client %s, the error quoting its output has the secrets masked", async (_what, extra, message) => {
    const repo = await initRepo();
    const r = await fleet(["new-cluster", "c1", "--env", "prod", "--bootstrap", "flux", "--yes"], {
      cwd: repo,
      env: { PATH: `${leakyTools()}:${process.env.PATH}`, GITHUB_TOKEN: TOKEN, TF_VAR_git_private_key: KEY, STANDIN_LEAK_VERSION: "1", ...extra },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(message);
    noLeak(r.stdout + r.stderr);
  });
});
