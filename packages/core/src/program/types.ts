// The shapes a DSPy-style program is made of: typed fields, signatures and demos.

export type LiteralValue = string | number | boolean;

/**
 * A field's type, as far as a signature string can say it. `any` stands for Python's `Any`
 * and for the missing parameters of a bare `list` or `dict`.
 */
export type FieldType =
  | { kind: 'str' }
  | { kind: 'int' }
  | { kind: 'float' }
  | { kind: 'bool' }
  | { kind: 'any' }
  | { kind: 'list'; items: FieldType }
  | { kind: 'dict'; keys: FieldType; values: FieldType }
  | { kind: 'literal'; values: LiteralValue[] }
  | { kind: 'optional'; inner: FieldType };

export interface Field {
  name: string;
  type: FieldType;
  /** DSPy's rendering of the type (`get_annotation_name`), e.g. "str", "list[str]", "Literal['a', 'b']". */
  annotation: string;
  /** Shown after the field in the system message unless it is DSPy's placeholder `${name}`. */
  desc?: string;
  /** DSPy's field prefix (e.g. "Reasoning:"). Kept for saved state; ChatAdapter never shows it. */
  prefix?: string;
}

export interface Signature {
  inputs: Field[];
  outputs: Field[];
  instructions: string;
}

/** A few-shot example: input and output values by field name. */
export type Demo = Record<string, unknown>;
