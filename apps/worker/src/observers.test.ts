// The worker's prediction log line and metrics, driven by pipeline events (no Redis, no LM):
// lengths by default, payloads only when configured, requeues apart from failures, model labels
// bounded.
import { describe, expect, it } from 'vitest';
import {
  PipelineEvents,
  PredictqError,
  WaitError,
  createMetrics,
  type PredictionJobData,
} from '@predictq/core';
import { capture } from '../../../test/utils/capture-logs.js';
import { predictionJobData, predictionResult } from '../../../test/utils/job-data.js';
import { observePipeline, type ObserverConfig } from './observers.js';

const CONFIG: ObserverConfig = {
  routes: [{ name: 'default', model: 'sim-small', base_url: 'http://127.0.0.1:1/v1', timeout_ms: 1000, concurrency: 1, default_max_tokens: 16 }],
  logging: { log_payloads: false },
} as unknown as ObserverConfig;

const DATA: PredictionJobData = predictionJobData({ tenant: 'acme', inputs: { question: 'the secret plan' } });

const RESULT = predictionResult({
  outputs: { answer: 'the hidden answer' },
  usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 },
  cost_usd: 0.0002,
  timings: { queue_ms: 4, lm_ms: 20, total_ms: 25 },
});

async function flush(): Promise<void> {
  await new Promise((r) => setImmediate(r));
}

describe('worker prediction log line', () => {
  it('logs lengths, not inputs and outputs, by default', async () => {
    const { lines, raw, logger } = capture();
    const events = new PipelineEvents();
    const metrics = createMetrics({ defaultMetrics: false });
    observePipeline(events, metrics, logger, CONFIG);
    events.emit('prediction:outcome', { jobId: 'pred_1', data: DATA, outcome: { kind: 'ok', result: RESULT }, durationMs: 25 });
    await flush();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: 'prediction',
      job_id: 'pred_1',
      request_id: 'req-1',
      route: 'default',
      variant: null,
      cache: 'miss',
      prompt_tokens: 12,
      completion_tokens: 3,
      cost_usd: 0.0002,
      duration_ms: 25,
      outcome: 'succeeded',
      input_chars: JSON.stringify(DATA.inputs).length,
      output_chars: JSON.stringify(RESULT.outputs).length,
    });
    expect(raw.join('\n')).not.toContain('secret plan');
    expect(raw.join('\n')).not.toContain('hidden answer');
  });

  it('logs inputs and outputs when logging.log_payloads is on', async () => {
    const { lines, logger } = capture();
    const events = new PipelineEvents();
    observePipeline(events, createMetrics({ defaultMetrics: false }), logger, { ...CONFIG, logging: { log_payloads: true } });
    events.emit('prediction:outcome', { jobId: 'pred_2', data: DATA, outcome: { kind: 'ok', result: RESULT }, durationMs: 25 });
    events.emit('prediction:outcome', { jobId: 'pred_3', data: DATA, outcome: { kind: 'fail', error: new PredictqError('lm_client_error', 'bad') }, durationMs: 5 });
    await flush();
    expect(lines[0]).toMatchObject({ inputs: DATA.inputs, outputs: RESULT.outputs });
    expect(lines[1]).toMatchObject({ msg: 'prediction failed', inputs: DATA.inputs, error_code: 'lm_client_error' });
  });

  it('counts a wait as requeued, not failed, and keeps model labels to configured models', async () => {
    const { lines, logger } = capture();
    const events = new PipelineEvents();
    const metrics = createMetrics({ defaultMetrics: false });
    observePipeline(events, metrics, logger, CONFIG);
    const wait = new WaitError('lm_circuit_open', 'open', 1500, 'circuit_open');
    events.emit('prediction:outcome', { jobId: 'pred_4', data: DATA, outcome: { kind: 'wait', until: 1500, reason: 'circuit_open', error: wait }, durationMs: 1 });
    events.emit('prediction:outcome', {
      jobId: 'pred_5',
      data: { ...DATA, route: 'nope', model: 'made-up-model' },
      outcome: { kind: 'fail', error: new PredictqError('unknown_model', 'no') },
      durationMs: 1,
    });
    await flush();
    expect(lines[0]).toMatchObject({ msg: 'prediction requeued', level: 30, outcome: 'requeued', error_code: 'lm_circuit_open', wait_reason: 'circuit_open', delay_ms: 1500 });
    expect(lines[1]).toMatchObject({ msg: 'prediction failed', level: 40, outcome: 'failed', error_code: 'unknown_model' });
    const text = await metrics.registry.metrics();
    expect(text).toContain('dspy_predictions_total{model="sim-small",status="requeued"} 1');
    expect(text).toContain('dspy_lm_waits_total{route="default",reason="circuit_open"} 1');
    expect(text).toContain('dspy_predictions_total{model="other",status="failed"} 1');
    expect(text).not.toContain('made-up-model');
  });
});
