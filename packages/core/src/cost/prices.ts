// The price table: USD per million prompt, completion and cached prompt tokens for each model,
// shipped defaults plus the config's overrides, held as integer pico-dollars per token so
// costs add up without floating-point drift.
import { PredictqError } from '../errors/index.js';

/** USD per million tokens, as providers publish them (and as `prices` in the config file). */
export interface ModelPriceUsd {
  prompt: number;
  completion: number;
  /** Cached prompt tokens; the prompt price when absent. */
  cached_prompt?: number;
}

/** Pico-dollars per token (= micro-dollars per million tokens), integers. */
export interface TokenPrice {
  prompt: number;
  completion: number;
  cachedPrompt: number;
}

/**
 * Shipped defaults (USD per 1M tokens, list prices). The simulator's models get non-zero
 * prices so tests and demos show costs: sim-small is priced like gpt-4o-mini, sim-large like gpt-4o.
 */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPriceUsd>> = Object.freeze({
  'sim-small': { prompt: 0.15, completion: 0.6, cached_prompt: 0.075 },
  'sim-large': { prompt: 2.5, completion: 10, cached_prompt: 1.25 },
  'gpt-4o': { prompt: 2.5, completion: 10, cached_prompt: 1.25 },
  'gpt-4o-mini': { prompt: 0.15, completion: 0.6, cached_prompt: 0.075 },
  'gpt-4.1': { prompt: 2, completion: 8, cached_prompt: 0.5 },
  'gpt-4.1-mini': { prompt: 0.4, completion: 1.6, cached_prompt: 0.1 },
  'gpt-4.1-nano': { prompt: 0.1, completion: 0.4, cached_prompt: 0.025 },
  'gpt-5': { prompt: 1.25, completion: 10, cached_prompt: 0.125 },
  'gpt-5-mini': { prompt: 0.25, completion: 2, cached_prompt: 0.025 },
  'gpt-5-nano': { prompt: 0.05, completion: 0.4, cached_prompt: 0.005 },
  o3: { prompt: 2, completion: 8, cached_prompt: 0.5 },
  'o3-mini': { prompt: 1.1, completion: 4.4, cached_prompt: 0.55 },
  'o4-mini': { prompt: 1.1, completion: 4.4, cached_prompt: 0.275 },
  'gpt-3.5-turbo': { prompt: 0.5, completion: 1.5 },
});

export type UnknownModelPrice = 'zero' | 'fail';

const ZERO: TokenPrice = Object.freeze({ prompt: 0, completion: 0, cachedPrompt: 0 });

function toTokenPrice(usd: ModelPriceUsd): TokenPrice {
  const pico = (perMillion: number) => Math.round(perMillion * 1_000_000);
  return Object.freeze({
    prompt: pico(usd.prompt),
    completion: pico(usd.completion),
    cachedPrompt: pico(usd.cached_prompt ?? usd.prompt),
  });
}

/** A dated snapshot ("gpt-4o-mini-2024-07-18") is priced like its base model. */
function baseModel(model: string): string {
  return model.replace(/-\d{4}-\d{2}-\d{2}$/, '');
}

export class PriceTable {
  readonly #prices = new Map<string, TokenPrice>();
  readonly #unknown: UnknownModelPrice;

  constructor(overrides: Readonly<Record<string, ModelPriceUsd>> = {}, unknown: UnknownModelPrice = 'zero') {
    for (const [model, price] of Object.entries({ ...DEFAULT_PRICES, ...overrides })) this.#prices.set(model, toTokenPrice(price));
    this.#unknown = unknown;
  }

  /** The model's price, or undefined when neither the defaults nor the overrides know it. */
  lookup(model: string): TokenPrice | undefined {
    return this.#prices.get(model) ?? this.#prices.get(baseModel(model));
  }

  /** The price to charge; an unknown model costs 0 (`known: false`) or throws, as configured. */
  priceOf(model: string): { price: TokenPrice; known: boolean } {
    const price = this.lookup(model);
    if (price) return { price, known: true };
    if (this.#unknown === 'fail') {
      throw new PredictqError('config_invalid', `no price is configured for model "${model}" (unknown_model_price is "fail")`);
    }
    return { price: ZERO, known: false };
  }
}
