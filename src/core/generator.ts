/**
 * The shape of a fleet generator: one answers table (each answer is both a flag and a prompt,
 * with one validation) and a declarative list of actions. Generators never touch the disk;
 * their actions are staged into the change set by the action types in actions.ts.
 */
import type { ChangeSet } from "../changeset/changeset.js";
import type { Adopted } from "./adopt.js";
import type { Origin } from "../model/origin.js";
import type { CustomProof, ProofPlan } from "../changeset/proof.js";
import type { FleetConfig } from "./config.js";
import type { FluxKind } from "../flux/index.js";
import type { RepoModel } from "../model/repo.js";
import type { ObjectMatch } from "./yaml-edit.js";

export type AnswerValue = string | string[] | boolean;
export type Answers = Record<string, AnswerValue>;

/** What a generator may know of the repo: read-only facts, gathered before it runs. */
export interface Context {
  /** The staged view of the repo; generators read it, only actions write it. */
  cs: ChangeSet;
  config: FleetConfig;
  environments: string[];
  tenants: string[];
  api: Partial<Record<FluxKind, string>>;
  /** The repo as Flux reads it, before this run's changes. */
  model: RepoModel;
  /** init --adopt: what the existing repo says, and where each fact was read. */
  adopted?: Adopted;
  /** init: the git coordinates of the directory's own origin, when it is a clone with one. */
  origin?: Origin;
}

export interface AnswerSpec {
  name: string;
  /** Flag name without dashes; defaults to the answer's name. */
  flag?: string;
  /** The prompt, and the flag's help line. */
  message: string;
  type?: "input" | "confirm" | "list" | "checkbox";
  /** Given as the command's positional argument. */
  positional?: boolean;
  /** The flag takes a list: repeated or comma-separated. */
  multiple?: boolean;
  /** Shown in --help for values that are not plain strings. */
  hint?: string;
  /** The only values allowed, as flag or prompt (a prompt lists them). */
  choices?: (ctx: Context) => string[];
  /**
   * Listed at the prompt, but any value passes as a flag: a name the repo no longer has can be
   * right (remove-tenant of a tenant already removed changes nothing and succeeds).
   */
  offer?: (ctx: Context) => string[];
  default?: (ctx: Context, answers: Answers) => AnswerValue | undefined;
  /** The default as --help says it, for one `default` computes from more than fleet.yaml and the other answers. */
  defaultHelp?: string;
  /** false: a flag only, never prompted (switches that override a safety rule). */
  ask?: boolean;
  /** May stay unanswered: no default, and not required (one of several alternatives). */
  optional?: boolean;
  /** Asked only when this says so (given the answers so far). */
  when?: (answers: Answers, ctx: Context) => boolean;
  /** The broken rule as a sentence, or undefined when the value is fine. */
  validate?: (value: AnswerValue, ctx: Context, answers: Answers) => string | undefined;
}

export type FleetAction =
  /** ifMissing: a file fleet only seeds and then edits line by line (CODEOWNERS). */
  | { type: "fleet:render"; path: string; template: string; data: object; ifMissing?: boolean }
  | {
      type: "fleet:kustomization";
      path: string;
      addResources?: string[];
      removeResources?: string[];
      addPatches?: string[];
      removePatches?: string[];
      /** Entries of the older `patchesStrategicMerge` list (Flux's multi-tenancy example has them). */
      removeStrategicMerge?: string[];
    }
  /** Move an overlay's entries and transformers into the sub-overlay `into`, so what is added beside it is outside them. */
  | { type: "fleet:isolate-overlay"; path: string; into: string }
  /** Its reverse, done only when the overlay holds nothing but that sub-overlay any more. */
  | { type: "fleet:merge-isolated"; path: string; into: string }
  | { type: "fleet:line"; path: string; key: string; line?: string }
  | { type: "fleet:delete"; path: string }
  /** Take out the documents whose apiVersion group ends with `groupSuffix`, keeping every other byte; the file goes when none is left. */
  | { type: "fleet:remove-documents"; path: string; groupSuffix: string }
  | { type: "fleet:yaml-list-add"; path: string; key: string | string[]; value: string | Record<string, unknown>; matchKey?: string }
  /** Add Flux image setter markers to the lines under `dir` that use `image`. */
  | { type: "fleet:image-setters"; dir: string; image: string; policy: string }
  /** Move a file, its bytes unchanged (a second run, with it moved already, changes nothing). */
  | { type: "fleet:move"; path: string; to: string }
  /** Set a string at a key path, creating the maps on the way; null removes it and the maps it leaves empty. Comments are kept. */
  | { type: "fleet:yaml-put"; path: string; keyPath: string[]; value: string | null }
  /** Add a value at a key path of one object of a multi-document file, as a line; every other byte is kept. */
  | { type: "fleet:object-put"; path: string; match: ObjectMatch; keyPath: string[]; value: string | boolean; replace?: boolean }
  /** Set one scalar (by key path) in place, keeping every other byte. */
  | { type: "fleet:yaml-set"; path: string; keyPath: string[]; value: string }
  /** Replace what `pattern` (a regular expression source) matches, for files that are not YAML. */
  | { type: "fleet:replace"; path: string; pattern: string; replacement: string }
  /** Rewrite the apiVersion of every Flux object in the file to the one given for its kind. */
  | { type: "fleet:api-versions"; path: string; versions: Partial<Record<string, string>> };

/**
 * An external command a generator asks for (flux bootstrap, terraform apply), described as data:
 * the runners check its preconditions before anything is written and run it after the change
 * set is applied; --dry-run only prints it.
 */
export interface ExternalCommand {
  tool: "flux" | "terraform" | "helm" | "kubectl";
  args: string[];
  /** Shown before it runs. */
  title: string;
  /** Repo-relative working directory. */
  cwd?: string;
  /** Environment variables that must be set (secrets: passed through, never in argv or files). */
  requiredEnv?: Array<{ name: string; why: string }>;
  /** Child variables taken from fleet's environment: child name -> fleet's variable. */
  envFrom?: Record<string, string>;
  /** The child's standard input is the value of this variable of fleet's (a secret kubectl reads from /dev/stdin). */
  stdinFrom?: string;
  /** Appended under --yes; without it the tool asks on the terminal. */
  autoApprove?: string;
  /** The flux CLI on PATH must be of this Flux pin's minor. */
  fluxPin?: string;
  /**
   * This repo file must already be on the remote branch (flux bootstrap works from the remote).
   * When it is not, the command waits: `deferrable` says that is not an error. `what` names the
   * step that waits, `why` what running it anyway would do.
   */
  onRemote?: { branch: string; file: string; deferrable: boolean; then: string; what: string; why: string };
}

export interface Generator {
  name: string;
  description: string;
  /** Whether it runs inside an existing fleet repo (everything but init). */
  needsRepo: boolean;
  /**
   * It runs on any Flux repo, fleet.yaml or not (lockdown): --repo, else the nearest fleet repo,
   * else the directory it runs in, as for validate; fleet.yaml's settings are read when it has one.
   */
  anyFluxRepo?: boolean;
  /**
   * What the generator needs to know of the repo that only building it tells (lockdown's plan
   * walks every cluster as Flux would): gathered once the answers are known, before the actions
   * are staged. A generator keeps what it found for its other hooks.
   */
  survey?: (answers: Answers, ctx: Context) => Promise<void>;
  /**
   * A run that only reports (lockdown --plan): when this returns lines, they are printed (with
   * `json` under --json) instead of staging anything; nothing is written and no lock is taken.
   * `reportOnly` tells from the flags, before anything is read, that the run is one.
   */
  reportOnly?: (flags: Record<string, unknown>) => boolean;
  report?: (answers: Answers, ctx: Context) => { lines: string[]; json: Record<string, unknown> };
  answers: AnswerSpec[];
  /**
   * Checks across answers and the repo, after each answer passed its own validation. Also run at
   * each prompt on the answers given so far (later ones absent): a finding is shown at the prompt
   * of the answer its field names.
   */
  check?: (answers: Answers, ctx: Context) => Array<{ field: string; rule: string; fix?: string }>;
  /**
   * What this run creates, when it is already there. A second identical run then changes
   * nothing and succeeds; one that would change it is refused with this error.
   */
  exists?: (answers: Answers, ctx: Context) => { field: string; rule: string; fix?: string } | undefined;
  actions: (answers: Answers, ctx: Context) => FleetAction[];
  /**
   * What the proof before write builds and checks for this change (design section 3): the
   * overlays it touches and the tenants in them. Without it the change is not proven.
   */
  proof?: (answers: Answers, ctx: Context) => ProofPlan | CustomProof | undefined;
  /** External commands to run once the change set is applied. */
  commands?: (answers: Answers, ctx: Context) => ExternalCommand[];
  /** Findings to report whether or not anything changed (warnings, drift). */
  notes?: (answers: Answers, ctx: Context) => string[];
  /**
   * What the change means beyond its files, when finding it needs the repo built (upgrade's
   * behaviour changes and the objects they affect): run before anything is written, --dry-run
   * included; `notes` are printed with the others, `json` is merged into the --json report.
   */
  assess?: (answers: Answers, ctx: Context) => Promise<{ notes: string[]; json: Record<string, unknown> }>;
  /**
   * A change that takes away what a person cannot easily put back (a tenant offboarded, a layout
   * moved): the question to answer yes to on a terminal before it is written. --yes skips it.
   * Asked once the change is staged and proven, so it can say what changes.
   */
  confirm?: (answers: Answers, ctx: Context) => string | undefined;
  /** What the user does next, with real names; printed after a real run. */
  nextSteps?: (answers: Answers, ctx: Context) => string[];
}

export const flagOf = (a: AnswerSpec): string => a.flag ?? a.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
