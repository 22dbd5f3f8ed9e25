// Latency quantiles that add up across workers: DDSketch's logarithmic bins (2% relative
// accuracy), kept as counters in a Redis hash (one field per bin, HINCRBY from every worker);
// a report rebuilds the sketch from the bins to read p50 and p95.
import { DDSketch } from '@datadog/sketches-js';

const RELATIVE_ACCURACY = 0.02;
const mapping = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY }).mapping;
export const LATENCY_BIN_PREFIX = 'lat:';

/** The hash field one latency (ms) counts in. */
export function latencyBin(ms: number): string {
  return ms < mapping.minPossible ? `${LATENCY_BIN_PREFIX}z` : `${LATENCY_BIN_PREFIX}${mapping.key(ms)}`;
}

/** p50 and p95 (ms) from a stats hash's bin fields; null without samples. */
export function latencyQuantiles(fields: Record<string, string>): { p50: number; p95: number } | null {
  const sketch = new DDSketch({ relativeAccuracy: RELATIVE_ACCURACY });
  for (const [field, raw] of Object.entries(fields)) {
    if (!field.startsWith(LATENCY_BIN_PREFIX)) continue;
    const count = Number(raw);
    if (!(count > 0)) continue;
    const bin = field.slice(LATENCY_BIN_PREFIX.length);
    sketch.accept(bin === 'z' ? 0 : mapping.value(Number(bin)), count);
  }
  if (sketch.count === 0) return null;
  return { p50: sketch.getValueAtQuantile(0.5), p95: sketch.getValueAtQuantile(0.95) };
}
