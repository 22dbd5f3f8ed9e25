// Helpers for the resilience tests: submit many predictions, read queue counts and breakers.
import { randomUUID } from 'node:crypto';
import { request } from './http.js';
import type { Stack } from './stack.js';

export const ADMIN = { authorization: 'Bearer test-admin-key' };

/** Submits `count` distinct predictions (no wait), 20 at a time; returns their ids. */
export async function submitMany(stack: Stack, count: number, tag: string, headers: Record<string, string> = {}): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 20) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(20, count - start) }, (_, i) =>
        request(`${stack.url}/v1/predictions`, {
          body: { signature: 'question -> answer', inputs: { question: `${tag} ${start + i} ${randomUUID()}` } },
          headers,
        }),
      ),
    );
    for (const res of batch) {
      if (res.status !== 202 && res.status !== 200) throw new Error(`submit failed: ${res.status} ${JSON.stringify(res.body)}`);
      ids.push(res.body.id as string);
    }
  }
  return ids;
}

export async function queueCounts(stack: Stack): Promise<Record<string, number>> {
  const stats = await request(`${stack.url}/admin/stats`, { headers: ADMIN });
  return stats.body.queues['predict.default'];
}

export async function breakerState(stack: Stack): Promise<string> {
  const stats = await request(`${stack.url}/admin/stats`, { headers: ADMIN });
  return stats.body.breakers.default.state;
}

export async function statuses(stack: Stack, ids: string[], headers: Record<string, string> = {}): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let start = 0; start < ids.length; start += 25) {
    const batch = await Promise.all(ids.slice(start, start + 25).map((id) => request(`${stack.url}/v1/predictions/${id}`, { headers })));
    for (const res of batch) counts[res.body.status] = (counts[res.body.status] ?? 0) + 1;
  }
  return counts;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
