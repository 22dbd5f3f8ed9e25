// Sticky variant assignment by weighted rendezvous hashing (highest random weight): each
// variant scores -weight / ln(u), u a hash of (experiment, subject, variant) in (0, 1), and the
// highest score wins. The same subject always gets the same variant in every process, each
// variant wins a weight-proportional share, and changing one weight (or adding a variant) moves
// only the subjects that must move: those won or lost by the changed variant.
import { createHash } from 'node:crypto';
import type { Experiment } from './experiment-schema.js';

/** A uniform draw in (0, 1) from any text (52 bits of SHA-256). */
export function hashUnit(text: string): number {
  const head = createHash('sha256').update(text).digest().readBigUInt64BE(0) >> 12n;
  return (Number(head) + 0.5) / 2 ** 52;
}

/** The variant a subject's hash picks among the weighted variants (paused ones included). */
export function pickVariant(experiment: string, variants: Experiment['variants'], subject: string): string | undefined {
  let best: string | undefined;
  let bestScore = -Infinity;
  for (const [name, variant] of Object.entries(variants)) {
    if (variant.weight <= 0) continue;
    const score = -variant.weight / Math.log(hashUnit(`${experiment}\u0000${subject}\u0000${name}`));
    if (score > bestScore) {
      best = name;
      bestScore = score;
    }
  }
  return best;
}

export interface Assignment {
  /** The variant that serves the request. */
  variant: string;
  /** The variant the subject hashes to, when a guardrail paused it (its traffic goes to the control). */
  pausedVariant?: string;
}

/** Paused variants keep their subjects (they come back when resumed) but are served by the control. */
export function assignVariant(experiment: string, definition: Experiment, subject: string, paused: ReadonlySet<string>): Assignment {
  const picked = pickVariant(experiment, definition.variants, subject) ?? definition.control;
  return paused.has(picked) && picked !== definition.control ? { variant: definition.control, pausedVariant: picked } : { variant: picked };
}

/** The job id of a prediction's shadow run (BullMQ ids may not contain ":"). */
export function shadowIdOf(predictionId: string): string {
  return `${predictionId}_shadow`;
}

/** Whether a control prediction also runs the shadow: a hash of its id, so a replay decides alike. */
export function sampledForShadow(predictionId: string, sampleRate: number): boolean {
  return sampleRate > 0 && hashUnit(`shadow\u0000${predictionId}`) < sampleRate;
}
