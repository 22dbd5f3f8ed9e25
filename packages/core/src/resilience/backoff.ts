// Delays with jitter, so jobs that wait for the same thing do not come back all at once.

/** `ms` plus up to `ratio` of it (at least `minJitterMs`) at random. */
export function withJitter(ms: number, ratio = 0.2, minJitterMs = 50, random: () => number = Math.random): number {
  const spread = Math.max(minJitterMs, ms * ratio);
  return Math.max(0, Math.ceil(ms + spread * random()));
}
