/** `fleet bootstrap <cluster>`: run the cluster's pinned bootstrap again, exactly as new-cluster did. */
import { bootstrapCommands, BOOTSTRAP_METHODS, listClusters, methodProblem, operatorPinProblem, placeholderProblem, readClusterSettings, type BootstrapMethod } from "../src/core/bootstrap.js";
import type { Generator } from "../src/core/generator.js";

export const bootstrap: Generator = {
  name: "bootstrap",
  description: "Run the pinned bootstrap of an existing cluster again (flux CLI, Terraform or the Flux Operator)",
  needsRepo: true,
  answers: [
    { name: "cluster", positional: true, message: "Cluster to bootstrap", type: "list", choices: (ctx) => listClusters(ctx.cs) },
    {
      name: "method",
      message: "Bootstrap with (default: terraform when terraform/<cluster>/ exists, operator when flux-system/flux-instance.yaml does, else flux)",
      type: "list",
      ask: false,
      choices: () => BOOTSTRAP_METHODS.filter((m) => m !== "none"),
      default: (ctx, a) => (a.cluster ? readClusterSettings(ctx.cs, String(a.cluster)).method : undefined),
    },
  ],
  check: (a, ctx) => {
    const name = String(a.cluster);
    const method = String(a.method) as BootstrapMethod;
    return [placeholderProblem(ctx.config), methodProblem(ctx.cs, name, method), method === "operator" ? operatorPinProblem(ctx.config, name) : undefined].filter((p) => p !== undefined);
  },
  actions: () => [],
  commands: (a, ctx) => {
    const settings = readClusterSettings(ctx.cs, String(a.cluster));
    return bootstrapCommands(ctx.config, settings, String(a.method) as BootstrapMethod, false);
  },
};

export default bootstrap;
