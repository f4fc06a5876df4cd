/** The Flux facts: releases, kinds, and what each Flux minor serves. */
export * from "./facts.js";
export * from "./kinds.js";
export * from "./release.js";
export type { BehaviourChange, BehaviourChangeId, ExtraComponent, KindFacts, MinorFacts } from "./minors.js";
