// POST /v1/chat/completions: the checks predictq makes before a request goes to the queue. The
// body is otherwise passed to the LM as it came (tools, response_format, logprobs, vendor
// extras): predictq reads only what it needs (model, messages, streaming, token limits).
import { z } from 'zod';
import {
  MAX_JSON_DEPTH,
  PredictqError,
  ValidationError,
  findRoute,
  nestsDeeperThan,
  type ChatJobData,
  type Config,
  type RouteConfig,
} from '@predictq/core';

const nullableNumber = z.number().nullish();

export const ChatRequestSchema = z.looseObject({
  model: z.string().min(1).max(200),
  messages: z.array(z.looseObject({ role: z.string().min(1) })).min(1).max(10_000),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: nullableNumber,
});

export interface ResolvedChat {
  data: ChatJobData;
  route: RouteConfig;
  /** The client asked for the usage chunk at the end of a stream. */
  includeUsage: boolean;
}

function describe(issue: z.core.$ZodIssue): string {
  return `${issue.path.length ? issue.path.join('.') : 'body'}: ${issue.message}`;
}

export function parseChatRequest(
  config: Config,
  body: unknown,
  context: { tenant: string; requestId: string; now: number; cache: ChatJobData['cache']; budgeted: boolean },
): ResolvedChat {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new PredictqError('invalid_request', 'the body must be a JSON object with "model" and "messages"');
  }
  if (nestsDeeperThan(body)) {
    throw new PredictqError('nesting_too_deep', `the body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`);
  }
  if (Object.hasOwn(body, '__proto__')) throw new PredictqError('invalid_request', '"__proto__" is not a request field');
  const parsed = ChatRequestSchema.safeParse(body);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new PredictqError('invalid_request', parsed.error.issues.slice(0, 3).map(describe).join('; '), {
      details: { field: first?.path.join('.') || null },
    });
  }
  const request = parsed.data;
  const route = findRoute(config, request.model);
  if (!route) {
    const known = config.routes.map((r) => r.model);
    throw new ValidationError('unknown_model', `The model \`${request.model}\` does not exist; available: ${known.join(', ')}`, {
      details: { field: 'model' },
    });
  }
  // A budget reserves a call's worst case before it runs, and that needs a ceiling.
  if (context.budgeted && request.max_tokens == null && request.max_completion_tokens == null) {
    throw new PredictqError('invalid_request', 'a budget applies to this API key: set max_completion_tokens (or max_tokens) so the worst case can be reserved', {
      details: { field: 'max_completion_tokens' },
    });
  }
  const { stream, stream_options: streamOptions, ...rest } = request;
  return {
    route,
    includeUsage: streamOptions?.include_usage === true,
    data: {
      v: 1,
      kind: 'chat',
      tenant: context.tenant,
      request_id: context.requestId,
      route: route.name,
      model: route.model,
      body: rest,
      stream: stream === true,
      cache: context.cache,
      priority: 'interactive',
      created_at: context.now,
      deadline_at: context.now + config.http.chat_timeout_s * 1000,
    },
  };
}
