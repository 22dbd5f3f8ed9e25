// Cancelling a running prediction: the producer publishes the job id on
// `${prefix}:cancel`; every worker hears it and the one running the job aborts it
// (BullMQ's worker.cancelJob aborts the processor's signal, which aborts the LM call).
import type { RedisConnection } from '../queue/connection.js';

export class CancelChannel {
  readonly channel: string;

  constructor(keyPrefix: string) {
    this.channel = `${keyPrefix}:cancel`;
  }

  /** Returns how many workers heard it. */
  async publish(redis: RedisConnection, jobId: string): Promise<number> {
    return redis.publish(this.channel, jobId);
  }

  /** `subscriber` becomes a subscriber connection (it can run nothing else); quit it to stop. */
  async subscribe(subscriber: RedisConnection, onCancel: (jobId: string) => void): Promise<void> {
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.channel) onCancel(message);
    });
    await subscriber.subscribe(this.channel);
  }
}
