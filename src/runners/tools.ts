/**
 * The tools fleet runs besides flux (whose check is against the pin, in flux.ts): each must be on
 * PATH and, where an older release cannot do what fleet asks of it, at least a given version.
 * Checked before anything is written or run.
 */
import { InputError, ToolError } from "../core/errors.js";
import type { ExternalCommand } from "../core/generator.js";
import { runTool, type Redactor } from "./exec.js";

interface ToolCheck {
  args: string[];
  version: RegExp;
  min?: { version: string; why: string };
  install: string;
}

export const TOOL_CHECKS: Partial<Record<ExternalCommand["tool"], ToolCheck>> = {
  helm: {
    args: ["version", "--short"],
    version: /v?(\d+\.\d+\.\d+)/,
    // Helm 3.8.0 made OCI registries (oci:// charts, the Flux Operator's) generally available.
    min: { version: "3.8.0", why: "installs charts from OCI registries (oci://)" },
    install: "install helm 3.8 or later and put it on PATH",
  },
  kubectl: {
    args: ["version", "--client"],
    version: /Client Version:\s*v?(\d+\.\d+\.\d+)/,
    install: "install kubectl, put it on PATH, and point its current context at the cluster",
  },
};

const older = (a: string, b: string) => {
  const [x, y] = [a, b].map((v) => v.split(".").map(Number));
  for (let i = 0; i < 3; i++) if (x![i] !== y![i]) return x![i]! < y![i]!;
  return false;
};

/** That `tool` runs and is recent enough; `redact`: the secrets of the commands about to run. */
export async function checkTool(tool: ExternalCommand["tool"], cwd: string, redact: Redactor): Promise<void> {
  const check = TOOL_CHECKS[tool];
  if (!check) return;
  let stdout: string;
  try {
    ({ stdout } = await runTool(tool, check.args, { cwd, redact }));
  } catch (e) {
    throw new ToolError(`cannot read ${tool}'s version: ${(e as Error).message}\n  fix: ${check.install}`);
  }
  const found = check.version.exec(stdout)?.[1];
  if (!found) throw new ToolError(`${tool} ${check.args.join(" ")} printed no version: ${stdout.trim().slice(0, 200)}`);
  if (check.min && older(found, check.min.version))
    throw new InputError(`${tool} CLI`, `is v${found}, but fleet needs ${check.min.version} or later, which ${check.min.why}`, check.install);
}
