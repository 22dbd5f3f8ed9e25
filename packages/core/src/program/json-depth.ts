// How deeply a JSON value nests, measured without recursion (a recursive walk is what a deep
// body would overflow). Formatters, canonicalisers and type checks recurse over user values,
// so values are bounded to MAX_JSON_DEPTH before any of them runs.

/** Levels of arrays and objects a request body (or job data) may nest. */
export const MAX_JSON_DEPTH = 32;

/** True when `value` nests deeper than `max` levels of arrays or objects. */
export function nestsDeeperThan(value: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (typeof item.value !== 'object' || item.value === null) continue;
    const depth = item.depth + 1;
    if (depth > max) return true;
    for (const inner of Object.values(item.value)) {
      if (typeof inner === 'object' && inner !== null) stack.push({ value: inner, depth });
    }
  }
  return false;
}
