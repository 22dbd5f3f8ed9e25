import { describe, expect, it } from 'vitest';
import { ERROR_CODES, PredictqError } from '@predictq/core';
import { OPENAI_ERRORS, isOpenAIPath, openAIErrorBody } from './openai-errors.js';

describe('OpenAI error shape', () => {
  it('maps every predictq code, with the statuses the SDKs turn into their error classes', () => {
    for (const code of ERROR_CODES) expect(OPENAI_ERRORS[code], code).toBeDefined();
    expect(OPENAI_ERRORS.unauthorized.status).toBe(401);
    expect(OPENAI_ERRORS.unknown_model).toMatchObject({ status: 404, code: 'model_not_found' });
    expect(OPENAI_ERRORS.rate_limited.status).toBe(429);
    expect(OPENAI_ERRORS.budget_exceeded).toMatchObject({ status: 429, code: 'insufficient_quota', final: true });
    expect(openAIErrorBody(new PredictqError('invalid_request', 'messages: too short', { details: { field: 'messages' } }))).toEqual({
      error: { message: 'messages: too short', type: 'invalid_request_error', param: 'messages', code: 'invalid_request' },
    });
  });

  it("covers OpenAI's routes only", () => {
    for (const path of ['/v1/chat/completions', '/v1/models', '/v1/models/x', '/v1/files', '/v1/files/f/content', '/v1/batches', '/v1/batches/b/cancel']) {
      expect(isOpenAIPath(path), path).toBe(true);
    }
    for (const path of ['/v1/predictions', '/v1/predictions/p', '/admin/stats', '/v1/modelsx', '/health']) expect(isOpenAIPath(path), path).toBe(false);
  });
});
