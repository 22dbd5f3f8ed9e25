// DSPy's JSONAdapter.format: the ChatAdapter's messages, except that outputs are described as
// one JSON object (indented, as json.dumps(..., indent=2) writes it), demos answer with that
// object, and the request closes by asking for it. DSPy falls back to this rendering when a
// ChatAdapter reply does not parse.

import type { ChatMessage } from '../lm/index.js';
import { pyJsonDumpsIndent } from './python-format.js';
import { pyStrip } from './python-text.js';
import { has, renderMessages, sections, STRUCTURE_INTRO, type AdapterFormat, type RenderOptions } from './render-chat.js';
import { outputPlaceholder } from './type-hints.js';
import type { Signature } from './types.js';

export const JSON_FORMAT: AdapterFormat = {
  structure: (sig) =>
    pyStrip(
    [
      STRUCTURE_INTRO,
      'Inputs will have the following structure:',
      sections(sig.inputs.map((f) => [f.name, `{${f.name}}`])),
      'Outputs will be a JSON object with the following fields.',
      pyJsonDumpsIndent(Object.fromEntries(sig.outputs.map((f) => [f.name, outputPlaceholder(f)]))),
    ]
      .join('\n\n'),
    ),
  assistant: (sig, values, missing) =>
    pyJsonDumpsIndent(Object.fromEntries(sig.outputs.map((f) => [f.name, has(values, f.name) ? values[f.name] : missing]))),
  requirements: (sig) => {
    const fields = sig.outputs.map((f) => {
      const hint = f.type.kind === 'str' ? '' : ` (must be formatted as a valid Python ${f.annotation})`;
      return `\`${f.name}\`${hint}`;
    });
    return `Respond with a JSON object in the following order of fields: ${fields.join(', then ')}.`;
  },
};

export function renderJson(sig: Signature, inputs: Record<string, unknown>, options: RenderOptions = {}): ChatMessage[] {
  return renderMessages(JSON_FORMAT, sig, inputs, options);
}
