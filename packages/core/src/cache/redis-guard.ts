// Every cache Redis command goes through here: bounded by a short timeout, and after a failure
// Redis is skipped for a while, so a Redis outage degrades the cache to L1 instead of hanging
// predictions. One warning per outage; every failure is counted.
import type { RedisConnection } from '../queue/connection.js';
import { systemClock, type Clock } from '../clock/index.js';
import type { Logger } from '../telemetry/index.js';

export const UNAVAILABLE: unique symbol = Symbol('redis unavailable');
export type Guarded<T> = T | typeof UNAVAILABLE;

export interface RedisGuardOptions {
  timeoutMs: number;
  retryMs: number;
  logger?: Logger | undefined;
  clock?: Clock;
  onError?: () => void;
}

export class RedisGuard {
  readonly redis: RedisConnection;
  readonly #options: RedisGuardOptions;
  readonly #clock: Clock;
  #downUntil = 0;
  #down = false;
  #ready: Promise<void> | undefined;

  constructor(redis: RedisConnection, options: RedisGuardOptions) {
    this.redis = redis;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    // ioredis reports connection trouble as events; the commands' own failures are what we count.
    redis.on('error', () => {});
  }

  get available(): boolean {
    return this.#clock.now() >= this.#downUntil;
  }

  async run<T>(op: (redis: RedisConnection) => Promise<T>): Promise<Guarded<T>> {
    if (!this.available) return UNAVAILABLE;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`cache redis did not answer within ${this.#options.timeoutMs} ms`)), this.#options.timeoutMs);
      timer.unref();
    });
    try {
      const result = await Promise.race([this.#whenReady().then(() => op(this.redis)), timeout]);
      if (this.#down) {
        this.#down = false;
        this.#options.logger?.info('cache redis is back; L2 and cross-worker single-flight resume');
      }
      return result;
    } catch (err) {
      this.#fail(err);
      return UNAVAILABLE;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for a connection in progress (commands fail at once while offline: enableOfflineQueue is off). */
  #whenReady(): Promise<void> {
    const status = this.redis.status;
    if (status === 'ready') return Promise.resolve();
    if (status !== 'connecting' && status !== 'connect' && status !== 'wait') {
      return Promise.reject(new Error(`cache redis is ${status}`));
    }
    // One pair of listeners however many lookups wait.
    this.#ready ??= new Promise<void>((resolve, reject) => {
      const done = () => {
        this.redis.off('ready', onReady);
        this.redis.off('close', onClose);
        this.#ready = undefined;
      };
      const onReady = () => (done(), resolve());
      const onClose = () => (done(), reject(new Error('cache redis connection closed')));
      this.redis.on('ready', onReady);
      this.redis.on('close', onClose);
    });
    return this.#ready;
  }

  #fail(err: unknown): void {
    this.#options.onError?.();
    this.#downUntil = this.#clock.now() + this.#options.retryMs;
    if (!this.#down) {
      this.#down = true;
      this.#options.logger?.warn(
        { err: { message: (err as Error)?.message }, retry_ms: this.#options.retryMs },
        'cache redis unavailable; serving from L1 only and calling the LM without cross-worker single-flight',
      );
    }
  }
}
