/**
 * Flux facts (design 4.1): which API versions each pinned Flux minor serves. Everything fleet
 * writes takes its apiVersions from here, so an upgrade is a table lookup, not a code change.
 */
export type FluxKind =
  | "Kustomization"
  | "GitRepository"
  | "OCIRepository"
  | "HelmRepository"
  | "HelmRelease"
  | "ImageRepository"
  | "ImagePolicy"
  | "ImageUpdateAutomation"
  | "Alert"
  | "Provider";

const GROUP: Record<FluxKind, string> = {
  Kustomization: "kustomize.toolkit.fluxcd.io",
  GitRepository: "source.toolkit.fluxcd.io",
  OCIRepository: "source.toolkit.fluxcd.io",
  HelmRepository: "source.toolkit.fluxcd.io",
  HelmRelease: "helm.toolkit.fluxcd.io",
  ImageRepository: "image.toolkit.fluxcd.io",
  ImagePolicy: "image.toolkit.fluxcd.io",
  ImageUpdateAutomation: "image.toolkit.fluxcd.io",
  Alert: "notification.toolkit.fluxcd.io",
  Provider: "notification.toolkit.fluxcd.io",
};

const stable = { Kustomization: "v1", GitRepository: "v1", OCIRepository: "v1", HelmRepository: "v1", HelmRelease: "v2", Alert: "v1beta3", Provider: "v1beta3" } as const;

/** Served version per kind, by Flux minor. */
const VERSIONS: Record<string, Record<FluxKind, string>> = {
  "2.6": { ...stable, ImageRepository: "v1beta2", ImagePolicy: "v1beta2", ImageUpdateAutomation: "v1beta2" },
  "2.7": { ...stable, ImageRepository: "v1", ImagePolicy: "v1", ImageUpdateAutomation: "v1" },
  "2.8": { ...stable, ImageRepository: "v1", ImagePolicy: "v1", ImageUpdateAutomation: "v1" },
  "2.9": { ...stable, ImageRepository: "v1", ImagePolicy: "v1", ImageUpdateAutomation: "v1" },
};

export const KNOWN_RELEASES = ["v2.6.4", "v2.7.4", "v2.7.5", "v2.8.5", "v2.9.4"] as const;
export const DEFAULT_FLUX_VERSION = "v2.7.4";
export const EXTRA_COMPONENTS = [
  "image-reflector-controller",
  "image-automation-controller",
  "source-watcher",
] as const;

export function fluxMinor(version: string): string {
  const m = /^v(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!m) throw new Error(`not a Flux version: ${version}`);
  return `${m[1]}.${m[2]}`;
}

export function isKnownRelease(version: string): boolean {
  return (KNOWN_RELEASES as readonly string[]).includes(version);
}

/** `group/version` of every Flux kind under the given pin, keyed by kind for templates. */
export function apiVersions(fluxVersion: string): Record<FluxKind, string> {
  const table = VERSIONS[fluxMinor(fluxVersion)];
  if (!table) throw new Error(`no API version table for Flux ${fluxVersion}`);
  const out = {} as Record<FluxKind, string>;
  for (const kind of Object.keys(GROUP) as FluxKind[]) out[kind] = `${GROUP[kind]}/${table[kind]}`;
  return out;
}

/**
 * The fluxcd/flux Terraform provider release pinned for each Flux minor: provider v1.N ships
 * Flux v2.N (1.6.4 ships v2.6.4, 1.7.6 ships v2.7.5, 1.8.5 ships v2.8.5, 1.9.4 ships v2.9.4).
 * fleet sets embedded_manifests = false so the exact pinned Flux release is installed.
 */
const TERRAFORM_PROVIDER: Record<string, string> = { "2.6": "1.6.4", "2.7": "1.7.6", "2.8": "1.8.5", "2.9": "1.9.4" };

export function terraformProviderVersion(fluxVersion: string): string {
  const v = TERRAFORM_PROVIDER[fluxMinor(fluxVersion)];
  if (!v) throw new Error(`no Terraform provider release known for Flux ${fluxVersion}`);
  return v;
}

/** The Terraform releases the generated HCL is written for. */
export const TERRAFORM_REQUIRED_VERSION = ">= 1.5.0, < 2.0.0";

/** The group of a Flux kind, for recognising Flux objects in any repo. */
export function fluxGroup(kind: string): string | undefined {
  return (GROUP as Record<string, string>)[kind];
}

/**
 * The `# Flux Version:` header flux writes at the top of gotk-components.yaml, which says what a
 * cluster was bootstrapped with.
 */
export function bootstrappedVersion(gotkComponents: string): string | undefined {
  return /^# Flux Version: (v\d+\.\d+\.\d+)/m.exec(gotkComponents)?.[1];
}

/**
 * Which API versions each Flux minor still serves, by group/version: from the minor they were
 * last served in (design 4.1: 2.7 removed every v1beta1 and helm v2beta1; 2.8 removed source and
 * kustomize v1beta2 and helm v2beta2; 2.9 removed image and notification v1beta2).
 */
const LAST_SERVED: Record<string, string> = {
  "kustomize.toolkit.fluxcd.io/v1beta1": "2.6",
  "kustomize.toolkit.fluxcd.io/v1beta2": "2.7",
  "source.toolkit.fluxcd.io/v1beta1": "2.6",
  "source.toolkit.fluxcd.io/v1beta2": "2.7",
  "helm.toolkit.fluxcd.io/v2beta1": "2.6",
  "helm.toolkit.fluxcd.io/v2beta2": "2.7",
  "image.toolkit.fluxcd.io/v1beta1": "2.6",
  "image.toolkit.fluxcd.io/v1beta2": "2.8",
  "notification.toolkit.fluxcd.io/v1beta1": "2.6",
  "notification.toolkit.fluxcd.io/v1beta2": "2.8",
};

const minorNumber = (minor: string) => Number(minor.split(".")[1]);

/**
 * How the pinned Flux treats an apiVersion: "preferred" (what fleet writes), "deprecated"
 * (still served, not preferred), "removed", or undefined when it is not a Flux group.
 */
export function apiVersionStatus(fluxVersion: string, apiVersion: string, kind: string): "preferred" | "deprecated" | "removed" | undefined {
  const [grp] = apiVersion.split("/");
  if (!grp || !Object.values(GROUP).includes(grp)) return undefined;
  const preferred = (apiVersions(fluxVersion) as Record<string, string>)[kind];
  if (preferred === apiVersion) return "preferred";
  const last = LAST_SERVED[apiVersion];
  if (last && minorNumber(fluxMinor(fluxVersion)) > minorNumber(last)) return "removed";
  return preferred || last ? "deprecated" : undefined;
}

/** Strict postBuild substitution (an undefined variable fails the build) is the default from 2.9. */
export const strictSubstitution = (fluxVersion: string) => minorNumber(fluxMinor(fluxVersion)) >= 9;
