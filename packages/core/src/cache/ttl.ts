// L2 TTLs with jitter, so entries written in one burst do not all expire in the same second.

/** `ttlS` plus up to `jitter` of it at random, in milliseconds (never below ttlS). */
export function ttlWithJitterMs(ttlS: number, jitter: number, random: () => number = Math.random): number {
  const base = ttlS * 1000;
  return Math.round(base + base * Math.max(0, Math.min(1, jitter)) * random());
}
