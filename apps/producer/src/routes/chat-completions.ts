// POST /v1/chat/completions, OpenAI's API through the queue: each request is a job on its
// route's queue (cache with single-flight, budget, limits, breaker, cost: the same pipeline as
// predictions). A streamed answer is relayed chunk by chunk from whichever worker runs the job;
// a cached one is answered at once (as a stream when asked). A client that goes away cancels
// its job (its LM call is aborted).
import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import {
  ChatCompletionSchema,
  PredictqError,
  chatCacheRequest,
  chatFromEntry,
  chatMaxTokens,
  chatMessagesText,
  completionChunks,
  decodeJobError,
  estimatePromptTokens,
  relayKey,
  type ChatJobData,
  type ChatResult,
  type Clock,
  type Config,
  type CacheSavings,
  type CostTracker,
  type Metrics,
  type RelayEvent,
  type RelayReader,
  type TieredCache,
} from '@predictq/core';
import { parseChatRequest } from '../chat-request.js';
import type { PredictionQueues } from '../prediction-queues.js';
import { waitForJob } from '../wait-for-job.js';

export interface ChatRoutesDeps {
  config: Config;
  queues: PredictionQueues;
  relay: RelayReader;
  cost: CostTracker;
  /** Where a fast-path answer's saving is counted. */
  savings: Pick<CacheSavings, 'add'>;
  cache: TieredCache | undefined;
  metrics: Metrics;
  clock: Clock;
  /** Asks the workers to abort a running job. */
  cancelRunning(jobId: string): Promise<unknown>;
}

const CACHE_MODES = new Set(['default', 'no-store', 'refresh']);

/** `x-predictq-cache: no-store | refresh` on a request: predictq's cache control for SDK clients. */
function cacheMode(req: Request): ChatJobData['cache'] {
  const value = req.get('x-predictq-cache');
  if (value === undefined) return 'default';
  if (!CACHE_MODES.has(value)) throw new PredictqError('invalid_request', 'x-predictq-cache must be "default", "no-store" or "refresh"', { details: { field: 'x-predictq-cache' } });
  return value as ChatJobData['cache'];
}

/** Chunks as the client asked: the usage chunk and the usage fields only with include_usage. */
function forClient(chunks: unknown[], includeUsage: boolean): unknown[] {
  if (includeUsage) return chunks;
  return chunks.flatMap((chunk) => {
    const { usage, ...rest } = chunk as { usage?: unknown; choices?: unknown[] };
    if (usage && Array.isArray(rest.choices) && rest.choices.length === 0) return [];
    return [rest];
  });
}

/** A job's failure as the client sees it (codes read back from Redis are checked, not trusted). */
function asError(error: { code: string; message: string }): PredictqError {
  const decoded = decodeJobError(`${error.code}: ${error.message}`);
  return new PredictqError(decoded.code, decoded.message);
}

function startEvents(res: Response, cache: string): void {
  res.status(200).set({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-predictq-cache': cache });
  res.flushHeaders();
}

function writeChunks(res: Response, chunks: unknown[]): void {
  for (const chunk of chunks) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
}

function endEvents(res: Response, costUsd: number): void {
  // Headers are long gone by the end of a stream: the cost travels as an SSE comment.
  res.write(`: x-predictq-cost-usd ${costUsd}\n\n`);
  res.end('data: [DONE]\n\n');
}

export function chatRoutes(deps: ChatRoutesDeps): Router {
  const { config, queues } = deps;
  const router = Router();

  /** The client left: a queued job is removed, a running one aborted. */
  async function abandon(id: string): Promise<void> {
    const snapshot = await queues.snapshot(id).catch(() => undefined);
    if (snapshot?.state === 'queued' && (await queues.remove(id, snapshot.job.data.route).catch(() => false))) return;
    if (snapshot?.state === 'queued' || snapshot?.state === 'active') await deps.cancelRunning(id).catch(() => undefined);
  }

  function answerWhole(res: Response, result: ChatResult): void {
    res.set({ 'x-predictq-cache': result.cache.level ?? 'miss', 'x-predictq-cost-usd': String(result.cost_usd) }).json(result.completion);
  }

  function answerReplayed(res: Response, result: ChatResult, includeUsage: boolean): void {
    startEvents(res, result.cache.level ?? 'miss');
    writeChunks(res, forClient(completionChunks(result.completion), includeUsage));
    endEvents(res, result.cost_usd);
  }

  /** The job's stored outcome once it finished, as a relay event (a dead worker may have written none). */
  async function finished(id: string): Promise<RelayEvent | { type: 'result'; result: ChatResult } | undefined> {
    const snapshot = await queues.snapshot<ChatJobData>(id).catch(() => undefined);
    if (snapshot?.state === 'failed') return { type: 'error', error: decodeJobError(snapshot.job.failedReason) };
    if (snapshot?.state === 'completed') return { type: 'result', result: snapshot.job.returnvalue as ChatResult };
    if (!snapshot) return { type: 'error', error: { code: 'cancelled', message: 'the chat completion was cancelled' } };
    return undefined;
  }

  async function relayStream(res: Response, id: string, includeUsage: boolean, signal: AbortSignal): Promise<void> {
    let started = false;
    for await (const read of deps.relay.read(relayKey(config.key_prefix, id), signal)) {
      const event = read.type === 'idle' ? await finished(id) : read;
      if (!event) continue;
      if (event.type === 'result') {
        if (!started) return answerReplayed(res, event.result, includeUsage);
        return endEvents(res, event.result.cost_usd);
      }
      if (event.type === 'start') {
        startEvents(res, event.cache);
        started = true;
      } else if (event.type === 'chunks') {
        writeChunks(res, forClient(event.chunks, includeUsage));
      } else if (event.type === 'end') {
        return endEvents(res, event.cost_usd);
      } else if (event.type === 'error') {
        const error = asError(event.error);
        if (!started) throw error;
        // Mid-stream, OpenAI's SDKs read an error event and throw it.
        res.write(`data: ${JSON.stringify({ error: { message: error.message, type: 'server_error', param: null, code: error.code } })}\n\n`);
        return void res.end();
      }
    }
  }

  router.post('/v1/chat/completions', async (req, res) => {
    const tenant = req.tenant!;
    const requestId = res.getHeader('x-request-id') as string;
    const now = deps.clock.now();
    const { data, route, includeUsage } = parseChatRequest(config, req.body, {
      tenant,
      requestId,
      now,
      cache: cacheMode(req),
      budgeted: deps.cost.budgets.applies(tenant),
    });
    const id = `chat_${randomUUID().replaceAll('-', '')}`;

    const request = chatCacheRequest(config, data, route);
    if (deps.cache && request && request.mode === 'default' && config.cache.producer_fast_path) {
      const found = await deps.cache.peek(request, ChatCompletionSchema);
      if (found) {
        deps.metrics.cacheHits.inc({ level: found.level });
        const result = chatFromEntry({ job: { jobId: id, enqueuedAt: now, lastAttempt: true }, route, startedAt: now }, found.entry, found.level, deps.clock.now());
        deps.savings.add({ tenant, model: route.model, route: route.name, variant: null, usage: result.usage });
        return data.stream ? answerReplayed(res, result, includeUsage) : answerWhole(res, result);
      }
    }
    if (deps.cost.budgets.applies(tenant)) {
      await deps.cost.precheck(tenant, route.model, estimatePromptTokens(chatMessagesText(data.body)), chatMaxTokens(data.body, route));
    }
    await queues.addChat(id, data);

    const gone = new AbortController();
    res.on('close', () => {
      if (res.writableFinished) return;
      gone.abort();
      void abandon(id);
    });
    if (data.stream) return relayStream(res, id, includeUsage, gone.signal);

    await waitForJob(queues, route.name, id, config.http.chat_timeout_s * 1000, gone.signal);
    const event = await finished(id);
    if (event?.type === 'result') return answerWhole(res, event.result);
    if (event?.type === 'error') throw asError(event.error);
    throw new PredictqError('deadline_exceeded', `the chat completion did not finish within ${config.http.chat_timeout_s} s (http.chat_timeout_s)`);
  });

  return router;
}
