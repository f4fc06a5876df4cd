/**
 * The Flux Operator as fleet installs it (design 4.1): the Helm chart pinned exactly, and what
 * that release of the operator can install. Each fact names where it was read.
 */

/**
 * fleet's default operator chart: the one of operator release v0.58.1 (tag of 2026-08-19, the
 * newest in controlplaneio-fluxcd/flux-operator). Each operator release publishes its chart at
 * the bare version (cmd/cli/distro_mirror.go at v0.58.1: "Helm charts are published without
 * [the v]", chart `ghcr.io/controlplaneio-fluxcd/charts/flux-operator:<version>`); the stored
 * controlplaneio-fluxcd/charts Chart.yaml lags (0.49.0, 2026-05-13). The OCI location from
 * docs/guides/operator/operator-install.md. Renovate bumps `version` here.
 */
export const OPERATOR_CHART = {
  release: "flux-operator",
  url: "oci://ghcr.io/controlplaneio-fluxcd/charts/flux-operator",
  version: "0.58.1",
  readFrom: "controlplaneio-fluxcd/flux-operator tag v0.58.1 (cmd/cli/distro_mirror.go: chart version = operator version)",
} as const;

/**
 * The Flux releases the operator of that chart embeds (controlplaneio-fluxcd/flux-operator
 * config/data/flux/ at tag v0.58.1). Without `distribution.artifact` (fleet sets none: an
 * unpinned artifact would move under the pin) the operator builds only these, and with it it
 * still selects only the minors it embeds (docs/api/v1/fluxinstance.md, "Distribution artifact").
 */
export const OPERATOR_FLUX_RELEASES: readonly string[] = [
  "v2.2.3", "v2.3.0", "v2.4.0", "v2.5.0", "v2.5.1",
  "v2.6.0", "v2.6.1", "v2.6.2", "v2.6.3", "v2.6.4",
  "v2.7.0", "v2.7.1", "v2.7.2", "v2.7.3", "v2.7.4", "v2.7.5",
  "v2.8.0", "v2.8.1", "v2.8.2", "v2.8.3", "v2.8.5", "v2.8.6", "v2.8.7", "v2.8.8",
  "v2.9.0", "v2.9.1", "v2.9.2", "v2.9.3", "v2.9.4",
];

/** Where the operator's container images come from (FluxInstance `distribution.registry` is required). */
export const OPERATOR_REGISTRY = "ghcr.io/fluxcd";

/**
 * The controllers a FluxInstance installs besides the configured extras: the operator's default
 * set (controlplaneio-fluxcd/flux-operator api/v1/fluxinstance_types.go, `Components`).
 */
export const OPERATOR_CORE_COMPONENTS = ["source-controller", "kustomize-controller", "helm-controller", "notification-controller"] as const;

/**
 * The Secret the FluxInstance's sync reads (`sync.pullSecret`, in its namespace). For Git over
 * HTTPS it holds `username` and `password` (api/v1/fluxinstance_types.go, `PullSecret`): what
 * `flux bootstrap --token-auth` stores, the token as password under username `git`.
 */
export const SYNC_SECRET = { name: "flux-system", namespace: "flux-system", username: "git" } as const;

/**
 * `cluster.multitenant: true` applies the operator's lockdown profile
 * (internal/builder/profiles.go, profileClusterMultitenant, at v0.58.1):
 * --no-cross-namespace-refs=true on kustomize-, helm-, notification-, image-reflector-,
 * image-automation-controller and source-watcher (since v0.30.0), --no-remote-bases=true on
 * kustomize-controller, --default-service-account=<tenantDefaultServiceAccount> on kustomize- and
 * helm-controller, and serviceAccountName: kustomize-controller on every Kustomization it builds,
 * the sync's included. That is all of design 4.2, so fleet adds no kustomize patches of its own.
 */
export const TENANT_DEFAULT_SERVICE_ACCOUNT = "default";

/** Whether the pinned operator can install this exact Flux release. */
export const operatorInstalls = (fluxVersion: string): boolean => OPERATOR_FLUX_RELEASES.includes(fluxVersion);
