// The simulator as an express app: OpenAI-compatible routes plus /sim control routes.
// Never listens; startSim() and main.ts do.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { promptKeyOf, simulateCompletion } from './completion.js';
import { faultsPatchSchema } from './faults.js';
import { sendOpenAIError } from './openai-error.js';
import { streamCompletion } from './stream.js';
import { resolveSimOptions, type SimOptions } from './options.js';
import { chatCompletionRequestSchema } from './request-schema.js';
import { SimState } from './sim-state.js';

export interface SimApp {
  app: Express;
  state: SimState;
}

/** Request bodies of DSPy programs with many demos are large. */
const BODY_LIMIT = '20mb';
const MAX_LATENCY_MS = 3_600_000;
/** Fixed so GET /v1/models answers the same every time. */
const MODEL_CREATED = 1_700_000_000;
const REQUEST_ID = /^[\w.:-]{1,128}$/;

interface ChatLocals {
  /** Aborted when the client goes away (or the simulator shuts down). */
  signal: AbortSignal;
}

export function createSimApp(options: SimOptions = {}): SimApp {
  const state = new SimState(resolveSimOptions(options));
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const json = express.json({ limit: BODY_LIMIT });

  app.use((req, res, next) => {
    const incoming = req.get('x-request-id');
    res.set('x-request-id', incoming && REQUEST_ID.test(incoming) ? incoming : `req_${randomUUID().replace(/-/g, '')}`);
    next();
  });

  app.post('/v1/chat/completions', admit(state), json, (req, res) => handleChat(state, req, res));

  app.get('/v1/models', (_req, res) => {
    res.json({ object: 'list', data: state.models.map(modelObject) });
  });
  app.get('/v1/models/:id', (req, res) => {
    res.json(modelObject(String(req.params.id)));
  });

  app.get('/sim/stats', (_req, res) => {
    res.json(state.stats.snapshot());
  });
  app.get('/sim/requests', (_req, res) => {
    res.json({ data: state.requests.recent() });
  });
  app.post('/sim/reset', (_req, res) => {
    state.reset();
    res.json({ ok: true });
  });
  app.get('/sim/faults', (_req, res) => {
    res.json(state.faults.current);
  });
  app.put('/sim/faults', json, (req, res) => {
    const patch = faultsPatchSchema.safeParse(req.body ?? {});
    if (!patch.success) {
      sendOpenAIError(res, 400, { code: 'invalid_faults', message: z.prettifyError(patch.error) });
      return;
    }
    res.json(state.faults.update(patch.data));
  });
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.use((req, res) => {
    sendOpenAIError(res, 404, { code: 'unknown_url', message: `Invalid URL (${req.method} ${req.path})` });
  });
  app.use(errorHandler(state));
  return { app, state };
}

/** Counts the request before its body is read, and ties its waits to the connection. */
function admit(state: SimState): RequestHandler {
  return (_req, res, next) => {
    state.stats.received();
    const controller = new AbortController();
    const untrack = state.track(controller);
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
      untrack();
      state.stats.left();
    });
    (res.locals as ChatLocals).signal = controller.signal;
    next();
  };
}

async function handleChat(state: SimState, req: Request, res: Response): Promise<void> {
  const { signal } = res.locals as ChatLocals;
  const { stats } = state;
  const body: unknown = req.body;
  const model = (body as { model?: unknown } | undefined)?.model;
  if (typeof model === 'string' && model.length > 0) stats.model(model);
  const faults = state.faults.forModel(typeof model === 'string' ? model : undefined);

  if (faults.outage) {
    stats.outcome('outage');
    sendOpenAIError(res, faults.outage_status);
    return;
  }

  const parsed = chatCompletionRequestSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    stats.outcome('bad_request');
    sendOpenAIError(res, 400, {
      code: issue?.code === 'invalid_type' && issue.input === undefined ? 'missing_required_parameter' : 'invalid_value',
      param: issue?.path.join('.') || null,
      message: z.prettifyError(parsed.error),
    });
    return;
  }
  const request = parsed.data;
  const latencyOverride = parseLatencyHeader(req.get('x-sim-latency-ms'));
  if (latencyOverride === 'invalid') {
    stats.outcome('bad_request');
    sendOpenAIError(res, 400, {
      code: 'invalid_header',
      param: 'x-sim-latency-ms',
      message: `x-sim-latency-ms must be a number of milliseconds between 0 and ${MAX_LATENCY_MS}.`,
    });
    return;
  }

  const roll = state.faults.roll(request.model);
  if (roll === 'hang') {
    stats.outcome('hang');
    await untilAborted(signal);
    return;
  }
  if (roll === 'rate_limited' || roll === 'error') {
    if (!(await wait(latencyOverride ?? faults.latency_ms, signal))) {
      stats.outcome('aborted');
      return;
    }
    if (roll === 'rate_limited') {
      stats.outcome('rate_limited');
      res.set({
        'retry-after': String(Math.ceil(faults.retry_after_s)),
        'retry-after-ms': String(Math.round(faults.retry_after_s * 1000)),
        'x-ratelimit-remaining-requests': '0',
      });
      sendOpenAIError(res, 429);
    } else {
      stats.outcome('error');
      sendOpenAIError(res, faults.error_status);
    }
    return;
  }

  const style = state.faults.answerStyle(request.model, promptKeyOf(request));
  const completion = simulateCompletion(request, state.clock.now(), style);
  const { prompt_tokens, completion_tokens } = completion.usage;
  if (request.stream) {
    // The base latency is the time to the first token; each piece then takes its own.
    const finished =
      (await wait(latencyOverride ?? faults.latency_ms, signal)) &&
      (await streamCompletion(res, completion, {
        includeUsage: request.stream_options?.include_usage === true,
        pause: () => wait(latencyOverride === undefined ? faults.latency_per_token_ms : 0, signal),
      }));
    if (!finished) {
      stats.outcome('aborted');
      res.end();
      return;
    }
    stats.served(request.model, prompt_tokens, completion_tokens);
    state.requests.record(request);
    return;
  }
  const latency = latencyOverride ?? faults.latency_ms + faults.latency_per_token_ms * completion_tokens;
  if (!(await wait(latency, signal))) {
    stats.outcome('aborted');
    return;
  }
  stats.served(request.model, prompt_tokens, completion_tokens);
  if (style.fate !== 'same') stats.answered(request.model, style.fate === 'diverge' ? 'diverged' : 'varied');
  if (style.unformatted) stats.answered(request.model, 'unformatted');
  state.requests.record(request);
  res.json(completion);
}

function parseLatencyHeader(value: string | undefined): number | undefined | 'invalid' {
  if (value === undefined || value.trim() === '') return undefined;
  const ms = Number(value);
  return Number.isFinite(ms) && ms >= 0 && ms <= MAX_LATENCY_MS ? ms : 'invalid';
}

/** Resolves true after `ms`, or false as soon as the client is gone. */
async function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await sleep(ms, undefined, { signal, ref: false });
    return true;
  } catch {
    return false;
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function modelObject(id: string): { id: string; object: 'model'; created: number; owned_by: string } {
  return { id, object: 'model', created: MODEL_CREATED, owned_by: 'lm-sim' };
}

interface HttpError {
  status?: number;
  type?: string;
  expose?: boolean;
  message?: string;
}

/** Body-parser failures become OpenAI-style 4xx; anything else a bare 500, never a stack. */
function errorHandler(state: SimState): ErrorRequestHandler {
  return (err: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const e = (err ?? {}) as HttpError;
    const status = typeof e.status === 'number' && e.status >= 400 && e.status < 600 ? e.status : 500;
    const isChat = (res.locals as Partial<ChatLocals>).signal !== undefined;
    if (e.type === 'request.aborted') {
      // The client left while sending its body: nobody to answer.
      if (isChat) state.stats.outcome('aborted');
      return;
    }
    if (isChat) state.stats.outcome(status < 500 ? 'bad_request' : 'error');
    if (e.type === 'entity.parse.failed') {
      sendOpenAIError(res, 400, {
        code: 'invalid_json',
        message: 'We could not parse the JSON body of your request. The body must be valid JSON.',
      });
    } else if (status < 500) {
      sendOpenAIError(res, status, { message: e.expose && e.message ? e.message : undefined });
    } else {
      sendOpenAIError(res, 500, { message: 'The LM simulator failed unexpectedly.' });
    }
  };
}
