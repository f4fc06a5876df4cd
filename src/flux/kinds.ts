/** The Flux kinds fleet knows, and the API group each belongs to. */
export type FluxKind =
  | "Kustomization"
  | "GitRepository"
  | "OCIRepository"
  | "HelmRepository"
  | "HelmChart"
  | "Bucket"
  | "HelmRelease"
  | "ImageRepository"
  | "ImagePolicy"
  | "ImageUpdateAutomation"
  | "Alert"
  | "Provider"
  | "Receiver";

export const GROUP: Readonly<Record<FluxKind, string>> = {
  Kustomization: "kustomize.toolkit.fluxcd.io",
  GitRepository: "source.toolkit.fluxcd.io",
  OCIRepository: "source.toolkit.fluxcd.io",
  HelmRepository: "source.toolkit.fluxcd.io",
  HelmChart: "source.toolkit.fluxcd.io",
  Bucket: "source.toolkit.fluxcd.io",
  HelmRelease: "helm.toolkit.fluxcd.io",
  ImageRepository: "image.toolkit.fluxcd.io",
  ImagePolicy: "image.toolkit.fluxcd.io",
  ImageUpdateAutomation: "image.toolkit.fluxcd.io",
  Alert: "notification.toolkit.fluxcd.io",
  Provider: "notification.toolkit.fluxcd.io",
  Receiver: "notification.toolkit.fluxcd.io",
};

/** The group of a Flux kind, for recognising Flux objects in any repo. */
export function fluxGroup(kind: string): string | undefined {
  return (GROUP as Record<string, string>)[kind];
}
