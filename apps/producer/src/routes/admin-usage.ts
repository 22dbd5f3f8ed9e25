// GET /admin/usage?tenant=&from=&to=&group_by=model|route|variant|day|tenant: tokens and USD
// from the usage ledger, per group and in total, for UTC days from..to (inclusive); and
// GET /v1/usage, the same for the API key's own tenant.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { MAX_REPORT_DAYS, PredictqError, USAGE_GROUPS, utcDay, type Clock, type UsageLedger } from '@predictq/core';

const DAY = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'use YYYY-MM-DD').refine((d) => utcDay(Date.parse(`${d}T00:00:00Z`) || 0) === d, 'not a date');

const UsageQuerySchema = z
  .object({
    tenant: z.string().min(1).max(63).optional(),
    from: DAY.optional(),
    to: DAY.optional(),
    group_by: z.enum(USAGE_GROUPS).default('model'),
  })
  .strict();

function report(ledger: UsageLedger, clock: Clock) {
  return async (query: unknown, tenantOnly: string | undefined) => {
    const parsed = UsageQuerySchema.safeParse(query);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new PredictqError('invalid_request', `${issue?.path.join('.') || 'query'}: ${issue?.message ?? 'invalid'}`);
    }
    const { group_by: groupBy } = parsed.data;
    if (tenantOnly !== undefined && parsed.data.tenant !== undefined && parsed.data.tenant !== tenantOnly) {
      throw new PredictqError('forbidden', 'an API key reads its own usage only');
    }
    const tenant = tenantOnly ?? parsed.data.tenant;
    const to = parsed.data.to ?? utcDay(clock.now());
    // Month to date unless told otherwise.
    const from = parsed.data.from ?? `${to.slice(0, 7)}-01`;
    if (from > to) throw new PredictqError('invalid_request', 'from must not be after to');
    const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1;
    if (days > MAX_REPORT_DAYS) throw new PredictqError('invalid_request', `a report covers at most ${MAX_REPORT_DAYS} days`);
    const result = await ledger.report({ ...(tenant === undefined ? {} : { tenant }), from, to, groupBy });
    return { object: 'usage_report', tenant: tenant ?? null, from, to, group_by: groupBy, ...result };
  };
}

export function adminUsageRoutes(deps: { auth: RequestHandler; ledger: UsageLedger; clock: Clock }): Router {
  const router = Router();
  const read = report(deps.ledger, deps.clock);
  router.get('/admin/usage', deps.auth, async (req, res) => {
    res.json(await read(req.query, undefined));
  });
  return router;
}

/** GET /v1/usage: the same report, for the API key's own tenant. */
export function tenantUsageRoutes(deps: { ledger: UsageLedger; clock: Clock }): Router {
  const router = Router();
  const read = report(deps.ledger, deps.clock);
  router.get('/v1/usage', async (req, res) => {
    res.json(await read(req.query, req.tenant!));
  });
  return router;
}
