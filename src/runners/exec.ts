/**
 * Running external tools (flux, terraform, helm, kubectl, git) through execa: output streamed as
 * it comes, every secret fleet knows of redacted from anything it echoes, and a failure reported
 * with the last lines the tool wrote to stderr.
 */
import { StringDecoder } from "node:string_decoder";
import { execa } from "execa";
import { ToolError } from "../core/errors.js";

/**
 * Environment variables whose values are secrets wherever they appear: the tokens bootstraps
 * read and the Terraform variables fleet passes them in. A command's requiredEnv adds to these.
 */
export const SECRET_ENV = ["GITHUB_TOKEN", "GITLAB_TOKEN", "GIT_PASSWORD", "TF_VAR_git_token", "TF_VAR_git_private_key"] as const;

const MASK = "***";
/** Shorter values are not treated as secrets: masking them would mangle ordinary output. */
const MIN_SECRET = 4;
/**
 * Forms derived from a secret (one line of a key, a base64 core) must be at least this long: a
 * short line such as `AAAA==` or a five-character core would match innocent text. The value as
 * a whole still covers them.
 */
const MIN_DERIVED = 8;

/** Credentials in HTTP headers, whoever's they are: `Authorization: Basic dXNlcjp0b2tlbg==`. */
const AUTH_HEADER = /(authorization["']?[ \t]*[:=][ \t]*["']?(?:basic|bearer|token)[ \t]+)[^\s"',;]+/gi;

/**
 * What `secret` looks like inside any base64 text, at whichever offset it was embedded (a token
 * inside `user:token`): for each alignment (offset mod 3), the characters that depend on the
 * secret's bytes alone, in the standard and the URL-safe alphabet.
 */
function base64Cores(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  return [0, 1, 2].flatMap((a) => {
    const core = Buffer.concat([Buffer.alloc(a), bytes])
      .toString("base64")
      .slice(Math.ceil((8 * a) / 6), Math.floor((8 * (a + bytes.length)) / 6));
    return [core, core.replace(/\+/g, "-").replace(/\//g, "_")];
  });
}

/**
 * Every way a secret value can show up in a tool's output. Trailing whitespace (a key file's
 * last newline) is no secret, and leaving it out masks a key the same however output is chunked.
 */
function formsOf(value: string): string[] {
  const whole = value.replace(/\s+$/, "");
  const derived = [
    ...whole.split(/\r?\n/).map((l) => l.trim()),
    JSON.stringify(whole).slice(1, -1),
    ...base64Cores(whole),
  ].filter((f) => f.length >= MIN_DERIVED);
  return [whole, ...derived].filter((f) => f.length >= MIN_SECRET);
}

/** Takes output as it arrives; calls back with whole lines, redacted. */
export interface LineWriter {
  write(chunk: string): void;
  /** The output ended: the rest, including a last line without a newline. */
  end(): void;
}

export interface Redactor {
  /** `s` with every secret fleet knows of masked, in any of its forms. */
  text(s: string): string;
  /**
   * A stream redacted as a whole, not line by line: a secret that spans lines (an SSH key) is
   * masked as one. Lines are passed on as soon as they are complete, except those that may be
   * the start of such a secret, held until the text that follows settles it.
   */
  lines(emit: (line: string) => void): LineWriter;
}

/** The redactor for the secrets in `env` under SECRET_ENV and `extra` names. */
export function redactor(env: NodeJS.ProcessEnv = process.env, extra: readonly string[] = []): Redactor {
  const values = [...new Set([...SECRET_ENV, ...extra])]
    .map((name) => env[name])
    .filter((v): v is string => typeof v === "string" && v.length >= MIN_SECRET);
  const forms = [...new Set(values.flatMap(formsOf))].sort((a, b) => b.length - a.length);
  const spanning = forms.filter((f) => f.includes("\n"));
  const mask = (s: string, among: string[]) => among.reduce((out, f) => (out.includes(f) ? out.split(f).join(MASK) : out), s);
  const text = (s: string) => mask(s, forms).replace(AUTH_HEADER, `$1${MASK}`);

  /** Where the end of `s` may be the beginning of a secret that spans lines, or -1. */
  const heldFrom = (s: string): number => {
    let earliest = -1;
    for (const f of spanning)
      for (let i = s.indexOf(f[0]!, Math.max(0, s.length - f.length + 1)); i !== -1 && (earliest === -1 || i < earliest); i = s.indexOf(f[0]!, i + 1))
        if (f.startsWith(s.slice(i))) earliest = i;
    return earliest;
  };

  const lines = (emit: (line: string) => void): LineWriter => {
    let pending = "";
    const pass = (upTo: number) => {
      for (const line of text(pending.slice(0, upTo)).split("\n")) emit(line);
      pending = pending.slice(upTo + 1);
    };
    return {
      write(chunk) {
        // Whole spanning secrets are masked in place; what is left can only start one.
        pending = mask(pending + chunk, spanning);
        const last = pending.lastIndexOf("\n");
        if (last === -1) return;
        const held = heldFrom(pending);
        const upTo = held === -1 || held > last ? last : held > 0 ? pending.lastIndexOf("\n", held - 1) : -1;
        if (upTo !== -1) pass(upTo);
      },
      end() {
        if (pending === "") return;
        const rest = text(pending).split("\n");
        if (pending.endsWith("\n")) rest.pop();
        pending = "";
        for (const line of rest) emit(line);
      },
    };
  };
  return { text, lines };
}

export interface RunOptions {
  cwd: string;
  /** Added to the child's environment (fleet's own is passed through). */
  env?: Record<string, string>;
  /** Let the child read the terminal (a confirmation prompt). */
  interactive?: boolean;
  /** Written to the child's standard input, which is then closed (a secret, never an argument). */
  input?: string;
  /** Called with each line of output as it arrives, already redacted. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  /** Applied to everything of the tool's that fleet passes on: lines, errors, stdout. */
  redact: Redactor;
}

const TAIL_LINES = 20;

export async function runTool(tool: string, args: string[], opts: RunOptions): Promise<{ stdout: string }> {
  const stderrLines: string[] = [];
  const child = execa(tool, args, {
    cwd: opts.cwd,
    env: opts.env,
    reject: false,
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: opts.interactive ? "inherit" : "ignore" }),
    stdout: ["pipe"],
    stderr: ["pipe"],
    lines: false,
    buffer: true,
  });
  const pump = (stream: NodeJS.ReadableStream | null | undefined, name: "stdout" | "stderr") => {
    if (!stream) return;
    const out = opts.redact.lines((line) => {
      if (name === "stderr") {
        stderrLines.push(line);
        if (stderrLines.length > TAIL_LINES) stderrLines.shift();
      }
      opts.onLine?.(line, name);
    });
    // A character split between two chunks is decoded whole.
    const utf8 = new StringDecoder("utf8");
    stream.on("data", (chunk: Buffer) => out.write(utf8.write(chunk)));
    stream.on("end", () => {
      out.write(utf8.end());
      out.end();
    });
  };
  pump(child.stdout, "stdout");
  pump(child.stderr, "stderr");
  const result = await child;
  if (result.failed) {
    const cause = result.code === "ENOENT" ? `${tool} is not installed or not on PATH` : `${tool} exited with code ${result.exitCode ?? "?"}`;
    const tail = stderrLines.length ? `\n  last lines of ${tool}'s output:\n    ${stderrLines.join("\n    ")}` : "";
    throw new ToolError(`${opts.redact.text(`${tool} ${args.join(" ")}`)}: ${cause}${tail}`);
  }
  return { stdout: opts.redact.text(String(result.stdout ?? "")) };
}
