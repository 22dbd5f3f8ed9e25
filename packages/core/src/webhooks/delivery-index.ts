// A tenant's deliveries, newest last: a sorted set (score: creation time) trimmed by age and
// count on every emit, so it stays bounded. The jobs themselves hold the rest.

export function deliveryIndexKey(keyPrefix: string, tenant: string): string {
  return `${keyPrefix}:webhooks:deliveries:${tenant}`;
}
