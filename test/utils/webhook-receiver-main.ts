// A webhook receiver, run as its own process by tests: it verifies every delivery with
// standardwebhooks' Webhook.verify (any of RECEIVER_SECRETS, space-separated), records what it
// saw, and answers as told over /_control. Prints "receiver listening on <url>".
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

interface Behaviour {
  /** Each event's first N attempts get `status`. */
  fail_first: number;
  status: number;
  retry_after?: string;
  /** Every request waits this long before its answer. */
  sleep_ms: number;
  /** This attempt of each event is never answered (until the connection closes). */
  hang_attempt: number;
}

interface Delivery {
  webhook_id: string | null;
  timestamp: string | null;
  signatures: number;
  verified: boolean;
  type: string | null;
  object_id: string | null;
  body: unknown;
  attempt: number;
  answered: number | null;
  at: number;
}

const secrets = (process.env.RECEIVER_SECRETS ?? '').split(' ').filter(Boolean).map((s) => new Webhook(s));
const initial: Behaviour = { fail_first: 0, status: 503, sleep_ms: 0, hang_attempt: 0 };
let behaviour: Behaviour = { ...initial };
let deliveries: Delivery[] = [];
const attempts = new Map<string, number>();

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, value: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

async function receive(req: IncomingMessage, res: ServerResponse) {
  const body = await readBody(req);
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
  let verified = false;
  let payload: { type?: string; data?: { id?: string } } | undefined;
  for (const wh of secrets) {
    try {
      payload = wh.verify(body, headers) as typeof payload;
      verified = true;
      break;
    } catch {
      // try the next secret
    }
  }
  const id = headers['webhook-id'] ?? null;
  const attempt = (attempts.get(id ?? '') ?? 0) + 1;
  attempts.set(id ?? '', attempt);
  const delivery: Delivery = {
    webhook_id: id,
    timestamp: headers['webhook-timestamp'] ?? null,
    signatures: (headers['webhook-signature'] ?? '').split(' ').filter(Boolean).length,
    verified,
    type: payload?.type ?? null,
    object_id: payload?.data?.id ?? null,
    body: payload ?? null,
    attempt,
    answered: null,
    at: Date.now(),
  };
  deliveries.push(delivery);
  if (!verified) return void (delivery.answered = 401, json(res, 401, { error: 'signature' }));
  if (behaviour.hang_attempt === attempt) return; // the connection closes when the sender gives up or dies
  const status = attempt <= behaviour.fail_first ? behaviour.status : 200;
  const answer = () => {
    delivery.answered = status;
    if (status !== 200 && behaviour.retry_after !== undefined) res.setHeader('retry-after', behaviour.retry_after);
    json(res, status, { ok: status === 200 });
  };
  if (behaviour.sleep_ms > 0) setTimeout(answer, behaviour.sleep_ms);
  else answer();
}

const server = createServer((req, res) => {
  const url = req.url ?? '/';
  if (url === '/_control/deliveries') return void json(res, 200, deliveries);
  if (url === '/_control/behaviour') {
    return void readBody(req).then((text) => {
      behaviour = { ...initial, ...(JSON.parse(text) as Partial<Behaviour>) };
      json(res, 200, behaviour);
    });
  }
  if (url === '/_control/reset') {
    deliveries = [];
    attempts.clear();
    behaviour = { ...initial };
    return void json(res, 200, {});
  }
  receive(req, res).catch(() => json(res, 500, {}));
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`receiver listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
