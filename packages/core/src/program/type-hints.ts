// How ChatAdapter tells the LM what type an output must have: the note after an output's
// placeholder in the system message (utils.translate_field_type) and the reminder in the
// user message (ChatAdapter.user_message_output_requirements).

import { jsonSchemaOf } from './json-schema.js';
import { pyJsonDumps, pyStr } from './python-format.js';
import type { Field, Signature } from './types.js';

/** `{answer}` for strings, `{score}        # note: the value you produce must be ...` otherwise. */
export function outputPlaceholder(field: Field): string {
  const note = typeNote(field);
  return note === '' ? `{${field.name}}` : `{${field.name}}${' '.repeat(8)}# note: the value you produce ${note}`;
}

function typeNote(field: Field): string {
  const { type } = field;
  switch (type.kind) {
    case 'str':
      return '';
    case 'bool':
      return 'must be True or False';
    case 'int':
    case 'float':
      return `must be a single ${type.kind} value`;
    case 'literal':
      return `must exactly match (no extra characters) one of: ${type.values.map(pyStr).join('; ')}`;
    default:
      return `must adhere to the JSON schema: ${pyJsonDumps(jsonSchemaOf(type))}`;
  }
}

/** The closing line of every real request's user message. */
export function outputRequirements(sig: Signature): string {
  const fields = sig.outputs.map((f) => {
    const hint = f.type.kind === 'str' ? '' : ` (must be formatted as a valid Python ${f.annotation})`;
    return `\`[[ ## ${f.name} ## ]]\`${hint}`;
  });
  return (
    `Respond with the corresponding output fields, starting with the field ${fields.join(', then ')}, ` +
    'and then ending with the marker for `[[ ## completed ## ]]`.'
  );
}
