// Stage: turn job data into a DSPy module and the chat messages it renders.
import { ChainOfThought, Predict } from '../program/index.js';
import type { ChatMessage } from '../lm/index.js';
import type { PredictionJobData } from '../queue/index.js';

export interface BuiltPrompt {
  module: Predict;
  messages: ChatMessage[];
}

export function buildModule(data: Pick<PredictionJobData, 'module' | 'signature' | 'instructions' | 'demos'>): Predict {
  const options = { ...(data.instructions === undefined ? {} : { instructions: data.instructions }), demos: data.demos };
  return data.module === 'ChainOfThought' ? new ChainOfThought(data.signature, options) : new Predict(data.signature, options);
}

export function buildPrompt(data: PredictionJobData): BuiltPrompt {
  const module = buildModule(data);
  return { module, messages: module.messages(data.inputs) };
}
