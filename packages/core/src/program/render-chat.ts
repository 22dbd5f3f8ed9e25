// DSPy's ChatAdapter.format: a system message that describes the fields and the
// `[[ ## field ## ]]` layout, few-shot demos as user/assistant turns, then the real input.
// Byte-for-byte the same text DSPy sends, so optimized programs see the prompt they were tuned on.
// The JSONAdapter (render-json.ts) shares everything here but the structure section, the
// assistant turns and the closing output requirements, as it does in DSPy (a ChatAdapter subclass).

import type { ChatMessage } from '../lm/index.js';
import { formatFieldValue } from './format-value.js';
import { dedent, pySplitLines, pyStrip } from './python-text.js';
import { outputPlaceholder, outputRequirements } from './type-hints.js';
import type { Demo, Field, Signature } from './types.js';

export interface RenderOptions {
  /** Few-shot examples, by field name. Default: none. */
  demos?: readonly Demo[];
}

/** The parts in which DSPy's adapters differ. */
export interface AdapterFormat {
  /** `format_field_structure`: how inputs and outputs are laid out. */
  structure(sig: Signature): string;
  /** `format_assistant_message_content`: a demo's outputs (`missing` for a field it lacks). */
  assistant(sig: Signature, values: Record<string, unknown>, missing: string): string;
  /** `user_message_output_requirements`: the closing line of the real request. */
  requirements(sig: Signature): string;
}

export const STRUCTURE_INTRO = 'All interactions will be structured in the following way, with the appropriate values filled in.';
const INCOMPLETE_DEMO_PREFIX = 'This is an example of the task, though some input or output fields are not supplied.';
const NOT_SUPPLIED = 'Not supplied for this particular example. ';
const COMPLETED = '[[ ## completed ## ]]';

export const CHAT_FORMAT: AdapterFormat = {
  structure: (sig) =>
    pyStrip(
      [
        STRUCTURE_INTRO,
        sections(sig.inputs.map((f) => [f.name, `{${f.name}}`])),
        sections(sig.outputs.map((f) => [f.name, outputPlaceholder(f)])),
        `${COMPLETED}\n`,
      ].join('\n\n'),
    ),
  assistant: (sig, values, missing) => {
    const body = sig.outputs.map((field) => {
      const value = has(values, field.name) ? values[field.name] : missing;
      return `[[ ## ${field.name} ## ]]\n${formatFieldValue(field, value)}`;
    });
    return `${pyStrip(body.join('\n\n'))}\n\n${COMPLETED}\n`;
  },
  requirements: outputRequirements,
};

export function renderChat(sig: Signature, inputs: Record<string, unknown>, options: RenderOptions = {}): ChatMessage[] {
  return renderMessages(CHAT_FORMAT, sig, inputs, options);
}

export function formatSystemMessage(sig: Signature): string {
  return formatSystemMessageWith(CHAT_FORMAT, sig);
}

/** Adapter.format: system message, demos, then the real input. */
export function renderMessages(
  format: AdapterFormat,
  sig: Signature,
  inputs: Record<string, unknown>,
  options: RenderOptions = {},
): ChatMessage[] {
  return [
    { role: 'system', content: formatSystemMessageWith(format, sig) },
    ...formatDemos(format, sig, options.demos ?? []),
    { role: 'user', content: formatUserMessage(sig, inputs, { requirements: format.requirements(sig) }) },
  ];
}

/**
 * System messages already rendered, per adapter format and signature. A signature is not changed
 * once made, and a module (with its signature) is reused across the requests that name it, so the
 * same text would be rendered again for each: ~3.5% of a cache hit's CPU in the producer. Weakly
 * held: an entry goes with its signature.
 */
const SYSTEM_MESSAGES = new WeakMap<AdapterFormat, WeakMap<Signature, string>>();

function formatSystemMessageWith(format: AdapterFormat, sig: Signature): string {
  let rendered = SYSTEM_MESSAGES.get(format);
  if (!rendered) SYSTEM_MESSAGES.set(format, (rendered = new WeakMap()));
  let text = rendered.get(sig);
  if (text === undefined) rendered.set(sig, (text = renderSystemMessage(format, sig)));
  return text;
}

function renderSystemMessage(format: AdapterFormat, sig: Signature): string {
  const description =
    `Your input fields are:\n${describeFields(sig.inputs)}\n` + `Your output fields are:\n${describeFields(sig.outputs)}`;
  // Each instruction line is indented by eight spaces, blank ones included.
  const objective = ['', ...pySplitLines(dedent(sig.instructions))].join(`\n${' '.repeat(8)}`);
  return `${description}\n${format.structure(sig)}\nIn adhering to this structure, your objective is: ${objective}`;
}

function describeFields(fields: readonly Field[]): string {
  const lines = fields.map((f, i) => {
    const desc = f.desc !== undefined && f.desc !== `\${${f.name}}` ? f.desc : '';
    return `${i + 1}. \`${f.name}\` (${f.annotation}): ${desc}`;
  });
  return pyStrip(lines.join('\n'));
}

/** `[[ ## name ## ]]` sections, as ChatAdapter.format_field_with_value joins them. */
export function sections(pairs: [string, string][]): string {
  return pyStrip(pairs.map(([name, text]) => `[[ ## ${name} ## ]]\n${text}`).join('\n\n'));
}

function formatUserMessage(
  sig: Signature,
  values: Record<string, unknown>,
  { prefix = '', requirements }: { prefix?: string; requirements?: string },
): string {
  const parts = [prefix];
  for (const field of sig.inputs) {
    if (has(values, field.name)) parts.push(`[[ ## ${field.name} ## ]]\n${formatFieldValue(field, values[field.name])}`);
  }
  if (requirements !== undefined) parts.push(requirements);
  return pyStrip(parts.join('\n\n'));
}

/**
 * Complete demos (every field set) follow incomplete ones; an incomplete demo is kept only if
 * it has at least one input and one output, and is flagged as partial (Adapter.format_demos).
 */
function formatDemos(format: AdapterFormat, sig: Signature, demos: readonly Demo[]): ChatMessage[] {
  const all = [...sig.inputs, ...sig.outputs];
  const complete: Demo[] = [];
  const incomplete: Demo[] = [];
  for (const demo of demos) {
    if (all.every((f) => has(demo, f.name) && demo[f.name] !== null)) complete.push(demo);
    else if (sig.inputs.some((f) => has(demo, f.name)) && sig.outputs.some((f) => has(demo, f.name))) incomplete.push(demo);
  }
  return [
    ...incomplete.flatMap((demo): ChatMessage[] => [
      { role: 'user', content: formatUserMessage(sig, demo, { prefix: INCOMPLETE_DEMO_PREFIX }) },
      { role: 'assistant', content: format.assistant(sig, demo, NOT_SUPPLIED) },
    ]),
    ...complete.flatMap((demo): ChatMessage[] => [
      { role: 'user', content: formatUserMessage(sig, demo, {}) },
      { role: 'assistant', content: format.assistant(sig, demo, NOT_SUPPLIED) },
    ]),
  ];
}

// Python's `key in dict`; an undefined value counts as absent, as JSON has no such value.
export function has(values: Record<string, unknown>, key: string): boolean {
  return Object.hasOwn(values, key) && values[key] !== undefined;
}
