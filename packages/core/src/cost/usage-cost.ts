// Cost arithmetic in integers: token counts times pico-dollar prices, rounded once to
// micro-dollars. BigInt because tokens x pico-dollars can pass 2^53 for large calls.
import type { TokenPrice } from './prices.js';

export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  /** Part of prompt_tokens served from the provider's prompt cache. */
  cached_tokens?: number;
}

const PICO_PER_MICRO = 1_000_000n;

function picoOf(price: TokenPrice, usage: TokenUsage): bigint {
  const prompt = BigInt(Math.max(0, Math.trunc(usage.prompt_tokens)));
  const cached = BigInt(Math.min(Math.max(0, Math.trunc(usage.cached_tokens ?? 0)), Math.max(0, Math.trunc(usage.prompt_tokens))));
  const completion = BigInt(Math.max(0, Math.trunc(usage.completion_tokens)));
  // Reasoning tokens are part of completion_tokens, so they are billed there.
  return (prompt - cached) * BigInt(price.prompt) + cached * BigInt(price.cachedPrompt) + completion * BigInt(price.completion);
}

/** The cost of a call in micro-dollars, rounded half up. */
export function costMicros(price: TokenPrice, usage: TokenUsage): number {
  return Number((picoOf(price, usage) + PICO_PER_MICRO / 2n) / PICO_PER_MICRO);
}

/** An upper bound in micro-dollars (rounded up): what a budget reservation holds. */
export function worstCaseMicros(price: TokenPrice, promptTokens: number, maxTokens: number): number {
  const pico = picoOf(price, { prompt_tokens: promptTokens, completion_tokens: maxTokens });
  return Number((pico + PICO_PER_MICRO - 1n) / PICO_PER_MICRO);
}

export function microsToUsd(micros: number): number {
  return micros / 1_000_000;
}

export function usdToMicros(usd: number): number {
  return Math.round(usd * 1_000_000);
}
