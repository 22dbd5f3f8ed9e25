// A cancelled job is removed from its queue; what the client saw of it is kept here (with the
// failed-job retention as TTL) so GET still answers "cancelled".
import type { RedisConnection } from '@predictq/core';
import type { PredictionObject } from './prediction-object.js';

export class Cancellations {
  readonly #redis: RedisConnection;
  readonly #prefix: string;
  readonly #ttlSeconds: number;

  constructor(redis: RedisConnection, keyPrefix: string, ttlSeconds: number) {
    this.#redis = redis;
    this.#prefix = `${keyPrefix}:cancelled:`;
    this.#ttlSeconds = ttlSeconds;
  }

  async record(prediction: PredictionObject, tenant: string): Promise<void> {
    await this.#redis.set(this.#prefix + prediction.id, JSON.stringify({ tenant, prediction }), 'EX', this.#ttlSeconds);
  }

  async get(id: string, tenant: string): Promise<PredictionObject | undefined> {
    const raw = await this.#redis.get(this.#prefix + id);
    if (!raw) return undefined;
    const stored = JSON.parse(raw) as { tenant: string; prediction: PredictionObject };
    return stored.tenant === tenant ? stored.prediction : undefined;
  }
}
