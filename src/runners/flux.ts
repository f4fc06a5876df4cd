/** The flux CLI: which release it is, checked against the pin before it may bootstrap. */
import { InputError, ToolError } from "../core/errors.js";
import { fluxMinor } from "../flux/index.js";
import { runTool, type Redactor } from "./exec.js";

/** `redact`: the secrets of the commands about to run; flux sees the same environment. */
export async function fluxClientVersion(cwd: string, redact: Redactor): Promise<string> {
  let stdout: string;
  try {
    ({ stdout } = await runTool("flux", ["version", "--client"], { cwd, redact }));
  } catch (e) {
    throw new ToolError(`cannot read the flux CLI's version: ${(e as Error).message}\n  fix: install the flux CLI of the pinned minor and put it on PATH`);
  }
  const m = /flux:\s*v?(\d+\.\d+\.\d+)/.exec(stdout);
  if (!m) throw new ToolError(`flux version --client printed no version: ${stdout.trim().slice(0, 200)}`);
  return `v${m[1]}`;
}

/**
 * flux bootstrap refuses a --version of another minor than its own, but only after it has
 * connected to the cluster and the Git server; fleet refuses first, before anything runs.
 */
export async function checkFluxMatchesPin(cwd: string, pin: string, redact: Redactor): Promise<void> {
  const cli = await fluxClientVersion(cwd, redact);
  if (fluxMinor(cli) !== fluxMinor(pin))
    throw new InputError(
      "flux CLI",
      `is ${cli}, but the repo pins Flux ${pin}; flux bootstrap only installs its own minor (${fluxMinor(cli)})`,
      `install flux ${fluxMinor(pin)}.x, or move the pin with fleet upgrade --flux-version v${fluxMinor(cli)}.N`,
    );
}
