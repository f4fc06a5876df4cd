/**
 * The CI that runs `fleet validate` on every pull request of a fleet repo (design section 2):
 * GitHub Actions for github, GitLab CI for gitlab; a plain git host gets none (fleet cannot know
 * its CI). Each lists the clusters first and validates one cluster a job.
 */
import type { FleetConfig } from "../src/core/config.js";
import type { FleetAction } from "../src/core/generator.js";

/** What the jobs pin, besides the fleet release itself. */
export const CI_PINS = { kubectlVersion: "v1.32.4", nodeVersion: "22.12.0", nodeImage: "node:22.12.0-bookworm" } as const;

/** Where each provider's CI files go, and their templates. */
const CI_FILES: Record<FleetConfig["git"]["provider"], Array<{ path: string; template: string }>> = {
  github: [
    { path: ".github/workflows/fleet-validate.yaml", template: "ci/github-workflow.yaml" },
    { path: ".github/actions/setup-fleet/action.yaml", template: "ci/github-setup-fleet.yaml" },
  ],
  gitlab: [
    { path: ".gitlab-ci.yml", template: "ci/gitlab-ci.yml" },
    { path: ".gitlab/fleet-validate.yml", template: "ci/gitlab-fleet-validate.yml" },
  ],
  git: [],
};

/** The provider's CI files: seeds, written where missing and the repo's own from then on. */
export function ciActions(config: FleetConfig, fleetVersion: string): FleetAction[] {
  const data = { ...CI_PINS, fleetVersion, branch: config.git.branch };
  return CI_FILES[config.git.provider].map((f): FleetAction => ({ type: "fleet:render", ...f, data, ifMissing: true }));
}

/** The files ciActions writes for a provider (none for plain git). */
export const ciFiles = (provider: FleetConfig["git"]["provider"]) => CI_FILES[provider].map((f) => f.path);
