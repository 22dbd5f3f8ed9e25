// The prompt stage, shared by the producer (to validate a request and reuse the rendering) and
// the worker: the job's route, its DSPy module, the chat messages it renders and the sampling
// parameters the LM is sent.
import { routeNamed, type Config, type RouteConfig } from '../config/index.js';
import { ValidationError } from '../errors/index.js';
import type { ChatMessage, SamplingParams } from '../lm/index.js';
import { ChainOfThought, Predict, type AdapterName } from '../program/index.js';
import type { PredictionJobData } from '../queue/index.js';

export interface PreparedPrediction {
  route: RouteConfig;
  module: Predict;
  messages: ChatMessage[];
  /** What the LM is sent: max_tokens defaulted from the route. */
  params: SamplingParams & { max_tokens: number };
}

type ModuleSpec = Pick<PredictionJobData, 'module' | 'signature' | 'instructions' | 'demos' | 'adapter' | 'fields'>;

/**
 * Modules without demos or saved fields, by what defines them: most jobs name one of a few
 * signatures, and a module is immutable, so each is parsed once (bounded; cleared when full).
 */
const PLAIN_MODULES = new Map<string, Predict>();
const MAX_PLAIN_MODULES = 256;

export function buildModule(data: ModuleSpec): Predict {
  if (data.demos.length > 0 || data.fields !== undefined) return newModule(data);
  const key = `${data.module}\u0000${data.adapter ?? ''}\u0000${data.instructions === undefined ? '\u0001' : data.instructions}\u0000${data.signature}`;
  let module = PLAIN_MODULES.get(key);
  if (!module) {
    module = newModule(data);
    if (PLAIN_MODULES.size >= MAX_PLAIN_MODULES) PLAIN_MODULES.clear();
    PLAIN_MODULES.set(key, module);
  }
  return module;
}

function newModule(data: ModuleSpec): Predict {
  const options = {
    ...(data.instructions === undefined ? {} : { instructions: data.instructions }),
    demos: data.demos,
    ...(data.adapter === undefined ? {} : { adapter: data.adapter }),
    ...(data.fields === undefined ? {} : { fields: data.fields }),
  };
  return data.module === 'ChainOfThought' ? new ChainOfThought(data.signature, options) : new Predict(data.signature, options);
}

/** Throws invalid_signature / invalid_input for a bad program or inputs, unknown_model for a route this process lacks. */
export function preparePrediction(config: Config, data: PredictionJobData): PreparedPrediction {
  const route = routeNamed(config, data.route);
  if (!route) throw new ValidationError('unknown_model', `route "${data.route}" is not configured on this process`);
  const module = buildModule(data);
  return {
    route,
    module,
    messages: module.messages(data.inputs),
    params: withAdapterParams(module.adapter, { ...data.params, max_tokens: data.params.max_tokens ?? route.default_max_tokens }),
  };
}

/**
 * JSONAdapter asks for JSON mode (DSPy's path for an LM without structured outputs, and for
 * open-ended dict outputs): the request's own response_format gives way, as in DSPy.
 */
export function withAdapterParams<P extends SamplingParams>(adapter: AdapterName, params: P): P {
  return adapter === 'json' ? { ...params, response_format: { type: 'json_object' } } : params;
}
