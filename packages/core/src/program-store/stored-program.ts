// One immutable version of a named program, as the program store keeps it and as a prediction
// is resolved from it: a DSPy signature, module and adapter plus a saved program's state
// (instructions, demos, field descriptions).
import { z } from 'zod';
import { ADAPTERS } from '../program/index.js';

export const SavedFieldSchema = z.object({ prefix: z.string().optional(), description: z.string().optional() }).strict();

/** Demos a program may carry (they travel in every job). */
export const MAX_PROGRAM_DEMOS = 64;

export const StoredProgramSchema = z
  .object({
    signature: z.string().min(1).max(4000),
    module: z.enum(['Predict', 'ChainOfThought']),
    adapter: z.enum(ADAPTERS),
    instructions: z.string().max(100_000).optional(),
    demos: z.array(z.record(z.string(), z.unknown())).max(MAX_PROGRAM_DEMOS),
    fields: z.array(SavedFieldSchema).max(128).optional(),
    /** The program's default route or model. */
    model: z.string().optional(),
    source: z.enum(['upload', 'config']),
    created_at: z.number(),
    sha256: z.string().optional(),
    /** From the DSPy file's metadata.dependency_versions. */
    dspy_version: z.string().optional(),
    /** The predictor's name in the DSPy file. */
    predictor: z.string().optional(),
  })
  .strict();

export type StoredProgram = z.infer<typeof StoredProgramSchema>;

export interface ResolvedProgram extends StoredProgram {
  name: string;
  version: string;
}

const REF = /^([A-Za-z0-9][A-Za-z0-9._-]{0,62})(?:@([A-Za-z0-9._-]{1,32}))?$/;

/** "qa" (the live version) or "qa@3" (a pinned one); undefined when malformed. */
export function parseProgramRef(ref: string): { name: string; version?: string } | undefined {
  const match = REF.exec(ref);
  if (!match) return undefined;
  return match[2] === undefined ? { name: match[1]! } : { name: match[1]!, version: match[2] };
}
