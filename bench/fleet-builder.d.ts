/** Types of bench/fleet-builder.js, for the tests that make their flat repos with it. */
export function addTenantsInProcess(repo: string, names: string[]): Promise<void>;
export function toFlat(repo: string, envs: string[]): Promise<void>;
