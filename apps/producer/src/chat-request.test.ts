// What POST /v1/chat/completions checks before queueing, and what it passes on untouched.
import { describe, expect, it } from 'vitest';
import { loadConfig, type ErrorCode } from '@predictq/core';
import { parseChatRequest } from './chat-request.js';

const config = loadConfig({}, { routes: [{ name: 'fast', model: 'sim-small', base_url: 'http://127.0.0.1:1/v1' }], http: { chat_timeout_s: 30 } });
const context = { tenant: 'acme', requestId: 'r', now: 1_000, cache: 'default' as const, budgeted: false };

function codeOf(body: unknown, budgeted = false): ErrorCode | undefined {
  try {
    parseChatRequest(config, body, { ...context, budgeted });
    return undefined;
  } catch (err) {
    return (err as { code: ErrorCode }).code;
  }
}

describe('chat completion requests', () => {
  it('passes everything but stream and stream_options to the job as it came, on the route the model names', () => {
    const body = {
      model: 'fast',
      messages: [{ role: 'user', content: 'hi' }],
      tools: [{ type: 'function', function: { name: 'f', parameters: {} } }],
      response_format: { type: 'json_object' },
      logprobs: true,
      top_k: 4,
      stream: true,
      stream_options: { include_usage: true },
    };
    const { data, route, includeUsage } = parseChatRequest(config, body, context);
    expect(route.name).toBe('fast');
    expect(includeUsage).toBe(true);
    expect(data).toMatchObject({ kind: 'chat', tenant: 'acme', route: 'fast', model: 'sim-small', stream: true, deadline_at: 31_000 });
    const { stream: _s, stream_options: _o, ...passed } = body;
    expect(data.body).toEqual(passed);
  });

  it('refuses what the LM could not take, with the field named', () => {
    expect(codeOf({ model: 'sim-small', messages: [] })).toBe('invalid_request');
    expect(codeOf({ messages: [{ role: 'user', content: 'x' }] })).toBe('invalid_request');
    expect(codeOf({ model: 'nope', messages: [{ role: 'user', content: 'x' }] })).toBe('unknown_model');
    expect(codeOf(null)).toBe('invalid_request');
    let deep: unknown = 'x';
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(codeOf({ model: 'sim-small', messages: [{ role: 'user', content: deep }] })).toBe('nesting_too_deep');
  });

  it('asks for a token ceiling when a budget applies, so the worst case can be reserved', () => {
    const body = { model: 'sim-small', messages: [{ role: 'user', content: 'x' }] };
    expect(codeOf(body, false)).toBeUndefined();
    expect(codeOf(body, true)).toBe('invalid_request');
    expect(codeOf({ ...body, max_completion_tokens: 100 }, true)).toBeUndefined();
    expect(codeOf({ ...body, max_tokens: 100 }, true)).toBeUndefined();
  });
});
