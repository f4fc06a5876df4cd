/**
 * Running external tools (flux, terraform, git) through execa: output streamed as it comes,
 * every secret fleet knows of redacted from anything it echoes, and a failure reported with the
 * last lines the tool wrote to stderr.
 */
import { execa } from "execa";
import { ToolError } from "../core/errors.js";

/** Environment variables whose values are secrets wherever they appear. */
export const SECRET_ENV = ["GITHUB_TOKEN", "GITLAB_TOKEN", "GIT_PASSWORD"] as const;

export function redactor(env: NodeJS.ProcessEnv = process.env, extra: string[] = []): (s: string) => string {
  const secrets = [...SECRET_ENV, ...extra]
    .map((name) => env[name])
    .filter((v): v is string => typeof v === "string" && v.length >= 4);
  return (s) => secrets.reduce((out, secret) => out.split(secret).join("***"), s);
}

export interface RunOptions {
  cwd: string;
  /** Added to the child's environment (fleet's own is passed through). */
  env?: Record<string, string>;
  /** Let the child read the terminal (a confirmation prompt). */
  interactive?: boolean;
  /** Called with each line of output as it arrives, already redacted. */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
  redact: (s: string) => string;
}

const TAIL_LINES = 20;

export async function runTool(tool: string, args: string[], opts: RunOptions): Promise<{ stdout: string }> {
  const stderrLines: string[] = [];
  const child = execa(tool, args, {
    cwd: opts.cwd,
    env: opts.env,
    reject: false,
    stdin: opts.interactive ? "inherit" : "ignore",
    stdout: ["pipe"],
    stderr: ["pipe"],
    lines: false,
    buffer: true,
  });
  const pump = (stream: NodeJS.ReadableStream | null | undefined, name: "stdout" | "stderr") => {
    if (!stream) return;
    let partial = "";
    stream.on("data", (chunk: Buffer) => {
      const text = partial + chunk.toString("utf8");
      const lines = text.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) emit(line, name);
    });
    stream.on("end", () => {
      if (partial) emit(partial, name);
    });
  };
  const emit = (raw: string, name: "stdout" | "stderr") => {
    const line = opts.redact(raw);
    if (name === "stderr") {
      stderrLines.push(line);
      if (stderrLines.length > TAIL_LINES) stderrLines.shift();
    }
    opts.onLine?.(line, name);
  };
  pump(child.stdout, "stdout");
  pump(child.stderr, "stderr");
  const result = await child;
  if (result.failed) {
    const cause = result.code === "ENOENT" ? `${tool} is not installed or not on PATH` : `${tool} exited with code ${result.exitCode ?? "?"}`;
    const tail = stderrLines.length ? `\n  last lines of ${tool}'s output:\n    ${stderrLines.join("\n    ")}` : "";
    throw new ToolError(`${opts.redact(`${tool} ${args.join(" ")}`)}: ${cause}${tail}`);
  }
  return { stdout: opts.redact(String(result.stdout ?? "")) };
}
