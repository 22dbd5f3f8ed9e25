// Reading a stack's webhook delivery history in tests.
import { request, until } from './http.js';

export interface DeliveryView {
  id: string;
  event_id: string;
  event_type: string;
  object_id: string;
  status: string;
  attempts: number;
  history?: Array<{ attempt: number; outcome: string; status_code: number | null; error: string | null; at: string }>;
}

/** Every delivery of the tenant (newest first), all pages. */
export async function listDeliveries(url: string, headers: Record<string, string> = {}): Promise<DeliveryView[]> {
  const all: DeliveryView[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await request<{ data: DeliveryView[]; has_more: boolean }>(
      `${url}/v1/webhooks/deliveries?limit=100${after ? `&starting_after=${after}` : ''}`,
      { headers },
    );
    all.push(...page.body.data);
    if (!page.body.has_more || page.body.data.length === 0) return all;
    after = page.body.data.at(-1)!.id;
  }
}

/** Waits until the delivery of an object's event reaches `status`, and returns it with its history. */
export async function deliveryOf(url: string, objectId: string, status: string, timeoutMs = 20_000): Promise<DeliveryView> {
  return until(async () => {
    const found = (await listDeliveries(url)).find((d) => d.object_id === objectId);
    if (!found || found.status !== status) return undefined;
    return (await request<DeliveryView>(`${url}/v1/webhooks/deliveries/${found.id}`)).body;
  }, timeoutMs);
}
