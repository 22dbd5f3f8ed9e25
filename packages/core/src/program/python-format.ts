// How Python prints values: str() and json.dumps() (default separators, ensure_ascii=False).
// DSPy renders input values and JSON schemas this way, so booleans read "True", missing
// values "None", and JSON has a space after every ":" and ",".

/** Python's repr of a float (shortest round-trip digits; exponent below 1e-4 and from 1e16). */
export function pyNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (Number.isSafeInteger(n)) return String(n);
  const [mantissa = '0', expText = '0'] = n.toExponential().split('e');
  const exp = Number(expText);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    return `${sign}${whole}.${digits.slice(exp + 1) || '0'}`;
  }
  const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  const expSign = exp < 0 ? '-' : '+';
  return `${sign}${head}e${expSign}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** Python's str() of a JSON-like value. */
export function pyStr(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return pyNumber(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null || value === undefined) return 'None';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return pyJsonDumps(value);
  return String(value);
}

/** json.dumps(value, ensure_ascii=False) with Python's default separators. */
export function pyJsonDumps(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
    return pyNumber(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(pyJsonDumps).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${pyJsonDumps(v)}`).join(', ')}}`;
  }
  return JSON.stringify(String(value));
}

/** json.dumps(value, indent=n, ensure_ascii=False): one item per line, "," ending each but the last. */
export function pyJsonDumpsIndent(value: unknown, indent = 2, level = 0): string {
  const pad = (depth: number) => ' '.repeat(indent * depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((item) => `${pad(level + 1)}${pyJsonDumpsIndent(item, indent, level + 1)}`);
    return `[\n${items.join(',\n')}\n${pad(level)}]`;
  }
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const items = entries.map(([k, v]) => `${pad(level + 1)}${JSON.stringify(k)}: ${pyJsonDumpsIndent(v, indent, level + 1)}`);
    return `{\n${items.join(',\n')}\n${pad(level)}}`;
  }
  return pyJsonDumps(value);
}
