// Recognises DSPy adapter prompts and answers in their format, with a value of the declared
// type for every output field. ChatAdapter prompts get `[[ ## field ## ]]` sections ending in
// `[[ ## completed ## ]]`; JSONAdapter prompts (same field list, no output headers) get a JSON
// object.
import type { TokenMessage } from '@predictq/core/tokens';
import { generateValue, parseAnnotation, type SimValue, type TypeNode } from './annotation.js';
import { createPrng, pick, seedFrom } from './prng.js';

export interface OutputField {
  name: string;
  /** The annotation exactly as printed, e.g. `list[str]` or `Literal['yes', 'no']`. */
  type: string;
  description: string;
}

export interface DspyPrompt {
  format: 'chat' | 'json';
  outputs: OutputField[];
  /** Input sections of the last user message, in order. */
  inputs: Array<[name: string, value: string]>;
  system: string;
}

const OUTPUT_FIELDS_HEADING = 'Your output fields are:';
const FIELD_LINE = /^(\d+)\. `([^`]+)` \(/;
const SECTION_END = /^(All interactions will be structured|Your input fields are:|In adhering to this structure|\[\[ ## )/;
const HEADER_LINE = /^\[\[ ## (\w+) ## \]\](.*)$/;
const OUTPUT_REQUIREMENTS = /\n\s*Respond with the corresponding output fields[\s\S]*$/;

/**
 * The DSPy prompt in `messages`, or undefined when the system message (or, without one, the
 * first message) has no "Your output fields are:" list.
 */
export function parseDspyPrompt(messages: readonly TokenMessage[]): DspyPrompt | undefined {
  const instructions = messages.filter((m) => m.role === 'system' || m.role === 'developer');
  // Providers without a system role get the instructions in the first message instead.
  const system = (instructions.length > 0 ? instructions : messages.slice(0, 1)).map((m) => m.content).join('\n\n');
  const outputs = parseOutputFields(system);
  const first = outputs[0];
  if (!first) return undefined;
  const format = system.includes(`[[ ## ${first.name} ## ]]`) ? 'chat' : 'json';
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  return { format, outputs, inputs: parseSections(lastUser?.content ?? ''), system };
}

/** Fields of the numbered "Your output fields are:" block: "N. `name` (type): description". */
export function parseOutputFields(system: string): OutputField[] {
  const start = system.indexOf(OUTPUT_FIELDS_HEADING);
  if (start < 0) return [];
  const fields: OutputField[] = [];
  for (const line of system.slice(start + OUTPUT_FIELDS_HEADING.length).split('\n')) {
    const trimmed = line.trim();
    if (SECTION_END.test(trimmed)) break;
    const match = FIELD_LINE.exec(trimmed);
    // Numbers must run 1, 2, 3...: a numbered list inside a description is not a field.
    if (match && Number(match[1]) === fields.length + 1) {
      const afterParen = match[0].length;
      const close = closingParen(trimmed, afterParen);
      if (close < 0) continue;
      const rest = trimmed.slice(close + 1).replace(/^:\s?/, '');
      fields.push({ name: match[2]!, type: trimmed.slice(afterParen, close).trim(), description: rest.trim() });
    } else if (fields.length > 0 && trimmed.length > 0) {
      const last = fields[fields.length - 1]!;
      last.description = `${last.description}\n${trimmed}`.trim();
    }
  }
  return fields;
}

/** Index of the `)` closing a type annotation; brackets and quoted literals may contain `)`. */
function closingParen(text: string, from: number): number {
  let depth = 1;
  let quote: string | undefined;
  for (let i = from; i < text.length; i += 1) {
    const ch = text[i];
    if (quote) {
      if (ch === '\\') i += 1;
      else if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') quote = ch;
    else if (ch === '(' || ch === '[') depth += 1;
    else if (ch === ')' || ch === ']') {
      depth -= 1;
      if (depth === 0) return ch === ')' ? i : -1;
    }
  }
  return -1;
}

/** `[[ ## name ## ]]` sections of a user message, without the trailing output instructions. */
function parseSections(content: string): Array<[string, string]> {
  const sections: Array<[string, string[]]> = [];
  for (const line of content.replace(OUTPUT_REQUIREMENTS, '').split('\n')) {
    const header = HEADER_LINE.exec(line.trim());
    if (header) sections.push([header[1]!, header[2]!.trim() ? [header[2]!.trim()] : []]);
    else sections[sections.length - 1]?.[1].push(line);
  }
  return sections.map(([name, lines]) => [name, lines.join('\n').trim()]);
}

const ADJECTIVES = ['clear', 'concise', 'careful', 'direct', 'plausible', 'well-supported', 'simple', 'grounded'];
const NOUNS = ['summary', 'conclusion', 'estimate', 'explanation', 'observation', 'result', 'finding', 'answer'];
const REASONING = [
  'Let me think step by step about "%s": the inputs point to a %p.',
  'Considering "%s" carefully, the evidence supports a %p.',
  'Breaking "%s" into parts leads to a %p.',
];
const SENTENCES = ['Simulated %n for "%s": a %p.', 'Regarding "%s", the %n is a %p.', 'The %n to "%s" is a %p.'];

/** A short one-line excerpt of `text` for use inside generated sentences. */
export function topicOf(text: string, max = 60): string {
  const flat = text.replace(/\s+/g, ' ').replace(/"/g, "'").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat || 'the request';
}

/** How to bend an answer (faults.ts): without markers, or every string changed or rewritten. */
export interface ReplyStyle {
  unformatted?: boolean;
  fate?: 'same' | 'diverge' | 'vary';
}

/** The reply a DSPy program expects; `seed` (derived from the request) fixes every choice. */
export function dspyReply(prompt: DspyPrompt, seed: string, style: ReplyStyle = {}): string {
  const topic = topicOf(prompt.inputs.find(([, value]) => value.length > 0)?.[1] ?? '');
  const bend = (value: SimValue): SimValue => {
    if (typeof value !== 'string') return value;
    if (style.fate === 'diverge') return `Alternatively: ${value}`;
    if (style.fate === 'vary') return value.toUpperCase().replace(/ /g, '  ');
    return value;
  };
  const values = prompt.outputs.map((field) => [field.name, bend(fieldValue(prompt, field, topic, seed))] as const);
  if (prompt.format === 'json') return JSON.stringify(Object.fromEntries(values));
  if (style.unformatted) return values.map(([, value]) => renderPython(value)).join('\n\n');
  const sections = values.map(([name, value]) => `[[ ## ${name} ## ]]\n${renderPython(value)}`);
  return [...sections, '[[ ## completed ## ]]'].join('\n\n');
}

function fieldValue(prompt: DspyPrompt, field: OutputField, topic: string, seed: string): SimValue {
  const rand = createPrng(seedFrom(`${seed}:${field.name}`));
  const phrase = (): string => `${pick(rand, ADJECTIVES)} ${pick(rand, NOUNS)}`;
  const note = fieldNote(prompt.system, field.name);
  const sentence = (): string => {
    const templates = /^(reasoning|rationale|thought|thinking)/i.test(field.name) ? REASONING : SENTENCES;
    return pick(rand, templates)
      .replace('%n', () => field.name.replace(/_/g, ' '))
      .replace('%s', () => topic)
      .replace('%p', phrase);
  };
  return generateValue(typeOf(field, note), { rand, phrase, schema: note.schema }, sentence);
}

/** The annotation, or the choices DSPy printed for an Enum class it names only by class name. */
function typeOf(field: OutputField, note: FieldNote): TypeNode {
  if (note.choices) return { name: 'Literal', args: note.choices.map((literal) => ({ literal })) };
  return parseAnnotation(field.type);
}

interface FieldNote {
  schema?: unknown;
  choices?: string[];
}

/** The structure section's `{name}  # note: the value you produce must ...` hint. */
function fieldNote(system: string, name: string): FieldNote {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const note = new RegExp(`\\{${escaped}\\}"?[ \\t]+# note: the value you produce (.+)$`, 'm').exec(system)?.[1];
  if (!note) return {};
  const schema = /must adhere to the JSON schema: (.+)$/.exec(note)?.[1];
  if (schema) {
    try {
      return { schema: JSON.parse(schema) as unknown };
    } catch {
      return {};
    }
  }
  const choices = /^must be one of: (.+)$/.exec(note)?.[1];
  return choices ? { choices: choices.split('; ').map((c) => c.trim()) } : {};
}

/** Values as DSPy's parser reads them: bare strings, Python booleans, JSON for containers. */
function renderPython(value: SimValue): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null) return 'None';
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value);
}
