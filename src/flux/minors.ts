/**
 * The Flux facts, one table per Flux minor (design 4.1): which apiVersion of each Flux kind a
 * minor serves, which of those Flux marks deprecated, which an older minor served and this one
 * no longer does, and which one fleet writes (the CRD's storage version: the newest, most stable
 * one). Data only; src/flux/facts.ts answers questions from it.
 *
 * Read from Flux's own sources, not from memory: for every fluxcd/flux2 release tag, the
 * controller releases its manifests/bases/<controller>/kustomization.yaml pins, and in each
 * controller repo at that tag the CRDs under config/crd/bases (versions[].served, .deprecated,
 * .storage). A pre-GA (0.x) minor that has no table of its own serves exactly what the table
 * below it says (checked tag by tag); each 2.x minor has its own.
 */
import type { FluxKind } from "./kinds.js";

export interface KindFacts {
  /** What fleet writes: the storage version. */
  write: string;
  /** Every version the minor's CRD serves, `write` first. */
  served: readonly string[];
  /** The served versions Flux marks deprecated (the API server warns on them). */
  deprecated: readonly string[];
  /** Served by an older minor in these tables, no longer served by this one. */
  removed: readonly string[];
}

export interface MinorFacts {
  /** A kind the minor does not serve at all (OCIRepository before 0.32) has no entry. */
  kinds: Partial<Record<FluxKind, KindFacts>>;
  /** kustomize-controller fails a build on a ${var} with no value and no default. */
  strictSubstitution: boolean;
  /**
   * The fluxcd/flux Terraform provider release that ships this minor (its CHANGELOG: "This
   * release includes flux2 vX.Y.Z"). Only from provider 1.3.0 (Flux 2.3), which added the
   * embedded_manifests setting fleet's HCL sets. The newest release of the minor: fleet sets
   * `version` and embedded_manifests = false, so it installs exactly the pinned patch.
   */
  terraformProvider?: string;
  /** The controllers `flux bootstrap --components-extra` accepts under this minor. */
  extraComponents: readonly ExtraComponent[];
  /** What a platform team must act on when its clusters move onto this minor, oldest first. */
  changes?: readonly BehaviourChange[];
}

export type ExtraComponent = "image-reflector-controller" | "image-automation-controller" | "source-watcher";

/**
 * A change of behaviour a minor brings that no API version says: what changes, what to do about
 * it, and where Flux says so. `id` names the finder of the objects it affects (src/flux/affected.ts).
 */
export interface BehaviourChange {
  id: BehaviourChangeId;
  what: string;
  todo: string;
  source: string;
  /** The patch release that brings it, when it is not the minor's first (vX.Y.0). */
  since?: string;
}

export type BehaviourChangeId =
  | "helm-server-side-apply"
  | "helm-kstatus-health"
  | "gcr-receiver-audience"
  | "strict-substitution"
  | "helm-post-render-combined"
  | "gcr-receiver-email-audience";

// fluxcd/flux2 pkg/manifestgen/install/options.go (ComponentsExtra) at each tag; source-watcher
// from v2.7.0 (manifests/bases/source-watcher added in "Add source-watcher to manifests", 0a87ed5a).
const IMAGE_CONTROLLERS: readonly ExtraComponent[] = ["image-reflector-controller", "image-automation-controller"];
const WITH_SOURCE_WATCHER: readonly ExtraComponent[] = [...IMAGE_CONTROLLERS, "source-watcher"];

/**
 * The multi-tenancy lockdown flags (design 4.2) and the first release whose controllers take
 * them: a controller given a flag it does not know does not start. By release, not by table:
 * they arrived inside the ranges the 0.18 and 0.28 tables cover. Read from each controller's
 * main.go (aclOptions.BindFlags, the flags themselves) at the releases fluxcd/flux2's
 * manifests/bases pin: v0.26.0 ships kustomize v0.20.0, helm v0.16.0, notification v0.21.0,
 * image-reflector v0.16.0, image-automation v0.20.0, the first with them; v0.30.0 ships
 * kustomize v0.25.0, the first with --no-remote-bases; source-watcher has them from its first
 * release in Flux (v2.7.0 ships source-watcher v2.0.1; cmd/main.go binds gotkacl.Options).
 */
export const LOCKDOWN_FLAGS: ReadonlyArray<{ flag: string; controllers: readonly string[]; since: string }> = [
  {
    flag: "--no-cross-namespace-refs",
    controllers: ["kustomize-controller", "helm-controller", "notification-controller", "image-reflector-controller", "image-automation-controller"],
    since: "v0.26.0",
  },
  { flag: "--default-service-account", controllers: ["kustomize-controller", "helm-controller"], since: "v0.26.0" },
  { flag: "--no-remote-bases", controllers: ["kustomize-controller"], since: "v0.30.0" },
];

/** Keyed by minor ("0.28", "2.9"), oldest first. */
export const MINORS: Readonly<Record<string, MinorFacts>> = {
  "0.16": {
    // fluxcd/flux2 v0.16.0..v0.16.2 manifests/bases/*/kustomization.yaml (through 0.17: same CRDs)
    // -> source v0.15.4, kustomize v0.13.3, helm v0.11.2, notification v0.15.1, image-reflector
    // v0.11.1, image-automation v0.14.1: config/crd/bases/*.yaml at those tags
    kinds: {
      Kustomization: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      GitRepository: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      HelmRepository: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      HelmChart: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      Bucket: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      HelmRelease: { write: "v2beta1", served: ["v2beta1"], deprecated: [], removed: [] },
      ImageRepository: { write: "v1beta1", served: ["v1beta1", "v1alpha1", "v1alpha2"], deprecated: [], removed: [] },
      ImagePolicy: { write: "v1beta1", served: ["v1beta1", "v1alpha1", "v1alpha2"], deprecated: [], removed: [] },
      ImageUpdateAutomation: { write: "v1beta1", served: ["v1beta1", "v1alpha1", "v1alpha2"], deprecated: [], removed: [] },
      Alert: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      Provider: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      Receiver: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
    },
    strictSubstitution: false,
    extraComponents: IMAGE_CONTROLLERS,
  },
  "0.18": {
    // fluxcd/flux2 v0.18.0..v0.18.3 manifests/bases/*/kustomization.yaml (through 0.27: same CRDs)
    // -> source v0.16.0, kustomize v0.15.5, helm v0.12.0, notification v0.17.1, image-reflector
    // v0.12.0, image-automation v0.15.0: config/crd/bases/*.yaml at those tags
    kinds: {
      Kustomization: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      GitRepository: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      HelmRepository: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      HelmChart: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      Bucket: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      HelmRelease: { write: "v2beta1", served: ["v2beta1"], deprecated: [], removed: [] },
      ImageRepository: { write: "v1beta1", served: ["v1beta1", "v1alpha1", "v1alpha2"], deprecated: [], removed: [] },
      ImagePolicy: { write: "v1beta1", served: ["v1beta1", "v1alpha1", "v1alpha2"], deprecated: [], removed: [] },
      ImageUpdateAutomation: { write: "v1beta1", served: ["v1beta1", "v1alpha1", "v1alpha2"], deprecated: [], removed: [] },
      Alert: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      Provider: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      Receiver: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
    },
    strictSubstitution: false,
    extraComponents: IMAGE_CONTROLLERS,
  },
  "0.28": {
    // fluxcd/flux2 v0.28.0..v0.28.5 manifests/bases/*/kustomization.yaml (through 0.31: same CRDs)
    // -> source v0.22.5, kustomize v0.22.3, helm v0.18.2, notification v0.23.2, image-reflector
    // v0.17.1, image-automation v0.21.3: config/crd/bases/*.yaml at those tags
    kinds: {
      Kustomization: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      GitRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      HelmRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      HelmChart: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      Bucket: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      HelmRelease: { write: "v2beta1", served: ["v2beta1"], deprecated: [], removed: [] },
      ImageRepository: { write: "v1beta1", served: ["v1beta1", "v1alpha1", "v1alpha2"], deprecated: [], removed: [] },
      ImagePolicy: { write: "v1beta1", served: ["v1beta1", "v1alpha1", "v1alpha2"], deprecated: [], removed: [] },
      ImageUpdateAutomation: { write: "v1beta1", served: ["v1beta1", "v1alpha1", "v1alpha2"], deprecated: [], removed: [] },
      Alert: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      Provider: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      Receiver: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
    },
    strictSubstitution: false,
    extraComponents: IMAGE_CONTROLLERS,
  },
  "0.32": {
    // fluxcd/flux2 v0.32.0..v0.32.0 manifests/bases/*/kustomization.yaml (through 0.36: same CRDs)
    // -> source v0.26.1, kustomize v0.27.0, helm v0.22.2, notification v0.25.1, image-reflector
    // v0.20.0, image-automation v0.24.1: config/crd/bases/*.yaml at those tags
    kinds: {
      Kustomization: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      GitRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      OCIRepository: { write: "v1beta2", served: ["v1beta2"], deprecated: [], removed: [] },
      HelmRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      HelmChart: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      Bucket: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      HelmRelease: { write: "v2beta1", served: ["v2beta1"], deprecated: [], removed: [] },
      ImageRepository: { write: "v1beta1", served: ["v1beta1", "v1alpha1", "v1alpha2"], deprecated: [], removed: [] },
      ImagePolicy: { write: "v1beta1", served: ["v1beta1", "v1alpha1", "v1alpha2"], deprecated: [], removed: [] },
      ImageUpdateAutomation: { write: "v1beta1", served: ["v1beta1", "v1alpha1", "v1alpha2"], deprecated: [], removed: [] },
      Alert: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      Provider: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      Receiver: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
    },
    strictSubstitution: false,
    extraComponents: IMAGE_CONTROLLERS,
  },
  "0.37": {
    // fluxcd/flux2 v0.37.0..v0.37.0 manifests/bases/*/kustomization.yaml
    // -> source v0.32.1, kustomize v0.31.0, helm v0.27.0, notification v0.29.0, image-reflector
    // v0.23.0, image-automation v0.27.0: config/crd/bases/*.yaml at those tags
    kinds: {
      Kustomization: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      GitRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      OCIRepository: { write: "v1beta2", served: ["v1beta2"], deprecated: [], removed: [] },
      HelmRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      HelmChart: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      Bucket: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      HelmRelease: { write: "v2beta1", served: ["v2beta1"], deprecated: [], removed: [] },
      ImageRepository: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImagePolicy: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImageUpdateAutomation: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      Alert: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      Provider: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
      Receiver: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: [] },
    },
    strictSubstitution: false,
    extraComponents: IMAGE_CONTROLLERS,
  },
  "0.38": {
    // fluxcd/flux2 v0.38.0..v0.38.3 manifests/bases/*/kustomization.yaml (through 0.39: same CRDs)
    // -> source v0.33.0, kustomize v0.32.0, helm v0.28.1, notification v0.30.2, image-reflector
    // v0.23.1, image-automation v0.28.0: config/crd/bases/*.yaml at those tags
    kinds: {
      Kustomization: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      GitRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      OCIRepository: { write: "v1beta2", served: ["v1beta2"], deprecated: [], removed: [] },
      HelmRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      HelmChart: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      Bucket: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      HelmRelease: { write: "v2beta1", served: ["v2beta1"], deprecated: [], removed: [] },
      ImageRepository: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImagePolicy: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImageUpdateAutomation: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      Alert: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      Provider: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      Receiver: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
    },
    strictSubstitution: false,
    extraComponents: IMAGE_CONTROLLERS,
  },
  "0.40": {
    // fluxcd/flux2 v0.40.0..v0.40.2 manifests/bases/*/kustomization.yaml (through 0.41: same CRDs)
    // -> source v0.35.2, kustomize v0.34.0, helm v0.30.0, notification v0.32.1, image-reflector
    // v0.25.0, image-automation v0.30.0: config/crd/bases/*.yaml at those tags
    kinds: {
      Kustomization: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      GitRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      OCIRepository: { write: "v1beta2", served: ["v1beta2"], deprecated: [], removed: [] },
      HelmRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      HelmChart: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      Bucket: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      HelmRelease: { write: "v2beta1", served: ["v2beta1"], deprecated: [], removed: [] },
      ImageRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImagePolicy: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImageUpdateAutomation: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      Alert: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      Provider: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      Receiver: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
    },
    strictSubstitution: false,
    extraComponents: IMAGE_CONTROLLERS,
  },
  "2.0": {
    // fluxcd/flux2 v2.0.0..v2.0.1 manifests/bases/*/kustomization.yaml
    // -> source v1.0.1, kustomize v1.0.1, helm v0.35.0, notification v1.0.0, image-reflector
    // v0.29.1, image-automation v0.35.0: config/crd/bases/*.yaml at those tags
    kinds: {
      Kustomization: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      GitRepository: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      OCIRepository: { write: "v1beta2", served: ["v1beta2"], deprecated: [], removed: [] },
      HelmRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      HelmChart: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      Bucket: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      HelmRelease: { write: "v2beta1", served: ["v2beta1"], deprecated: [], removed: [] },
      ImageRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImagePolicy: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImageUpdateAutomation: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      Alert: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      Provider: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      Receiver: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
    },
    strictSubstitution: false,
    extraComponents: IMAGE_CONTROLLERS,
  },
  "2.1": {
    // fluxcd/flux2 v2.1.0..v2.1.2 manifests/bases/*/kustomization.yaml
    // -> source v1.1.2, kustomize v1.1.1, helm v0.36.2, notification v1.1.0, image-reflector
    // v0.30.0, image-automation v0.36.1: config/crd/bases/*.yaml at those tags
    kinds: {
      Kustomization: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      GitRepository: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      OCIRepository: { write: "v1beta2", served: ["v1beta2"], deprecated: [], removed: [] },
      HelmRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      HelmChart: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      Bucket: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      HelmRelease: { write: "v2beta1", served: ["v2beta1"], deprecated: [], removed: [] },
      ImageRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImagePolicy: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImageUpdateAutomation: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      Alert: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      Provider: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      Receiver: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
    },
    strictSubstitution: false,
    extraComponents: IMAGE_CONTROLLERS,
  },
  "2.2": {
    // fluxcd/flux2 v2.2.0..v2.2.3 manifests/bases/*/kustomization.yaml
    // -> source v1.2.4, kustomize v1.2.2, helm v0.37.4, notification v1.2.4, image-reflector
    // v0.31.2, image-automation v0.37.1: config/crd/bases/*.yaml at those tags
    kinds: {
      Kustomization: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      GitRepository: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      OCIRepository: { write: "v1beta2", served: ["v1beta2"], deprecated: [], removed: [] },
      HelmRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      HelmChart: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      Bucket: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: [] },
      HelmRelease: { write: "v2beta2", served: ["v2beta2", "v2beta1"], deprecated: ["v2beta1"], removed: [] },
      ImageRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImagePolicy: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImageUpdateAutomation: { write: "v1beta1", served: ["v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      Alert: { write: "v1beta3", served: ["v1beta3", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      Provider: { write: "v1beta3", served: ["v1beta3", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      Receiver: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
    },
    strictSubstitution: false,
    extraComponents: IMAGE_CONTROLLERS,
  },
  "2.3": {
    // fluxcd/flux2 v2.3.0..v2.3.0 manifests/bases/*/kustomization.yaml
    // -> source v1.3.0, kustomize v1.3.0, helm v1.0.1, notification v1.3.0, image-reflector v0.32.0,
    // image-automation v0.38.0: config/crd/bases/*.yaml at those tags
    kinds: {
      Kustomization: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      GitRepository: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      OCIRepository: { write: "v1beta2", served: ["v1beta2"], deprecated: [], removed: [] },
      HelmRepository: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      HelmChart: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      Bucket: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: ["v1beta1"], removed: [] },
      HelmRelease: { write: "v2", served: ["v2", "v2beta1", "v2beta2"], deprecated: ["v2beta1", "v2beta2"], removed: [] },
      ImageRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImagePolicy: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImageUpdateAutomation: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: ["v1beta1"], removed: ["v1alpha1", "v1alpha2"] },
      Alert: { write: "v1beta3", served: ["v1beta3", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      Provider: { write: "v1beta3", served: ["v1beta3", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      Receiver: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
    },
    strictSubstitution: false,
    extraComponents: IMAGE_CONTROLLERS,
    terraformProvider: "1.3.0",
  },
  "2.4": {
    // fluxcd/flux2 v2.4.0..v2.4.0 manifests/bases/*/kustomization.yaml
    // -> source v1.4.1, kustomize v1.4.0, helm v1.1.0, notification v1.4.0, image-reflector v0.33.0,
    // image-automation v0.39.0: config/crd/bases/*.yaml at those tags
    kinds: {
      Kustomization: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      GitRepository: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      OCIRepository: { write: "v1beta2", served: ["v1beta2"], deprecated: [], removed: [] },
      HelmRepository: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      HelmChart: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      Bucket: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      HelmRelease: { write: "v2", served: ["v2", "v2beta1", "v2beta2"], deprecated: ["v2beta1", "v2beta2"], removed: [] },
      ImageRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImagePolicy: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImageUpdateAutomation: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: ["v1beta1"], removed: ["v1alpha1", "v1alpha2"] },
      Alert: { write: "v1beta3", served: ["v1beta3", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      Provider: { write: "v1beta3", served: ["v1beta3", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      Receiver: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
    },
    strictSubstitution: false,
    extraComponents: IMAGE_CONTROLLERS,
    terraformProvider: "1.4.0",
  },
  "2.5": {
    // fluxcd/flux2 v2.5.0..v2.5.1 manifests/bases/*/kustomization.yaml
    // -> source v1.5.0, kustomize v1.5.1, helm v1.2.0, notification v1.5.0, image-reflector v0.34.0,
    // image-automation v0.40.0: config/crd/bases/*.yaml at those tags
    kinds: {
      Kustomization: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      GitRepository: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      OCIRepository: { write: "v1beta2", served: ["v1beta2"], deprecated: [], removed: [] },
      HelmRepository: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      HelmChart: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      Bucket: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      HelmRelease: { write: "v2", served: ["v2", "v2beta1", "v2beta2"], deprecated: ["v2beta1", "v2beta2"], removed: [] },
      ImageRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImagePolicy: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImageUpdateAutomation: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: ["v1beta1"], removed: ["v1alpha1", "v1alpha2"] },
      Alert: { write: "v1beta3", served: ["v1beta3", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      Provider: { write: "v1beta3", served: ["v1beta3", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      Receiver: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
    },
    strictSubstitution: false,
    extraComponents: IMAGE_CONTROLLERS,
    terraformProvider: "1.5.1",
  },
  "2.6": {
    // fluxcd/flux2 v2.6.0..v2.6.4 manifests/bases/*/kustomization.yaml
    // -> source v1.6.2, kustomize v1.6.1, helm v1.3.0, notification v1.6.0, image-reflector v0.35.2,
    // image-automation v0.41.2: config/crd/bases/*.yaml at those tags
    kinds: {
      Kustomization: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      GitRepository: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      OCIRepository: { write: "v1", served: ["v1", "v1beta2"], deprecated: ["v1beta2"], removed: [] },
      HelmRepository: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      HelmChart: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      Bucket: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      HelmRelease: { write: "v2", served: ["v2", "v2beta1", "v2beta2"], deprecated: ["v2beta1", "v2beta2"], removed: [] },
      ImageRepository: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImagePolicy: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: [], removed: ["v1alpha1", "v1alpha2"] },
      ImageUpdateAutomation: { write: "v1beta2", served: ["v1beta2", "v1beta1"], deprecated: ["v1beta1"], removed: ["v1alpha1", "v1alpha2"] },
      Alert: { write: "v1beta3", served: ["v1beta3", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      Provider: { write: "v1beta3", served: ["v1beta3", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
      Receiver: { write: "v1", served: ["v1", "v1beta1", "v1beta2"], deprecated: ["v1beta1", "v1beta2"], removed: [] },
    },
    strictSubstitution: false,
    extraComponents: IMAGE_CONTROLLERS,
    terraformProvider: "1.6.4",
  },
  "2.7": {
    // fluxcd/flux2 v2.7.0..v2.7.5 manifests/bases/*/kustomization.yaml
    // -> source v1.7.4, kustomize v1.7.3, helm v1.4.5, notification v1.7.5, image-reflector v1.0.4,
    // image-automation v1.0.4: config/crd/bases/*.yaml at those tags
    // removals: fluxcd/flux2#5474 "Remove v1beta1 and v2beta1 deprecated APIs";
    // fluxcd/website#2316 (notification v1beta1)
    kinds: {
      Kustomization: { write: "v1", served: ["v1", "v1beta2"], deprecated: ["v1beta2"], removed: ["v1beta1"] },
      GitRepository: { write: "v1", served: ["v1", "v1beta2"], deprecated: ["v1beta2"], removed: ["v1beta1"] },
      OCIRepository: { write: "v1", served: ["v1", "v1beta2"], deprecated: ["v1beta2"], removed: [] },
      HelmRepository: { write: "v1", served: ["v1", "v1beta2"], deprecated: ["v1beta2"], removed: ["v1beta1"] },
      HelmChart: { write: "v1", served: ["v1", "v1beta2"], deprecated: ["v1beta2"], removed: ["v1beta1"] },
      Bucket: { write: "v1", served: ["v1", "v1beta2"], deprecated: ["v1beta2"], removed: ["v1beta1"] },
      HelmRelease: { write: "v2", served: ["v2", "v2beta2"], deprecated: ["v2beta2"], removed: ["v2beta1"] },
      ImageRepository: { write: "v1", served: ["v1", "v1beta2"], deprecated: ["v1beta2"], removed: ["v1alpha1", "v1alpha2", "v1beta1"] },
      ImagePolicy: { write: "v1", served: ["v1", "v1beta2"], deprecated: ["v1beta2"], removed: ["v1alpha1", "v1alpha2", "v1beta1"] },
      ImageUpdateAutomation: { write: "v1", served: ["v1", "v1beta2"], deprecated: ["v1beta2"], removed: ["v1alpha1", "v1alpha2", "v1beta1"] },
      Alert: { write: "v1beta3", served: ["v1beta3", "v1beta2"], deprecated: ["v1beta2"], removed: ["v1beta1"] },
      Provider: { write: "v1beta3", served: ["v1beta3", "v1beta2"], deprecated: ["v1beta2"], removed: ["v1beta1"] },
      Receiver: { write: "v1", served: ["v1", "v1beta2"], deprecated: ["v1beta2"], removed: ["v1beta1"] },
    },
    strictSubstitution: false,
    extraComponents: WITH_SOURCE_WATCHER,
    terraformProvider: "1.7.6",
  },
  "2.8": {
    // fluxcd/flux2 v2.8.0..v2.8.8 manifests/bases/*/kustomization.yaml
    // -> source v1.8.5, kustomize v1.8.5, helm v1.5.5, notification v1.8.4, image-reflector v1.1.2,
    // image-automation v1.1.4: config/crd/bases/*.yaml at those tags
    // removals: fluxcd/flux2#5711 "Prepare for Flux v2.8.0" (source and kustomize v1beta2, helm
    // v2beta2 end-of-life)
    kinds: {
      Kustomization: { write: "v1", served: ["v1"], deprecated: [], removed: ["v1beta1", "v1beta2"] },
      GitRepository: { write: "v1", served: ["v1"], deprecated: [], removed: ["v1beta1", "v1beta2"] },
      OCIRepository: { write: "v1", served: ["v1"], deprecated: [], removed: ["v1beta2"] },
      HelmRepository: { write: "v1", served: ["v1"], deprecated: [], removed: ["v1beta1", "v1beta2"] },
      HelmChart: { write: "v1", served: ["v1"], deprecated: [], removed: ["v1beta1", "v1beta2"] },
      Bucket: { write: "v1", served: ["v1"], deprecated: [], removed: ["v1beta1", "v1beta2"] },
      HelmRelease: { write: "v2", served: ["v2"], deprecated: [], removed: ["v2beta1", "v2beta2"] },
      ImageRepository: { write: "v1", served: ["v1", "v1beta2"], deprecated: ["v1beta2"], removed: ["v1alpha1", "v1alpha2", "v1beta1"] },
      ImagePolicy: { write: "v1", served: ["v1", "v1beta2"], deprecated: ["v1beta2"], removed: ["v1alpha1", "v1alpha2", "v1beta1"] },
      ImageUpdateAutomation: { write: "v1", served: ["v1", "v1beta2"], deprecated: ["v1beta2"], removed: ["v1alpha1", "v1alpha2", "v1beta1"] },
      Alert: { write: "v1beta3", served: ["v1beta3", "v1beta2"], deprecated: ["v1beta2"], removed: ["v1beta1"] },
      Provider: { write: "v1beta3", served: ["v1beta3", "v1beta2"], deprecated: ["v1beta2"], removed: ["v1beta1"] },
      Receiver: { write: "v1", served: ["v1", "v1beta2"], deprecated: ["v1beta2"], removed: ["v1beta1"] },
    },
    strictSubstitution: false,
    extraComponents: WITH_SOURCE_WATCHER,
    terraformProvider: "1.8.5",
    // fluxcd/helm-controller CHANGELOG.md 1.5.0 (Flux 2.8 ships helm-controller v1.5.x): Helm v4.
    changes: [
      {
        id: "helm-server-side-apply",
        what: "helm-controller runs Helm v4: a HelmRelease installed from now on is applied with server-side apply (existing releases keep client-side apply until .spec.upgrade.serverSideApply: enabled)",
        todo: "check the chart for fields other managers own and for post-renderers that depend on client-side apply, or keep client-side apply with .spec.install.serverSideApply: false",
        source: "fluxcd/helm-controller CHANGELOG.md, 1.5.0",
      },
      {
        id: "helm-kstatus-health",
        what: "HelmRelease health checks use kstatus (.spec.waitStrategy.name: poller) instead of Helm v3's readiness checks",
        todo: "check that the chart's resources report a status kstatus reads (custom resources with conditions), or keep Helm v3's checks with .spec.waitStrategy.name: legacy",
        source: "fluxcd/helm-controller CHANGELOG.md, 1.5.0",
      },
      {
        // fluxcd/flux2 v2.8.6 manifests/bases/notification-controller/kustomization.yaml -> v1.8.4
        id: "gcr-receiver-audience",
        since: "v2.8.6",
        what: "GCR Receivers require the audience field in the Secret they reference (no longer reconstructed from the Receiver)",
        todo: "add audience (the push subscription's OIDC audience) to the Secret named by the Receiver's spec.secretRef before upgrading",
        source: "fluxcd/notification-controller CHANGELOG.md, 1.8.4",
      },
    ],
  },
  "2.9": {
    // fluxcd/flux2 v2.9.0..v2.9.4 (the newest tag stored) manifests/bases/*/kustomization.yaml
    // -> source v1.9.4 (CRDs read at v1.9.1, the newest tag stored), kustomize v1.9.4, helm v1.6.3,
    // notification v1.9.3, image-reflector v1.2.4 (CRDs read at v1.2.0, the newest tag stored),
    // image-automation v1.2.4 (CRDs read at v1.2.1, the newest tag stored): config/crd/bases/*.yaml
    // at those tags
    // removals: fluxcd/flux2#5942 (image, notification v1beta2); fluxcd/notification-controller#1327;
    // fluxcd/image-reflector-controller CHANGELOG 1.2.0. Strict substitution: kustomize-controller
    // v1.9 internal/features/features.go (StrictPostBuildSubstitutions: true, "opt-out from v1.9")
    kinds: {
      Kustomization: { write: "v1", served: ["v1"], deprecated: [], removed: ["v1beta1", "v1beta2"] },
      GitRepository: { write: "v1", served: ["v1"], deprecated: [], removed: ["v1beta1", "v1beta2"] },
      OCIRepository: { write: "v1", served: ["v1"], deprecated: [], removed: ["v1beta2"] },
      HelmRepository: { write: "v1", served: ["v1"], deprecated: [], removed: ["v1beta1", "v1beta2"] },
      HelmChart: { write: "v1", served: ["v1"], deprecated: [], removed: ["v1beta1", "v1beta2"] },
      Bucket: { write: "v1", served: ["v1"], deprecated: [], removed: ["v1beta1", "v1beta2"] },
      HelmRelease: { write: "v2", served: ["v2"], deprecated: [], removed: ["v2beta1", "v2beta2"] },
      ImageRepository: { write: "v1", served: ["v1"], deprecated: [], removed: ["v1alpha1", "v1alpha2", "v1beta1", "v1beta2"] },
      ImagePolicy: { write: "v1", served: ["v1"], deprecated: [], removed: ["v1alpha1", "v1alpha2", "v1beta1", "v1beta2"] },
      ImageUpdateAutomation: { write: "v1", served: ["v1"], deprecated: [], removed: ["v1alpha1", "v1alpha2", "v1beta1", "v1beta2"] },
      Alert: { write: "v1beta3", served: ["v1beta3"], deprecated: [], removed: ["v1beta1", "v1beta2"] },
      Provider: { write: "v1beta3", served: ["v1beta3"], deprecated: [], removed: ["v1beta1", "v1beta2"] },
      Receiver: { write: "v1", served: ["v1"], deprecated: [], removed: ["v1beta1", "v1beta2"] },
    },
    strictSubstitution: true,
    extraComponents: WITH_SOURCE_WATCHER,
    // fluxcd/terraform-provider-flux#836 "Update Flux to v2.9.5" (github.com/fluxcd/flux2 v2.9.5),
    // released as #837 "Release v1.9.5"; each 1.9.N before it follows #82x "Update Flux to v2.9.N"
    // the same way (#828/#829, #830/#831). The stored provider repo's tags end at 1.8.5.
    terraformProvider: "1.9.5",
    changes: [
      {
        id: "strict-substitution",
        what: "kustomize-controller substitutes strictly: a ${var} with no value and no default fails the Kustomization instead of becoming an empty string",
        todo: "give the variable a value (cluster-vars, or postBuild.substitute) or a default ${var:=value}, opt the resource out with kustomize.toolkit.fluxcd.io/substitute: disabled, or set --feature-gates=StrictPostBuildSubstitutions=false on kustomize-controller",
        // fluxcd/kustomize-controller CHANGELOG.md 1.9.0; internal/features/features.go (StrictPostBuildSubstitutions: true)
        source: "fluxcd/kustomize-controller CHANGELOG.md, 1.9.0",
      },
      {
        id: "helm-post-render-combined",
        what: "the default post-render strategy is combined: Helm hooks are sent to post-renderers too (Helm v4.2's default; it was nohooks)",
        todo: "check that each post-renderer handles hook manifests, or keep the old behaviour with .spec.postRenderStrategy: nohooks",
        source: "fluxcd/helm-controller CHANGELOG.md, 1.6.0",
      },
      {
        id: "gcr-receiver-email-audience",
        what: "GCR Receivers require the email and audience fields in the Secret they reference (CVE-2026-40109)",
        todo: "add email (the push subscription's service account) and audience to the Secret named by the Receiver's spec.secretRef before upgrading",
        source: "fluxcd/notification-controller CHANGELOG.md, 1.9.0",
      },
    ],
  },
};
