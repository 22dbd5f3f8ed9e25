// Sticky variant assignment across processes: 10,000 subjects (made from a fixed seed) get
// variants in the configured proportions (a chi-square goodness-of-fit test), the same ones
// from a second producer process and after a restart, the same ones their predictions carry;
// and changing one weight moves only the subjects that must move.
import chi2gof from '@stdlib/stats-chi2gof';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request, until } from './utils/http.js';
import { startApp, type AppProcess } from './utils/processes.js';
import { freePort } from './utils/redis-server.js';
import { startStack, type Stack } from './utils/stack.js';

const ADMIN = { authorization: 'Bearer test-admin-key' };
const WEIGHTS = { a: 50, b: 30, c: 20 };

/** mulberry32 at a fixed seed: the subjects are the same every run. */
function subjects(n: number, seed: number): string[] {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0).toString(36);
  };
  return Array.from({ length: n }, (_, i) => `user-${i}-${next()}`);
}

async function assignments(url: string, all: string[]): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < all.length; i += 1000) {
    const res = await request(`${url}/admin/experiments/split/assign`, { body: { subjects: all.slice(i, i + 1000) }, headers: ADMIN });
    expect(res.status).toBe(200);
    out.push(...res.body.data.map((d: { variant: string }) => d.variant));
  }
  return out;
}

describe('sticky variant assignment', () => {
  let stack: Stack;
  const extra: AppProcess[] = [];
  const SUBJECTS = subjects(10_000, 42);

  beforeAll(async () => {
    stack = await startStack({
      config: {
        experiments: {
          split: { control: 'a', variants: { a: { weight: WEIGHTS.a }, b: { weight: WEIGHTS.b }, c: { weight: WEIGHTS.c } } },
        },
        experiment_store: { refresh_ms: 100 },
      },
    });
  });
  afterAll(async () => {
    await Promise.all(extra.map((p) => p.stop()));
    await stack?.stop();
  });

  it('respects the weights for 10,000 subjects, and every subject is sticky across processes and restarts', async () => {
    const first = await assignments(stack.url, SUBJECTS);
    const counts = ['a', 'b', 'c'].map((v) => first.filter((x) => x === v).length);
    const test = chi2gof(counts, [0.5, 0.3, 0.2]);
    expect(test.pValue).toBeGreaterThan(0.01);
    for (const [i, share] of [0.5, 0.3, 0.2].entries()) expect(Math.abs(counts[i]! / 10_000 - share)).toBeLessThan(0.02);

    // Another producer process on the same Redis and config.
    const port = await freePort();
    const other = startApp('producer', { ...stack.env, PORT: String(port) });
    extra.push(other);
    await other.waitForLine(/producer listening/);
    await until(async () => (await request(`http://127.0.0.1:${port}/ready`)).status === 200);
    expect(await assignments(`http://127.0.0.1:${port}`, SUBJECTS)).toEqual(first);

    // The first producer restarted.
    await stack.producer.stop();
    const restarted = startApp('producer', stack.env);
    extra.push(restarted);
    await restarted.waitForLine(/producer listening/);
    await until(async () => (await request(`${stack.url}/ready`)).status === 200);
    expect(await assignments(stack.url, SUBJECTS)).toEqual(first);

    // Predictions carry the variant their subject hashes to.
    const sample = SUBJECTS.slice(0, 12);
    const predicted = await Promise.all(
      sample.map((subject) =>
        request(`${stack.url}/v1/predictions`, {
          body: { signature: 'question -> answer', inputs: { question: 'sticky?' }, experiment: 'split', subject },
          headers: { prefer: 'wait=20' },
        }),
      ),
    );
    expect(predicted.map((r) => r.body.variant)).toEqual(first.slice(0, 12));
    expect(predicted.every((r) => r.body.status === 'succeeded')).toBe(true);
  });

  // Weighted rendezvous hashing: raising one weight only pulls subjects to that variant, from the
  // others in proportion to their shares, exactly as many as its new share needs.
  it('moves only the subjects a weight change must move', async () => {
    const before = await assignments(stack.url, SUBJECTS);
    const put = await request(`${stack.url}/admin/experiments/split`, {
      method: 'PUT',
      body: { control: 'a', variants: { a: { weight: 50 }, b: { weight: 30 }, c: { weight: 40 } } },
      headers: ADMIN,
    });
    expect(put.status).toBe(200);
    await new Promise((r) => setTimeout(r, 150));
    const after = await assignments(stack.url, SUBJECTS);
    const moves = new Map<string, number>();
    for (let i = 0; i < SUBJECTS.length; i++) {
      if (before[i] !== after[i]) moves.set(`${before[i]}->${after[i]}`, (moves.get(`${before[i]}->${after[i]}`) ?? 0) + 1);
    }
    // c's share goes from 20% to 40/120; only subjects who now hash to c moved.
    expect([...moves.keys()].sort()).toEqual(['a->c', 'b->c']);
    const moved = (moves.get('a->c')! + moves.get('b->c')!) / 10_000;
    expect(Math.abs(moved - (40 / 120 - 0.2))).toBeLessThan(0.015);
    expect(Math.abs(moves.get('a->c')! / moves.get('b->c')! - 50 / 30)).toBeLessThan(0.35);
    // With two variants every weight change is minimal: 90/10 -> 80/20 moves exactly the 10% that must.
    const two = await request(`${stack.url}/admin/experiments/rollout`, {
      method: 'PUT',
      body: { control: 'v1', variants: { v1: { weight: 90 }, v2: { weight: 10 } } },
      headers: ADMIN,
    });
    expect(two.status).toBe(200);
    const assign = async () => {
      const out: string[] = [];
      for (let i = 0; i < SUBJECTS.length; i += 1000) {
        const res = await request(`${stack.url}/admin/experiments/rollout/assign`, { body: { subjects: SUBJECTS.slice(i, i + 1000) }, headers: ADMIN });
        out.push(...res.body.data.map((d: { variant: string }) => d.variant));
      }
      return out;
    };
    const ninety = await assign();
    await request(`${stack.url}/admin/experiments/rollout`, {
      method: 'PUT',
      body: { control: 'v1', variants: { v1: { weight: 80 }, v2: { weight: 20 } } },
      headers: ADMIN,
    });
    await new Promise((r) => setTimeout(r, 150));
    const eighty = await assign();
    const changed = SUBJECTS.map((_, i) => `${ninety[i]}->${eighty[i]}`).filter((m) => m !== 'v1->v1' && m !== 'v2->v2');
    expect(new Set(changed)).toEqual(new Set(['v1->v2']));
    expect(Math.abs(changed.length / 10_000 - 0.1)).toBeLessThan(0.015);
  });

  it('answers an unknown experiment with unknown_experiment', async () => {
    const res = await request(`${stack.url}/v1/predictions`, { body: { signature: 'q -> a', inputs: { q: 'x' }, experiment: 'nope' } });
    expect([res.status, res.body.error.code]).toEqual([404, 'unknown_experiment']);
  });
});
