// Starts a webhook receiver process (webhook-receiver-main.ts) and talks to its /_control API.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ROOT, startNode, type AppProcess } from './processes.js';

export interface ReceivedDelivery {
  webhook_id: string | null;
  timestamp: string | null;
  signatures: number;
  verified: boolean;
  type: string | null;
  object_id: string | null;
  body: { type: string; timestamp: string; data: Record<string, unknown> } | null;
  attempt: number;
  answered: number | null;
  at: number;
}

export interface Receiver {
  url: string;
  process: AppProcess;
  deliveries(): Promise<ReceivedDelivery[]>;
  behave(behaviour: { fail_first?: number; status?: number; retry_after?: string; sleep_ms?: number; hang_attempt?: number }): Promise<void>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

export async function startReceiver(secrets: string[]): Promise<Receiver> {
  const process = startNode('receiver', ['--import', 'tsx', join(ROOT, 'test', 'utils', 'webhook-receiver-main.ts')], {
    RECEIVER_SECRETS: secrets.join(' '),
  });
  const line = await process.waitForLine(/receiver listening on/);
  const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line)![1]!;
  const control = async (path: string, body?: unknown) => {
    const res = await fetch(url + path, body === undefined ? {} : { method: 'PUT', body: JSON.stringify(body) });
    return res.json() as Promise<unknown>;
  };
  return {
    url,
    process,
    deliveries: () => control('/_control/deliveries') as Promise<ReceivedDelivery[]>,
    behave: async (b) => void (await control('/_control/behaviour', b)),
    reset: async () => void (await fetch(`${url}/_control/reset`, { method: 'POST' })),
    stop: async () => void (await process.stop()),
  };
}

/** Deliveries of one event that the receiver accepted (answered 2xx). */
export function accepted(deliveries: ReceivedDelivery[], objectId: string): ReceivedDelivery[] {
  return deliveries.filter((d) => d.object_id === objectId && d.answered === 200);
}
