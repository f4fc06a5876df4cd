/** `fleet bootstrap <cluster>`: run the cluster's pinned bootstrap again, exactly as new-cluster did. */
import { bootstrapCommands, BOOTSTRAP_METHODS, listClusters, readClusterSettings, terraformDir, type BootstrapMethod } from "../src/core/bootstrap.js";
import type { Generator } from "../src/core/generator.js";

export const bootstrap: Generator = {
  name: "bootstrap",
  description: "Run the pinned bootstrap of an existing cluster again (flux CLI or Terraform)",
  needsRepo: true,
  answers: [
    { name: "cluster", positional: true, message: "Cluster to bootstrap", type: "list", choices: (ctx) => listClusters(ctx.cs) },
    {
      name: "method",
      message: "Bootstrap with (default: terraform when terraform/<cluster>/ exists, else flux)",
      type: "list",
      ask: false,
      choices: () => BOOTSTRAP_METHODS.filter((m) => m !== "none"),
      default: (ctx, a) => (a.cluster ? readClusterSettings(ctx.cs, String(a.cluster)).method : undefined),
    },
  ],
  check: (a, ctx) =>
    a.method === "terraform" && !ctx.cs.exists(`${terraformDir(String(a.cluster))}/main.tf`)
      ? [{ field: "--method", rule: `cluster '${String(a.cluster)}' has no ${terraformDir(String(a.cluster))}/main.tf`, fix: "bootstrap it with --method flux, or add it with fleet new-cluster --bootstrap terraform" }]
      : [],
  actions: () => [],
  commands: (a, ctx) => {
    const settings = readClusterSettings(ctx.cs, String(a.cluster));
    return bootstrapCommands(ctx.config, settings, String(a.method) as BootstrapMethod, false);
  },
};

export default bootstrap;
