// Everything the stages of one prediction share.
import type { PredictionJobData } from '../queue/index.js';
import { estimatePromptTokens } from '../lm/index.js';
import type { PreparedPrediction } from './prepare.js';

/** What the queue says about the job being run. */
export interface JobContext {
  jobId: string;
  /** When the job was enqueued (ms since epoch). */
  enqueuedAt: number;
  signal?: AbortSignal;
  /** No attempts remain after this one (a retryable failure is then final). */
  lastAttempt: boolean;
}

export interface PredictionContext extends PreparedPrediction {
  data: PredictionJobData;
  job: JobContext;
  startedAt: number;
  /** The prompt's estimated tokens (budget worst case and TPM admission), counted once, when first needed. */
  promptTokens(): number;
}

export function predictionContext(data: PredictionJobData, job: JobContext, prepared: PreparedPrediction, startedAt: number): PredictionContext {
  let tokens: number | undefined;
  return {
    ...prepared,
    data,
    job,
    startedAt,
    promptTokens: () => (tokens ??= estimatePromptTokens(prepared.messages)),
  };
}
