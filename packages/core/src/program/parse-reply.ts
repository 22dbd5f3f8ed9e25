// DSPy's ChatAdapter.parse: split a reply into `[[ ## name ## ]]` sections and read each output
// field from the first section with its name. Total over any text: it returns values or throws
// a ParseError (unparseable_reply) naming the field, nothing else.

import { ParseError } from '../errors/index.js';
import { parseFieldValue } from './coerce-value.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.js';
import { pySplitLines, pyStrip } from './python-text.js';
import type { Signature } from './types.js';

// DSPy's header is exactly "[[ ## name ## ]]"; the spaces are loosened because models drift.
const HEADER = /^\[\[[ \t]*##[ \t]*([\p{L}\p{N}_]+)[ \t]*##[ \t]*\]\]/u;
const COMPLETED = 'completed';

export function parseReply(sig: Signature, text: string): Record<string, unknown> {
  const sections = splitSections(typeof text === 'string' ? text : '');
  const values: [string, unknown][] = [];
  for (const field of sig.outputs) {
    const raw = sections.get(field.name);
    if (raw === undefined) {
      // DSPy's apply_output_field_defaults: a missing Optional output is None.
      if (field.type.kind === 'optional') {
        values.push([field.name, null]);
        continue;
      }
      throw new ParseError(`the reply has no [[ ## ${field.name} ## ]] section for output field "${field.name}"`, {
        details: { field: field.name },
      });
    }
    const parsed = parseFieldValue(field.type, raw);
    if (!parsed.ok) {
      throw new ParseError(`output field "${field.name}" is not a valid ${field.annotation}: ${parsed.reason}`, {
        details: { field: field.name },
      });
    }
    // A result is stored and served as JSON; what nests this deep is not an answer.
    if (nestsDeeperThan(parsed.value)) {
      throw new ParseError(`output field "${field.name}" nests deeper than ${MAX_JSON_DEPTH} levels`, { details: { field: field.name } });
    }
    values.push([field.name, parsed.value]);
  }
  return Object.fromEntries(values);
}

/** Section text by header name; the first section of a name wins; reading stops at `completed`. */
function splitSections(text: string): Map<string, string> {
  const sections = new Map<string, string>();
  let name: string | undefined;
  let lines: string[] = [];
  const close = () => {
    if (name !== undefined && !sections.has(name)) sections.set(name, pyStrip(lines.join('\n')));
  };
  for (const line of pySplitLines(text)) {
    const stripped = pyStrip(line);
    const header = HEADER.exec(stripped);
    if (header === null) {
      lines.push(line);
      continue;
    }
    close();
    name = header[1];
    if (name === COMPLETED) return sections;
    // Text after the header on the same line belongs to the section.
    const rest = pyStrip(stripped.slice(header[0].length));
    lines = rest === '' ? [] : [rest];
  }
  close();
  return sections;
}
