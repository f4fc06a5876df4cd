/**
 * validate walks a cluster as Flux would: a parent's substitution before its children are
 * followed, spec.components, every source that is this repository (the cluster's own sync source
 * of any kind, a GitRepository naming the origin, an ExternalArtifact generated from it), other
 * clusters' objects marked and their Kustomizations left to their own Flux, and what it does not
 * expand said. Fixtures take the shapes of Flux's and ControlPlane's example repositories.
 */
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { Builder } from "../src/validate/build.js";
import { walkCluster, type Walked } from "../src/validate/discover.js";
import { validateRepo } from "../src/validate/index.js";
import { ref } from "../src/validate/model.js";
import { substituteObject, variablesFor } from "../src/validate/substitute.js";
import { run, tmpDir, write } from "./helpers.js";

const KS = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n";
const KZ = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n";
const cm = (name: string, ns: string, data = "") => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n${data}`;
const sync = (name: string, ns: string, p: string, src = "GitRepository", srcName = "flux-system", more = "") =>
  `${KS}metadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n  interval: 1h\n  prune: true\n  path: ${p}\n  sourceRef:\n    kind: ${src}\n    name: ${srcName}\n    namespace: flux-system\n${more}`;

function repo(files: Record<string, string>): string {
  const root = path.join(tmpDir(), "fleet");
  for (const [f, text] of Object.entries(files)) write(root, f, text);
  return root;
}

const walk = (root: string, entry: string, self = { kind: "GitRepository", name: "flux-system" }) =>
  walkCluster({ root, cluster: path.posix.basename(entry), entry, sources: new Map(), builder: new Builder(), self });

/** Each object as `kind/ns/name <- applier @file`, and a target where it lands elsewhere. */
const listed = (w: Walked) => w.objects.map((a) => `${ref(a.obj)} <- ${a.appliedBy || "cluster"} @${a.file}${a.target ? ` => ${a.target}` : ""}`);

describe("substitution comes before the children are followed", () => {
  it("a child's path with ${ENVIRONMENT} from its parent's substituteFrom ConfigMap is built (d1-fleet)", async () => {
    const root = repo({
      "clusters/staging/runtime-info.yaml": cm("flux-runtime-info", "flux-system", "data:\n  ENVIRONMENT: staging\n"),
      "clusters/staging/apps-tenant.yaml": sync("apps-tenant", "flux-system", "./tenants/apps", "GitRepository", "flux-system", "  postBuild:\n    substituteFrom:\n      - kind: ConfigMap\n        name: flux-runtime-info\n      - kind: ConfigMap\n        name: team-vars\n"),
      "tenants/apps/kustomization.yaml": `${KZ}resources:\n  - sync.yaml\n  - team.yaml\n`,
      "tenants/apps/sync.yaml": `${sync("backend", "flux-system", "./components/backend/${ENVIRONMENT}")}---\n${sync("frontend", "flux-system", "./components/frontend", "GitRepository", "apps-${ENVIRONMENT}")}`,
      "tenants/apps/team.yaml": cm("team", "flux-system", "data:\n  name: ${TEAM}\n"),
      "components/backend/staging/kustomization.yaml": `${KZ}resources:\n  - cm.yaml\n`,
      // Applied a level below the Kustomization that reads it: found once the walk is done.
      "components/backend/staging/cm.yaml": cm("team-vars", "flux-system", "data:\n  TEAM: payments\n"),
    });
    const w = await walk(root, "clusters/staging");
    expect(w.buildErrors).toEqual([]);
    expect(listed(w)).toEqual([
      "ConfigMap/flux-system/flux-runtime-info <- cluster @clusters/staging/runtime-info.yaml",
      "Kustomization/flux-system/apps-tenant <- cluster @clusters/staging/apps-tenant.yaml",
      "ConfigMap/flux-system/team <- Kustomization/flux-system/apps-tenant @tenants/apps/team.yaml",
      "Kustomization/flux-system/backend <- Kustomization/flux-system/apps-tenant @tenants/apps/sync.yaml",
      "Kustomization/flux-system/frontend <- Kustomization/flux-system/apps-tenant @tenants/apps/sync.yaml",
      "ConfigMap/flux-system/team-vars <- Kustomization/flux-system/backend @components/backend/staging/cm.yaml",
    ]);
    expect(w.notChecked).toEqual(["GitRepository/flux-system/apps-staging (source of Kustomization/flux-system/frontend)"]);
    expect(w.objects.find((a) => a.obj.metadata?.name === "team")!.obj.data).toEqual({ name: "payments" });
    expect([w.unresolved, w.missingVarSources]).toEqual([[], []]);
  });
});

describe("substitution as fluxcd/pkg does it", () => {
  const ks = (post: object) => ({ apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization", metadata: { name: "a", namespace: "flux-system" }, spec: { postBuild: post } });
  const obj = { kind: "ConfigMap", metadata: { name: "c" }, data: { a: "${zone:=eu}", b: "${gone}", c: "${empty}", d: "${v-x}" } };

  it("runs only when a variable is defined (or substituteStrategy: Always); values lose their newlines; an empty value is a value", async () => {
    const none = variablesFor(ks({ substituteFrom: [{ kind: "ConfigMap", name: "absent", optional: true }] }), []);
    expect(none.active).toBe(false);
    expect(substituteObject(obj, none.vars, none.active)).toEqual({ obj, missing: ["empty", "gone"] });
    const always = variablesFor(ks({ substituteStrategy: "Always" }), []);
    expect(substituteObject(obj, always.vars, always.active).obj.data).toEqual({ a: "eu", b: "", c: "", d: "${v-x}" });
    const some = variablesFor(ks({ substitute: { empty: "", zone: "us\n" } }), []);
    expect(substituteObject(obj, some.vars, some.active)).toEqual({ obj: { ...obj, data: { a: "us", b: "", c: "", d: "${v-x}" } }, missing: ["gone"] });
  });
});

describe("spec.components", () => {
  it("a component's ClusterRoleBinding is among what the Kustomization applies", async () => {
    const root = repo({
      "clusters/prod/apps.yaml": sync("apps", "flux-system", "./apps", "GitRepository", "flux-system", "  targetNamespace: apps\n  components:\n    - ../components/admin\n"),
      "apps/kustomization.yaml": `${KZ}resources:\n  - cm.yaml\n`,
      "apps/cm.yaml": cm("app", "default"),
      "components/admin/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources:\n  - crb.yaml\n",
      "components/admin/crb.yaml":
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: apps-admin\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: cluster-admin\nsubjects:\n  - kind: ServiceAccount\n    name: default\n    namespace: apps\n",
    });
    const w = await walk(root, "clusters/prod");
    expect(w.buildErrors).toEqual([]);
    expect(listed(w)).toEqual([
      "Kustomization/flux-system/apps <- cluster @clusters/prod/apps.yaml",
      "ClusterRoleBinding/apps-admin <- Kustomization/flux-system/apps @components/admin/crb.yaml",
      "ConfigMap/apps/app <- Kustomization/flux-system/apps @apps/cm.yaml",
    ]);
    expect(w.notChecked).toEqual([]);
  });
});

describe("sources that are this repository", () => {
  it("a FluxInstance syncing from an OCIRepository: its Kustomizations are followed (d2-fleet)", async () => {
    const root = repo({
      "clusters/prod/flux-system/flux-instance.yaml":
        "apiVersion: fluxcd.controlplane.io/v1\nkind: FluxInstance\nmetadata:\n  name: flux\n  namespace: flux-system\nspec:\n  distribution:\n    version: 2.7.4\n    registry: ghcr.io/fluxcd\n  sync:\n    kind: OCIRepository\n    url: oci://ghcr.io/acme/fleet\n    ref: latest\n    path: clusters/prod\n",
      "clusters/prod/tenants.yaml": sync("tenants", "flux-system", "./tenants", "OCIRepository"),
      "tenants/kustomization.yaml": `${KZ}resources:\n  - cm.yaml\n`,
      "tenants/cm.yaml": cm("tenant", "default"),
    });
    const [c] = await validateRepo({ root, sources: new Map() });
    expect(c!.objects.map((a) => `${ref(a.obj)} <- ${a.appliedBy || "cluster"}`)).toEqual([
      "FluxInstance/flux-system/flux <- cluster",
      "Kustomization/flux-system/tenants <- cluster",
      "ConfigMap/default/tenant <- Kustomization/flux-system/tenants",
    ]);
    expect(c!.notChecked).toEqual([]);
  });

  it("Flux bootstrapped into another namespace (flux bootstrap --namespace flux): its own source is followed", async () => {
    const deploy = (c: string) => `---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${c}\n  namespace: flux\n`;
    const root = repo({
      "clusters/prod/flux/gotk-components.yaml": `# Flux Version: v2.7.4\n${["source-controller", "kustomize-controller"].map(deploy).join("")}`,
      "clusters/prod/flux/gotk-sync.yaml":
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux\n  namespace: flux\nspec:\n  interval: 1m\n  url: ssh://git@github.com/acme/fleet\n  ref:\n    branch: main\n---\n" +
        `${KS}metadata:\n  name: flux\n  namespace: flux\nspec:\n  interval: 10m\n  path: ./clusters/prod\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux\n`,
      "clusters/prod/flux/kustomization.yaml": `${KZ}resources:\n  - gotk-components.yaml\n  - gotk-sync.yaml\n`,
      "clusters/prod/apps.yaml": `${KS}metadata:\n  name: apps\n  namespace: flux\nspec:\n  interval: 1h\n  prune: true\n  path: ./apps\n  sourceRef:\n    kind: GitRepository\n    name: flux\n`,
      "apps/cm.yaml": cm("app", "default"),
    });
    const [c] = await validateRepo({ root, sources: new Map() });
    expect(c!.objects.map((a) => `${ref(a.obj)} <- ${a.appliedBy || "cluster"}`)).toContain("ConfigMap/default/app <- Kustomization/flux/apps");
    expect(c!.notChecked.filter((n) => n.includes("source of"))).toEqual([]);
  });

  it("a GitRepository of another name whose url is the origin's is followed; another repository is not", async () => {
    const root = repo({
      "clusters/prod/sources.yaml":
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: other\n  namespace: flux-system\nspec:\n  url: ssh://git@github.com/acme/fleet\n  ref:\n    branch: main\n---\n" +
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: elsewhere\n  namespace: flux-system\nspec:\n  url: https://github.com/acme/other.git\n",
      "clusters/prod/apps.yaml": `${sync("apps", "flux-system", "./apps", "GitRepository", "other")}---\n${sync("more", "flux-system", "./apps", "GitRepository", "elsewhere")}`,
      "apps/cm.yaml": cm("app", "default"),
    });
    for (const args of [["init", "-q", "-b", "main"], ["remote", "add", "origin", "https://github.com/acme/fleet.git"]]) expect((await run("git", args, { cwd: root })).code).toBe(0);
    const w = await walk(root, "clusters/prod");
    expect(listed(w).slice(-1)).toEqual(["ConfigMap/default/app <- Kustomization/flux-system/apps @apps/cm.yaml"]);
    expect(w.notChecked).toEqual(["GitRepository/flux-system/elsewhere (source of Kustomization/flux-system/more)"]);
  });

  it("an ExternalArtifact an ArtifactGenerator copies from this repository is built from the copied files (flux2-kustomize-helm-example)", async () => {
    const gen =
      "apiVersion: source.extensions.fluxcd.io/v1beta1\nkind: ArtifactGenerator\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  sources:\n    - alias: monorepo\n      kind: GitRepository\n      name: flux-system\n  artifacts:\n" +
      "    - name: apps\n      copy:\n        - from: \"@monorepo/apps/base/**\"\n          to: \"@artifact/base/\"\n        - from: \"@monorepo/apps/production/**\"\n          to: \"@artifact/production/\"\n" +
      "    - name: merged\n      copy:\n        - from: \"@monorepo/apps/base/**\"\n          to: \"@artifact/\"\n          strategy: Merge\n";
    const root = repo({
      "clusters/production/artifacts.yaml": gen,
      "clusters/production/apps.yaml": `${sync("apps", "flux-system", "./production", "ExternalArtifact", "apps")}---\n${sync("merged", "flux-system", "./", "ExternalArtifact", "merged")}`,
      "apps/base/kustomization.yaml": `${KZ}resources:\n  - podinfo.yaml\n`,
      "apps/base/podinfo.yaml": cm("podinfo", "podinfo"),
      "apps/production/kustomization.yaml": `${KZ}resources:\n  - ../base\n  - values.yaml\n`,
      "apps/production/values.yaml": cm("values", "podinfo"),
      // Not copied into the artifact: a build that reached it would show it.
      "apps/staging/kustomization.yaml": `${KZ}resources:\n  - ../base\n`,
    });
    const w = await walk(root, "clusters/production");
    expect(w.buildErrors).toEqual([]);
    expect(listed(w).slice(3)).toEqual([
      "ConfigMap/podinfo/podinfo <- Kustomization/flux-system/apps @apps/base/podinfo.yaml",
      "ConfigMap/podinfo/values <- Kustomization/flux-system/apps @apps/production/values.yaml",
    ]);
    expect(w.notChecked).toEqual([
      "ExternalArtifact/flux-system/merged (source of Kustomization/flux-system/merged): ArtifactGenerator/flux-system/flux-system: artifact merged copies @monorepo/apps/base/** -> @artifact/, with strategy Merge; validate does not reproduce it",
    ]);
  });
});

describe("what validate does not expand, and other clusters", () => {
  it("a ResourceSet is listed as not checked (d2-fleet tenants)", async () => {
    const root = repo({
      "clusters/prod/tenants.yaml":
        "apiVersion: fluxcd.controlplane.io/v1\nkind: ResourceSet\nmetadata:\n  name: apps\n  namespace: flux-system\nspec:\n  inputs:\n    - tenant: team1\n  resources:\n    - apiVersion: v1\n      kind: Namespace\n      metadata:\n        name: << inputs.tenant >>\n",
    });
    const w = await walk(root, "clusters/prod");
    expect(listed(w)).toEqual(["ResourceSet/flux-system/apps <- cluster @clusters/prod/tenants.yaml"]);
    expect(w.notChecked).toEqual(["ResourceSet/flux-system/apps: not expanded; its templates are not checked"]);
  });

  it("a hub's kubeConfig Kustomization: its objects carry their cluster, and that cluster's Kustomizations are not followed (flux2-hub-spoke-example)", async () => {
    const root = repo({
      "hub/flux-system/gotk-sync.yaml": sync("flux-system", "flux-system", "./hub"),
      "hub/production.yaml": sync("tenants", "production", "./deploy/tenants", "GitRepository", "flux-system", "  kubeConfig:\n    secretRef:\n      name: cluster-kubeconfig\n"),
      "deploy/tenants/kustomization.yaml": `${KZ}resources:\n  - podinfo.yaml\n`,
      "deploy/tenants/podinfo.yaml": `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: podinfo\n---\n${sync("podinfo", "podinfo", "./deploy/apps")}`,
      "deploy/apps/cm.yaml": cm("podinfo", "podinfo"),
    });
    const w = await walk(root, "hub");
    expect(listed(w).slice(-2)).toEqual([
      "Namespace/podinfo <- Kustomization/production/tenants @deploy/tenants/podinfo.yaml => production/cluster-kubeconfig",
      "Kustomization/podinfo/podinfo <- Kustomization/production/tenants @deploy/tenants/podinfo.yaml => production/cluster-kubeconfig",
    ]);
    expect(w.notChecked).toEqual(["Kustomization/podinfo/podinfo: applied to cluster production/cluster-kubeconfig, whose own Flux reconciles it; not followed"]);
  });
});
