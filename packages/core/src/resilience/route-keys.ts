// Redis keys of a route's shared resilience state. Each is hash-tagged by the route, so one
// script may read a route's breaker and its 429 pause together on Redis Cluster.

/** The key whose TTL is how long an LM 429 pauses the route for every worker. */
export function routePauseKey(keyPrefix: string, route: string): string {
  return `${keyPrefix}:rl:pause:{${route}}`;
}

/**
 * Where a route's name is published when its breaker opens or an LM 429 pauses it: workers then
 * drop their copy of "closed, not paused" and ask Redis again.
 */
export function breakerChannel(keyPrefix: string): string {
  return `${keyPrefix}:breaker:changed`;
}
