/**
 * What an existing Flux repo already says about itself, for `fleet init --adopt`: its
 * environments (tenants/<env>/ overlays), its Flux pin (the `# Flux Version:` header of
 * gotk-components.yaml) and its git coordinates (the flux-system GitRepository).
 */
import type { ChangeSet } from "../changeset/changeset.js";
import { bootstrappedVersion, isRelease } from "../flux/index.js";
import { detectEnvironments, readObjects } from "./repo.js";

export interface Detected {
  environments: string[];
  fluxVersion?: string;
  git?: { provider: "github" | "gitlab" | "git"; owner: string; repository: string; url?: string; branch?: string };
}

export function detectRepo(cs: ChangeSet): Detected {
  const out: Detected = { environments: detectEnvironments(cs) };
  for (const cluster of cs.list("clusters").dirs) {
    const components = cs.read(`clusters/${cluster}/flux-system/gotk-components.yaml`);
    const version = components && bootstrappedVersion(components);
    if (version && isRelease(version)) out.fluxVersion ??= version;
    for (const o of readObjects(cs, `clusters/${cluster}/flux-system/gotk-sync.yaml`)) {
      if (o.kind !== "GitRepository" || out.git) continue;
      const url = String(o.spec?.url ?? "");
      const branch = (o.spec?.ref as { branch?: string } | undefined)?.branch;
      const m = /^(?:ssh:\/\/git@|https:\/\/)([^/:]+)(?::\d+)?\/(.+?)\/([^/]+?)(?:\.git)?$/.exec(url);
      if (!m) continue;
      const host = m[1]!;
      const provider = host === "github.com" ? "github" : host === "gitlab.com" ? "gitlab" : "git";
      out.git = { provider, owner: m[2]!, repository: m[3]!, ...(provider === "git" ? { url } : {}), ...(branch ? { branch } : {}) };
    }
  }
  return out;
}
