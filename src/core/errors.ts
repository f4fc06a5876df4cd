/**
 * Typed errors, each carrying the exit code of design section 5. The CLI maps them to exit
 * codes in one place; everything else only throws.
 */
export const EXIT = { ok: 0, checkFailed: 1, usage: 2, tool: 3 } as const;

export class FleetError extends Error {
  readonly exitCode: number = EXIT.usage;
}

/** Bad input: names the field, the rule and the fix. Nothing has been written. */
export class InputError extends FleetError {
  override readonly exitCode = EXIT.usage;
  constructor(
    readonly field: string,
    readonly rule: string,
    readonly fix?: string,
  ) {
    super(`${field}: ${rule}${fix ? `\n  fix: ${fix}` : ""}`);
  }
}

/** Several missing or invalid answers reported at once. */
export class InputErrors extends FleetError {
  override readonly exitCode = EXIT.usage;
  constructor(readonly errors: InputError[], heading: string) {
    super([heading, ...errors.map((e) => `  - ${e.message.replace(/\n/g, "\n    ")}`)].join("\n"));
  }
}

/** A file fleet must read does not parse; it is named with its line and left alone. */
export class ParseError extends FleetError {
  override readonly exitCode = EXIT.usage;
  constructor(readonly file: string, readonly line: number | undefined, detail: string) {
    super(`${file}${line ? `:${line}` : ""}: does not parse as YAML: ${detail}\n  fix: correct the file by hand; fleet left it unchanged`);
  }
}

/** A file the user changed would be overwritten; `--force` takes it anyway. */
export class ConflictError extends FleetError {
  override readonly exitCode = EXIT.usage;
}

/** Another fleet process holds the repo. */
export class LockError extends FleetError {
  override readonly exitCode = EXIT.usage;
}

/** An external tool (kubectl, flux, terraform) failed or is missing. */
export class ToolError extends FleetError {
  override readonly exitCode = EXIT.tool;
}

/** The system refused what fleet needs (a full disk, permissions); what was written is undone. */
export class SystemError extends FleetError {
  override readonly exitCode = EXIT.tool;
}
